// The editor's helpers: live preview (rendered by the server, same code as the site), autosave
// every few seconds, and the slug suggested from the headline. Without JavaScript the editor
// still works: the form posts and the server does all of this on save.
(() => {
  const form = document.querySelector('form.editor');
  if (!form) return;
  const csrf = form.querySelector('input[name=_csrf]').value;
  const body = form.querySelector('#body');
  const headline = form.querySelector('#headline');
  const slug = form.querySelector('#slug');

  const status = document.createElement('p');
  status.className = 'autosave-status';
  status.setAttribute('role', 'status');
  form.querySelector('.side-col fieldset').appendChild(status);

  // Live preview.
  const heading = document.createElement('h2');
  heading.className = 'preview-heading';
  heading.textContent = 'Preview';
  const pane = document.createElement('div');
  pane.className = 'preview-pane';
  form.querySelector('.main-col').append(heading, pane);
  let timer;
  const render = async () => {
    try {
      const r = await fetch('/admin/preview', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ body: body.value }),
      });
      if (r.ok) pane.innerHTML = (await r.json()).html; // sanitized by the server
    } catch { /* offline: keep the last preview */ }
  };
  body.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(render, 300); });
  render();

  // Slug suggestion, as the server derives it when the field is left empty.
  const slugify = (s) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/['\u2019]/g, '').replace(/&/g, ' and ').replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '').slice(0, 80).replace(/-[^-]*$/, (m) => (m.length > 1 ? m : ''));
  const suggest = () => { slug.placeholder = slugify(headline.value) || 'from the headline'; };
  headline.addEventListener('input', suggest);
  suggest();

  // Autosave: at most a few seconds of typing can be lost.
  let dirty = false;
  let saving = false;
  form.addEventListener('input', (e) => { if (e.target.type !== 'file') dirty = true; });
  form.addEventListener('submit', () => { dirty = false; });
  setInterval(async () => {
    if (!dirty || saving || !headline.value.trim()) return;
    saving = true;
    dirty = false;
    const id = form.dataset.id;
    const url = id ? `/admin/articles/${id}/autosave` : '/admin/articles/autosave';
    try {
      const r = await fetch(url, { method: 'POST', body: new URLSearchParams(new FormData(form)) });
      if (r.ok) {
        const j = await r.json();
        if (!id) {
          form.dataset.id = j.id;
          form.action = j.action;
          form.querySelector('input[name=version]').value = j.version;
          history.replaceState(null, '', j.action);
        }
        status.textContent = `Draft kept at ${j.saved_at}`;
      } else {
        dirty = true;
        status.textContent = await r.text();
      }
    } catch {
      dirty = true;
      status.textContent = 'Offline: your latest text is not kept yet.';
    }
    saving = false;
  }, 4000);
  window.addEventListener('beforeunload', (e) => { if (dirty) e.preventDefault(); });

  // "Insert a picture": a dialog over the library that puts a figure (the picture with its
  // caption and credit, as Markdown) where the cursor is. Without scripts the link opens the
  // library, which shows each picture's figure to copy.
  const opener = document.querySelector('[data-insert-picture]');
  if (opener && window.HTMLDialogElement && window.DOMParser) {
    const dialog = document.createElement('dialog');
    dialog.className = 'picture-picker';
    dialog.setAttribute('aria-labelledby', 'picker-heading');
    dialog.innerHTML = '<form method="dialog" class="picker-head"><h2 id="picker-heading">Insert a picture</h2>'
      + '<button type="submit" class="secondary" value="close">Close</button></form>'
      + '<form class="picker-search" role="search"><label for="picker-q">Search the library</label>'
      + '<input id="picker-q" type="search"><button type="submit">Search</button></form>'
      + '<ul class="picker-grid" aria-live="polite"></ul>';
    document.body.appendChild(dialog);
    const grid = dialog.querySelector('.picker-grid');
    const q = dialog.querySelector('#picker-q');
    let at = 0;
    const insert = (figure) => {
      const before = body.value.slice(0, at);
      const after = body.value.slice(at);
      // A figure is a block of its own: blank lines around it.
      const pre = before === '' || before.endsWith('\n\n') ? '' : (before.endsWith('\n') ? '\n' : '\n\n');
      const post = after.startsWith('\n\n') ? '' : (after.startsWith('\n') ? '\n' : '\n\n');
      const text = pre + figure.replace(/\n$/, '') + post;
      body.value = before + text + after;
      const caret = at + text.length;
      dialog.close();
      body.focus();
      body.setSelectionRange(caret, caret);
      dirty = true;
      render();
    };
    const load = async () => {
      grid.textContent = 'Loading…';
      try {
        const r = await fetch('/admin/media?q=' + encodeURIComponent(q.value), { credentials: 'same-origin' });
        const page = new DOMParser().parseFromString(await r.text(), 'text/html');
        const tiles = page.querySelectorAll('.media-tile[data-figure]');
        grid.textContent = tiles.length ? '' : 'No picture matches.';
        for (const t of tiles) {
          const li = document.createElement('li');
          const img = t.querySelector('img');
          if (img) {
            const thumb = document.createElement('img');
            thumb.src = (img.getAttribute('srcset') || img.getAttribute('src')).split(' ')[0];
            thumb.alt = '';
            li.appendChild(thumb);
          } else {
            const state = document.createElement('span');
            state.className = 'tile-state';
            state.textContent = (t.querySelector('.tile-state') || {}).textContent || 'Processing…';
            li.appendChild(state);
          }
          const button = document.createElement('button');
          button.type = 'button';
          button.textContent = 'Insert: ' + (t.querySelector('.tile-name') || t).textContent.trim();
          button.addEventListener('click', () => insert(t.dataset.figure));
          li.appendChild(button);
          if (t.classList.contains('no-alt')) {
            const flag = document.createElement('span');
            flag.className = 'flag';
            flag.textContent = 'no alt text: write it in the text';
            li.appendChild(flag);
          }
          grid.appendChild(li);
        }
      } catch {
        grid.textContent = 'The library could not be loaded.';
      }
    };
    dialog.querySelector('.picker-search').addEventListener('submit', (e) => { e.preventDefault(); load(); });
    opener.addEventListener('click', (e) => {
      e.preventDefault();
      at = body.selectionStart ?? body.value.length;
      dialog.showModal();
      load();
    });
  }
})();

