// "Leave a Comment" in place: the form posts without leaving the page, the comment section is
// read again from the server (the new comment, or the "awaiting moderation" notice, and a
// fresh form), and the reader is taken to their comment. Without JavaScript, or when anything
// here fails before the server answered, the form posts as a plain form does (and the server
// answers a page to confirm it from, as the article page carries no token).
//
// The article page is the same for every reader, so that caches can keep it: the form's
// token is asked for when the reader starts writing (the form's age counts from then).
(() => {
  const tokenFor = (form) => {
    const field = form.querySelector('input[name=token]');
    if (!field || field.value) return Promise.resolve();
    if (!form.tokenRequest) {
      const article = encodeURIComponent(form.querySelector('input[name=article_id]').value);
      form.tokenRequest = fetch(`/comments/token?article=${article}`, { credentials: 'same-origin', cache: 'no-store' })
        .then((r) => (r.ok ? r.json() : {}))
        .then((answer) => { if (answer.token && !field.value) field.value = answer.token; })
        .catch(() => {})
        .finally(() => { form.tokenRequest = null; });
    }
    return form.tokenRequest;
  };
  const wire = (form) => {
    if (!form || !window.fetch || !window.DOMParser) return;
    form.addEventListener('focusin', () => { tokenFor(form); });
    const button = form.querySelector('button[type=submit]');
    const status = document.createElement('p');
    status.className = 'form-status';
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    button.insertAdjacentElement('beforebegin', status);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      button.disabled = true;
      status.classList.remove('form-error');
      status.textContent = 'Posting your comment…';
      await tokenFor(form);
      let response;
      try {
        response = await fetch(form.action, {
          method: 'POST',
          headers: { accept: 'application/json' },
          body: new URLSearchParams(new FormData(form)),
          credentials: 'same-origin',
        });
      } catch (_) {
        // The server was not reached: nothing was stored, and nothing typed is lost.
        status.classList.add('form-error');
        status.textContent = 'Your comment could not be sent. Check your connection and try again.';
        button.disabled = false;
        return;
      }
      const type = response.headers.get('content-type') || '';
      if (!type.startsWith('application/json')) {
        // An answer meant for people (a form too large, unreadable): show it as a page.
        HTMLFormElement.prototype.submit.call(form);
        return;
      }
      const answer = await response.json();
      if (!response.ok) {
        status.classList.add('form-error');
        status.textContent = answer.error;
        if (answer.token) form.querySelector('input[name=token]').value = answer.token;
        button.disabled = !answer.can_retry;
        return;
      }
      // Stored. Show the section as the server now renders it; if that fails, go there.
      const [page, anchor] = answer.location.split('#');
      try {
        const html = await (await fetch(page, { credentials: 'same-origin', cache: 'no-store' })).text();
        const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('comments');
        const current = document.getElementById('comments');
        if (!fresh || !current) throw new Error('no comment section');
        current.replaceWith(fresh);
        history.replaceState(null, '', answer.location);
        const target = document.getElementById(anchor) || fresh;
        const focus = target.id === 'respond' ? target.querySelector('.notice') || target : target;
        focus.setAttribute('tabindex', '-1');
        focus.scrollIntoView({ block: 'center' });
        focus.focus({ preventScroll: true });
        wire(fresh.querySelector('form.comment-form'));
      } catch (_) {
        window.location.assign(answer.location);
      }
    });
  };
  wire(document.querySelector('form.comment-form'));
})();
