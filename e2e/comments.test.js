// Comments in headless Chromium: a reader posts without JavaScript, a moderator approves in the
// admin, and hostile strings (a built-in list plus a seeded sample of each list in
// ../shared/data/attack-strings/ when it is there, all of them with GAZETTE_ATTACK_SAMPLE=all)
// posted as name, website and text render as inert text: no dialog, no
// script, no request to anywhere else, the layout intact.
import { test, before, after } from 'node:test';
import { setMaxListeners } from 'node:events';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startGazette, launch, shots } from './server.js';
import { attackStrings, pool } from './attacks.js';

let server, browser, base;

before(async () => {
  mkdirSync(shots, { recursive: true });
  ({ server, base } = await startGazette());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGKILL');
});

const ADMIN = ['admin@harbourcourier.example', 'courier-demo'];

async function articleUrl(slug) {
  const r = await fetch(`${base}/${slug}/`, { redirect: 'manual' });
  return new URL(r.headers.get('location'), base).pathname;
}

async function signIn(page) {
  await page.goto(base + '/admin');
  await page.fill('#email', ADMIN[0]);
  await page.fill('#password', ADMIN[1]);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

test('a reader comments without JavaScript and a moderator approves it', async () => {
  const url = await articleUrl('fishermen-say-turbines-will-close-their-richest-grounds');
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(base + url);
  await page.fill('#comment-text', 'The corridor idea deserves a hearing.\n\nMore at https://example.org/fleet');
  await page.fill('#comment-author', 'Isla Moncrieff');
  await page.fill('#comment-email', 'isla@example.net');
  // The article page is the same for every reader (caches keep it), so its form has no token:
  // without JavaScript the first post comes back as a page to confirm from, filled in.
  assert.equal(await page.locator('.comment-form input[name=token]').inputValue(), '');
  await Promise.all([page.waitForNavigation(), page.click('.comment-form button[type=submit]')]);
  assert.match(await page.locator('h1').innerText(), /Post your comment/);
  assert.match(await page.locator('#comment-text').inputValue(), /^The corridor idea deserves a hearing\./);
  assert.notEqual(await page.locator('.comment-form input[name=token]').inputValue(), '');
  await page.screenshot({ path: join(shots, 'comment-confirm.png'), fullPage: true });
  await page.waitForTimeout(3200); // people take a moment; forms sent faster are held anyway
  await Promise.all([page.waitForNavigation(), page.click('.comment-form button[type=submit]')]);
  assert.match(page.url(), /\?comment=held#respond$/);
  assert.match(await page.locator('.respond .notice').innerText(), /awaiting moderation/);
  await page.locator('#respond').screenshot({ path: join(shots, 'comment-held.png') });
  await context.close();

  const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(admin);
  await admin.goto(base + '/admin/comments');
  const row = admin.locator('tr', { hasText: 'Isla Moncrieff' });
  assert.equal(await row.count(), 1);
  await admin.screenshot({ path: join(shots, 'admin-comments.png'), fullPage: true });
  await Promise.all([admin.waitForNavigation(), row.locator('button', { hasText: 'Approve' }).click()]);
  assert.match(await admin.locator('.notice').innerText(), /1 approved/);
  await admin.close();

  const reader = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await reader.goto(base + url);
  const comment = reader.locator('.comment', { hasText: 'Isla Moncrieff' });
  assert.equal(await comment.count(), 1);
  assert.equal(await comment.locator('a[rel="nofollow ugc noopener"]').getAttribute('href'), 'https://example.org/fleet');
  await reader.locator('#comments').screenshot({ path: join(shots, 'comments.png') });
  await reader.close();
});

test('with JavaScript the form posts in place: held, refused, then published', async () => {
  const url = await articleUrl('fishermen-say-turbines-will-close-their-richest-grounds');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const tokenRequests = [];
  page.on('request', (r) => { if (r.url().includes('/comments/token')) tokenRequests.push(r.url()); });
  await page.goto(base + url);
  await page.evaluate(() => { window.stayed = true; });
  // The page comes without a token; the script asks for one when the reader starts writing.
  assert.equal(tokenRequests.length, 0, 'no token is asked for by a reader who does not write');
  await page.focus('#comment-text');
  await page.waitForFunction(() => document.querySelector('.comment-form input[name=token]').value !== '');
  assert.equal(tokenRequests.length, 1);
  const fill = async (text, name, email) => {
    await page.fill('#comment-text', text);
    await page.fill('#comment-author', name);
    await page.fill('#comment-email', email);
    await page.waitForTimeout(3200);
  };

  // A first-time commenter: held, and the notice appears where the form was.
  await fill('Posted without leaving the page.', 'Corin Vale', 'corin@example.net');
  await page.click('.comment-form button[type=submit]');
  await page.locator('.respond .notice').waitFor();
  assert.match(await page.locator('.respond .notice').innerText(), /awaiting moderation/);
  assert.equal(await page.evaluate(() => window.stayed), true, 'the page was not reloaded');
  assert.match(page.url(), /\?comment=held#respond$/);
  assert.equal(await page.locator('#comment-text').inputValue(), '', 'a fresh form');
  await page.locator('#respond').screenshot({ path: join(shots, 'comment-held-in-place.png') });

  // A refusal (a forged form token) is said beside the button, and nothing typed is lost.
  await fill('This one has a broken token.', 'Corin Vale', 'corin@example.net');
  await page.evaluate(() => { document.querySelector('.comment-form input[name=token]').value = 'forged'; });
  await page.click('.comment-form button[type=submit]');
  await page.locator('.form-status.form-error').waitFor();
  assert.match(await page.locator('.form-status').innerText(), /renewed.*post your comment again/);
  assert.equal(await page.locator('#comment-text').inputValue(), 'This one has a broken token.');
  assert.equal(await page.evaluate(() => window.stayed), true);
  await page.locator('#respond').screenshot({ path: join(shots, 'comment-refused-in-place.png') });

  // Isla's first comment was approved above, so hers now appears at once, and she is taken to it.
  await page.waitForTimeout(3200); // the fresh token from the refusal is new, too
  await page.fill('#comment-text', 'Thank you for publishing my earlier note.');
  await page.fill('#comment-author', 'Isla Moncrieff');
  await page.fill('#comment-email', 'isla@example.net');
  await page.click('.comment-form button[type=submit]');
  const mine = page.locator('.comment', { hasText: 'Thank you for publishing my earlier note.' });
  await mine.waitFor();
  assert.equal(await page.evaluate(() => window.stayed), true);
  assert.match(page.url(), /#comment-\d+$/);
  const focused = await page.evaluate(() => document.activeElement?.id || '');
  assert.match(focused, /^comment-\d+$/, 'focus moves to the new comment');
  assert.match(await page.locator('#comments-heading').innerText(), /Comments/);
  await page.locator('#comments').screenshot({ path: join(shots, 'comment-published-in-place.png') });
  await page.close();
});

// Written for this test; the shared lists, when present, add thousands more.
const BUILT_IN = [
  '<script>alert(1)</script>',
  '"><script>alert(document.cookie)</script>',
  "'><img src=x onerror=alert(1)>",
  '<img src="http://evil.example/x.png">',
  '<svg onload=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  'javascript:alert(1)',
  'http://example.com/"onmouseover="alert(1)',
  'https://example.com/<script>alert(1)</script>',
  '<a href="javascript:alert(1)">click</a>',
  '<body onload=alert(1)>',
  '</textarea><script>alert(1)</script>',
  '</li></ol></section></main><h1>broken</h1>',
  '<style>body{display:none}</style>',
  '<link rel=stylesheet href=http://evil.example/x.css>',
  '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
  '{{ 7*7 }} {% raw %} ${7*7} <%= 7*7 %>',
  '@@comment-form-token:1@@',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '\u202Eevil\u202C text with a right-to-left override',
  'Z̷̢̛̲͈̟͎̫̘̦̮̩̫a̶̡̘̯͔͎̫̝̤̣l̷̨̧̛̘̯g̵o̸',
  'a'.repeat(5000),
  'https://example.com/' + 'x'.repeat(2000),
  '😀'.repeat(300),
  "Robert'); DROP TABLE comments;--",
  '\u0000\u0001\u0002 control characters',
  '<form action="http://evil.example"><input name=x></form>',
  '<object data="http://evil.example/x.swf"></object>',
  '<base href="http://evil.example/">',
  '<!-- unclosed comment',
  '<div style="position:fixed;top:0;left:0;width:100%;height:100%">cover</div>',
];

async function form(url, signal) {
  const html = await (await fetch(base + url, { signal })).text();
  const get = (name) => html.split(`name="${name}" value="`)[1]?.split('"')[0] ?? '';
  const article_id = get('article_id');
  const { token } = await (await fetch(`${base}/comments/token?article=${article_id}`, { signal })).json();
  return { article_id, token };
}

async function post(url, name, website, text, signal, email = 'attacker@example.com') {
  const f = await form(url, signal);
  const body = new URLSearchParams({ ...f, author: name, email, url: website, comment: text });
  const r = await fetch(base + '/comments', { method: 'POST', body, redirect: 'manual', signal });
  return { status: r.status, text: r.status === 303 ? '' : await r.text() };
}

test('hostile strings as name, website and text render as inert text', async (t) => {
  // A seeded sample of each shared list (GAZETTE_ATTACK_SAMPLE=all for every string).
  const { strings, summary } = attackStrings(BUILT_IN);
  console.log(`# hostile strings: ${summary}`);
  // Every request listens on the test's signal; thousands of them are expected here.
  setMaxListeners(0, t.signal);
  const url = await articleUrl('review-the-tide-clock-opens-the-lyric-in-style');

  // The desk opens the gates for this run: no holds, no spam model, no rate limits, big pages
  // (every string must reach the page to be checked there).
  const admin = await browser.newPage();
  await signIn(admin);
  await admin.goto(base + '/admin/discussion');
  await admin.check('input[name=moderation][value=approve-all]');
  await admin.uncheck('input[name=shipped_model]');
  for (const [field, value] of [['max_links', '100'], ['min_seconds', '0'], ['per_address_per_hour', '1000000'],
    ['per_email_per_hour', '1000000'], ['threads_per_page', '500']]) {
    await admin.fill(`#${field}`, value);
  }
  await Promise.all([admin.waitForNavigation(), admin.click('form.narrow-form button[type=submit]')]);
  assert.match(await admin.locator('.notice').innerText(), /Saved/);
  await admin.close();

  let posted = 0;
  const refused = [];
  // Posted a few at a time; a test that times out stops posting (t.signal) instead of
  // running on behind the report.
  await pool(strings, 8, async (s) => {
    // Try the string everywhere; what a field refuses (a website that is no address, a name
    // too long) is tried again without it. A refusal is fine too: it is inert.
    const attempts = [[s, s], [s.slice(0, 80), ''], ['Tester', '']];
    for (const [name, website] of attempts) {
      const r = await post(url, name, website, s, t.signal);
      if (r.status === 303) { posted++; return; }
      assert.ok([422, 413].includes(r.status), `unexpected ${r.status} for ${JSON.stringify(s).slice(0, 80)}`);
    }
    refused.push(s);
  }, t.signal);
  console.log(`# ${strings.length} strings: ${posted} posted and approved, ${refused.length} refused as empty or too long`);
  assert.ok(posted >= strings.length * 0.8, 'most strings are accepted as comments');

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('pageerror', (e) => problems.push(`script error: ${e}`));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  let shown = 0;
  for (let p = 1; ; p++) {
    await page.goto(`${base}${url}?cpage=${p}`);
    const report = await page.evaluate(() => {
      const list = document.querySelector('.comment-list');
      const bad = list ? list.querySelectorAll('script, iframe, object, embed, form, img, svg, style, link, meta, base, textarea, input') : [];
      let handlers = 0;
      for (const el of list ? list.querySelectorAll('*') : []) {
        for (const a of el.attributes) if (a.name.startsWith('on') || a.name === 'style') handlers++;
        if (el.tagName === 'A' && !/^https?:|^#|^\//.test(el.getAttribute('href') || '')) handlers++;
      }
      const footer = document.querySelector('footer.site-footer');
      return {
        comments: document.querySelectorAll('.comment').length,
        bad: bad.length,
        handlers,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        footerAfter: !!footer && !!list && (list.compareDocumentPosition(footer) & Node.DOCUMENT_POSITION_FOLLOWING) > 0,
        formAfter: !!document.querySelector('#respond .comment-form'),
        pages: document.querySelector('#comments .pager-pos')?.textContent ?? 'Page 1 of 1',
      };
    });
    assert.equal(report.bad, 0, `page ${p}: elements a commenter must not create`);
    assert.equal(report.handlers, 0, `page ${p}: attributes a commenter must not create`);
    assert.ok(report.overflow <= 0, `page ${p}: ${report.overflow}px wider than the window`);
    assert.ok(report.footerAfter && report.formAfter, `page ${p}: the page structure is intact`);
    shown += report.comments;
    if (p === 1) {
      await page.locator('#comments').scrollIntoViewIfNeeded();
      await page.evaluate(() => document.querySelector('#comments').scrollIntoView());
      await page.screenshot({ path: join(shots, 'comments-hostile.png') });
    }
    const [, current, total] = report.pages.match(/Page (\d+) of (\d+)/) ?? [null, '1', '1'];
    if (current === total) break;
  }
  assert.deepEqual(problems, []);
  assert.ok(shown >= posted, `${shown} comments shown, ${posted} posted`);
  // The classic payload is shown as the text it is.
  await page.goto(`${base}${url}`);
  assert.ok(await page.getByText('<script>alert(1)</script>', { exact: true }).count() >= 1);

  // The e-mail field: an address or a clear refusal, never a 5xx. Emails are shown only to
  // moderators, so the moderation queue, which shows every field, is checked too.
  let emails = 0;
  await pool(strings, 8, async (s, i) => {
    const r = await post(url, `Mailer ${i}`, '', `Comment ${i}`, t.signal, s.slice(0, 200));
    assert.ok([303, 422, 413].includes(r.status), `unexpected ${r.status} for the email ${JSON.stringify(s).slice(0, 80)}`);
    if (r.status === 303) emails++;
  }, t.signal);
  console.log(`# ${strings.length} strings as e-mail: ${emails} taken as addresses, the rest refused`);
  const admin2 = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  admin2.on('dialog', async (d) => { problems.push(`admin dialog: ${d.message()}`); await d.dismiss(); });
  admin2.on('pageerror', (e) => problems.push(`admin script error: ${e}`));
  admin2.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`admin request: ${r.url()}`); });
  await signIn(admin2);
  for (let p = 1; p <= 5; p++) {
    const r = await admin2.goto(`${base}/admin/comments?status=approved&page=${p}`);
    assert.ok(r.status() < 500);
    const report = await admin2.evaluate(() => {
      const main = document.querySelector('main') ?? document.body;
      const bad = [...main.querySelectorAll('script, iframe, object, embed, style, base, img, svg')].filter((el) => !/^\/static\//.test(el.getAttribute('src') ?? '')).length;
      let handlers = 0;
      for (const el of main.querySelectorAll('*')) {
        for (const a of el.attributes) if (a.name.startsWith('on')) handlers++;
        if (/^\s*javascript:/i.test(el.getAttribute('href') ?? '')) handlers++;
      }
      return { bad, handlers, rows: main.querySelectorAll('tr').length };
    });
    assert.equal(report.bad, 0, `moderation queue page ${p}: elements a commenter must not create`);
    assert.equal(report.handlers, 0, `moderation queue page ${p}: attributes a commenter must not create`);
    if (report.rows <= 1) break;
  }
  assert.deepEqual(problems, []);
  await admin2.close();
  await page.close();
});