// The comment queue: "select all" ticks every comment on the page.
(() => {
  const all = document.getElementById('select-all');
  if (!all) return;
  all.addEventListener('change', () => {
    for (const box of document.querySelectorAll('input[name=ids]')) box.checked = all.checked;
  });
})();

// Picture library: a click on the picture sets its focal point (the number fields stay the
// way to set it without a pointer or without scripts).
(() => {
  const frame = document.querySelector('[data-focus]');
  const img = frame && frame.querySelector('img');
  if (!img) return;
  const dot = frame.querySelector('.focus-dot');
  const fx = document.getElementById('focus_x');
  const fy = document.getElementById('focus_y');
  img.addEventListener('click', (e) => {
    const r = img.getBoundingClientRect();
    const x = Math.round(((e.clientX - r.left) / r.width) * 1000) / 10;
    const y = Math.round(((e.clientY - r.top) / r.height) * 1000) / 10;
    fx.value = x;
    fy.value = y;
    dot.style.left = x + '%';
    dot.style.top = y + '%';
  });
})();

// Picture library: uploads one file at a time with a progress bar each. Without scripts the
// form sends every file in one request and the server lists what it added and refused.
(() => {
  const form = document.querySelector('form[data-upload]');
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const input = form.querySelector('input[type=file]');
  const list = form.querySelector('.upload-progress');
  form.addEventListener('submit', (e) => {
    if (!input.files.length) return;
    e.preventDefault();
    const files = Array.from(input.files);
    list.textContent = '';
    const rows = files.map((f) => {
      const li = document.createElement('li');
      const bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      const text = document.createElement('span');
      text.textContent = f.name;
      li.append(bar, text);
      list.appendChild(li);
      return { li, bar, text };
    });
    let refused = 0;
    const send = (i) => {
      if (i >= files.length) {
        if (!refused) window.location.href = '/admin/media';
        else {
          const more = document.createElement('li');
          const a = document.createElement('a');
          a.href = '/admin/media';
          a.textContent = 'Show the library';
          more.appendChild(a);
          list.appendChild(more);
        }
        return;
      }
      const data = new FormData();
      for (const [k, v] of new FormData(form)) if (k !== 'files') data.append(k, v);
      data.append('format', 'json');
      data.append('files', files[i], files[i].name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) rows[i].bar.value = Math.round((ev.loaded / ev.total) * 100);
      };
      xhr.onload = () => {
        rows[i].bar.value = 100;
        let outcome = null;
        try {
          outcome = JSON.parse(xhr.responseText)[0];
        } catch (_) {
          outcome = { refused: xhr.status === 413 ? 'The file is too large.' : 'The upload failed (' + xhr.status + ').' };
        }
        if (outcome && outcome.refused) {
          refused += 1;
          rows[i].li.className = 'error';
          rows[i].text.textContent = files[i].name + ': ' + outcome.refused;
        } else {
          rows[i].text.textContent = files[i].name + ': added';
        }
        send(i + 1);
      };
      xhr.onerror = () => {
        refused += 1;
        rows[i].text.textContent = files[i].name + ': the connection failed.';
        send(i + 1);
      };
      xhr.send(data);
    };
    send(0);
  });
})();
