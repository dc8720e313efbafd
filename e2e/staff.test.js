// Hostile strings in every field the newsroom fills, and in a WordPress export built from them.
// An administrator's session posts each string as an article (headline, standfirst, body,
// excerpt, tags), a section (name, description), an author (name, bio) and a page (title,
// body); the search runs it as a query; then Chromium opens every page that shows them and
// checks it is inert: no dialog, no script run or error, no request off the site, nothing in
// the page's content that the sanitizer removes (scripts, frames, forms, handlers, styles,
// javascript: links). No request may answer 5xx. A seeded sample of each shared list runs in
// CI (GAZETTE_STAFF_ATTACK_SAMPLE, default 25 per list; `all` for a release check).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGazette, launch, shots, root } from './server.js';
import { attackStrings, pool } from './attacks.js';

const ADMIN = ['admin@harbourcourier.example', 'courier-demo'];
const BUILT_IN = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "javascript:alert('x')",
  '[click](javascript:alert(1))',
  '<iframe src="https://evil.example/"></iframe>',
  '<a href="javascript:alert(1)">x</a>',
  '<svg onload=alert(1)>',
  '<style>body{display:none}</style>',
  "'; DROP TABLE articles; --",
  '{"$gt": ""}',
  '{{ site.title }} {% raw %}',
  '\u202Egnp.exe',
  'Z\u0351\u0360a\u0352l\u035Bgo',
];
const perList = (() => {
  const v = process.env.GAZETTE_STAFF_ATTACK_SAMPLE ?? '25';
  return v === 'all' ? Infinity : Number.parseInt(v, 10);
})();

let server, browser, base;
const offsiteImages = new Set();

before(async () => {
  mkdirSync(shots, { recursive: true });
  ({ server, base } = await startGazette());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGKILL');
});

/// A page watched for anything a stranger's text must not cause.
async function watchedPage(problems, site) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('pageerror', (e) => problems.push(`script error: ${e}`));
  // Images by address are part of what staff may write (Markdown `![](https://…)`, an imported
  // post's pictures): counted, not refused. Any other request off the site is a problem.
  page.on('request', (r) => {
    if (r.url().startsWith(site) || r.url().startsWith('data:')) return;
    if (r.resourceType() === 'image') offsiteImages.add(r.url());
    else problems.push(`request (${r.resourceType()}): ${r.url()}`);
  });
  return page;
}

/// Opens `path` and reports what its content holds that no writer may put there.
async function inspect(page, site, path) {
  const r = await page.goto(site + path);
  const status = r?.status() ?? 0;
  const report = await page.evaluate(() => {
    const scope = document.querySelector('main') ?? document.body;
    const bad = [...scope.querySelectorAll('script, iframe, object, embed, form:not(.comment-form):not(.search-form), style, link, meta, base, frame, frameset')]
      .filter((el) => !el.closest('.comment-form, .search-form, form[role=search]'))
      // The site's own assets (the comment form's script) are not a writer's.
      .filter((el) => !/^\/static\//.test(el.getAttribute('src') ?? el.getAttribute('href') ?? ''))
      .map((el) => el.outerHTML.slice(0, 160));
    let handlers = 0;
    for (const el of scope.querySelectorAll('*')) {
      for (const a of el.attributes) if (a.name.startsWith('on') || (a.name === 'style' && !el.closest('figure'))) handlers++;
      for (const attr of ['href', 'src', 'action', 'formaction']) {
        const v = (el.getAttribute(attr) || '').trim().toLowerCase();
        if (v.startsWith('javascript:') || v.startsWith('vbscript:') || v.startsWith('data:text/html')) handlers++;
      }
    }
    return { bad, handlers };
  });
  return { status, ...report };
}

test('hostile strings in every staff field, in search and in a WordPress export, stay inert', async (t) => {
  const { strings, summary } = attackStrings(BUILT_IN, { perList });
  console.log(`# staff fields: ${summary}`);
  const context = await browser.newContext();
  const admin = await context.newPage();
  await admin.goto(base + '/admin');
  await admin.fill('#email', ADMIN[0]);
  await admin.fill('#password', ADMIN[1]);
  await Promise.all([admin.waitForNavigation(), admin.click('button[type=submit]')]);
  await admin.goto(base + '/admin/articles/new');
  const csrf = await admin.inputValue('input[name=_csrf]');
  const authors = await admin.$$eval('[name=authors] option:checked, input[name=authors]:checked', (els) => els.map((e) => e.value));
  const request = context.request;

  const counts = { posted: 0, refused: 0, fiveHundreds: [], pages: 0 };
  const toVisit = [];
  const answer = (what, s, r) => {
    const status = r.status();
    if (status >= 500) counts.fiveHundreds.push(`${what} ${status} ${JSON.stringify(s).slice(0, 80)}`);
    else if (status === 303 || status === 302) counts.posted++;
    else if ([400, 413, 422].includes(status)) counts.refused++;
    else counts.fiveHundreds.push(`${what} unexpected ${status} ${JSON.stringify(s).slice(0, 80)}`);
    return status;
  };
  // A headline needs words; a string without any is put after one, so the rest still lands.
  const named = (s, i) => (/[\p{L}\p{N}]/u.test(s) ? s : `Item ${i} ${s}`).slice(0, 200);
  // Sections go under Culture: as top-level sections a thousand of them would all be in every
  // page's navigation, and a large run would measure that instead.
  await pool(strings, 4, async (s, i) => {
    const article = await request.post(base + '/admin/articles/new', {
      form: { _csrf: csrf, headline: named(s, i), slug: '', standfirst: s, body: s, excerpt: s, tags: s.slice(0, 100),
        primary_section: 'news', authors: authors[0] ?? '', status: 'published', action: 'publish', publish_at: '', version: '0' },
      maxRedirects: 0,
    });
    if (answer('article', s, article) === 303) {
      const loc = article.headers().location ?? '';
      const id = loc.match(/\/admin\/articles\/(\d+)/)?.[1];
      if (id) toVisit.push({ kind: 'article', id });
    }
    const section = await request.post(base + '/admin/sections', {
      form: { _csrf: csrf, name: named(s, i).slice(0, 80), slug: `attack-${i}`, description: s, parent: 'culture', position: String(100 + i) },
      maxRedirects: 0,
    });
    if (answer('section', s, section) === 303) toVisit.push({ kind: 'path', path: `/section/attack-${i}/` });
    const author = await request.post(base + '/admin/authors', {
      form: { _csrf: csrf, name: named(s, i).slice(0, 80), slug: `attack-author-${i}`, bio: s },
      maxRedirects: 0,
    });
    if (answer('author', s, author) === 303) toVisit.push({ kind: 'path', path: `/author/attack-author-${i}/` });
    const pageForm = await request.post(base + '/admin/pages', {
      form: { _csrf: csrf, title: named(s, i), slug: `attack-page-${i}`, body: s, published: 'on' },
      maxRedirects: 0,
    });
    if (answer('page', s, pageForm) === 303) toVisit.push({ kind: 'path', path: `/attack-page-${i}/` });
    const search = await request.get(`${base}/search?q=${encodeURIComponent(s)}`);
    answer('search', s, { status: () => (search.status() === 200 ? 303 : search.status()) });
    if (i % 10 === 0) toVisit.push({ kind: 'path', path: `/search?q=${encodeURIComponent(s)}` });
  }, t.signal);
  console.log(`# ${strings.length} strings x 5 forms: ${counts.posted} saved, ${counts.refused} refused with a message, ${counts.fiveHundreds.length} 5xx`);
  assert.deepEqual(counts.fiveHundreds, []);

  // The public pages that show them.
  const problems = [];
  const page = await watchedPage(problems, base);
  const paths = [];
  const wanted = new Set();
  for (const v of toVisit) {
    if (v.kind === 'path') paths.push(v.path);
    else wanted.add(v.id);
  }
  // The articles' public addresses, from the admin list's "View" links (an editor page per
  // article would list every section and author the run made: megabytes each on a full run).
  for (let n = 1; wanted.size > 0; n++) {
    const r = await request.get(`${base}/admin/articles?status=published&sort=published&page=${n}`, { timeout: 120_000 });
    assert.equal(r.status(), 200, `admin list page ${n}`);
    const html = await r.text();
    const rows = [...html.matchAll(/<a href="\/admin\/articles\/(\d+)">[^]*?<a class="view" href="([^"]+)"/g)];
    for (const [, id, href] of rows) {
      if (wanted.delete(id)) paths.push(href.replaceAll('&#x2f;', '/').replaceAll('&amp;', '&'));
    }
    if (!html.includes('Next &rarr;')) break;
  }
  assert.deepEqual([...wanted], [], 'every saved article is listed with its public address');
  paths.push('/', '/section/news/');
  for (const path of paths) {
    const report = await inspect(page, base, path);
    counts.pages++;
    assert.ok(report.status < 500, `${path}: ${report.status}`);
    assert.deepEqual(report.bad, [], `${path}: elements no writer may create`);
    assert.equal(report.handlers, 0, `${path}: attributes no writer may create`);
  }
  await page.goto(base + '/');
  await page.screenshot({ path: join(shots, 'staff-hostile-front.png') });
  assert.deepEqual(problems, []);
  console.log(`# ${counts.pages} public pages opened in Chromium: inert; ${offsiteImages.size} images by address from bodies`);
  await context.close();
  await page.close();

  // A WordPress export built from the same strings, imported into a fresh site.
  const dir = mkdtempSync(join(tmpdir(), 'gazette-wxr-attack-'));
  const cdata = (s) => `<![CDATA[${s.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
  const esc = (s) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  // XML 1.0 has no room for most control characters: an export cannot hold them.
  const xmlSafe = (s) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[\uD800-\uDFFF]/g, (c, i, all) => (/[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(all.slice(i, i + 2)) || /[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(all.slice(i - 1, i + 1)) ? c : ''));
  const items = strings.map((raw, i) => {
    const s = xmlSafe(raw);
    return `<item><title>${esc(named(s, i))}</title><dc:creator>${cdata('writer')}</dc:creator>
<content:encoded>${cdata(s)}</content:encoded><excerpt:encoded>${cdata(s)}</excerpt:encoded>
<wp:post_id>${1000 + i}</wp:post_id><wp:post_date>2024-03-05 09:30:00</wp:post_date><wp:post_date_gmt>2024-03-05 09:30:00</wp:post_date_gmt>
<wp:comment_status>open</wp:comment_status><wp:post_name>attack-${i}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="attacks">${cdata(s.slice(0, 60) || 'Attacks')}</category><category domain="post_tag" nicename="tag-${i}">${cdata(s.slice(0, 60) || 'tag')}</category>
<wp:comment><wp:comment_id>${5000 + i}</wp:comment_id><wp:comment_author>${cdata(s.slice(0, 80))}</wp:comment_author><wp:comment_author_email>a@example.com</wp:comment_author_email><wp:comment_author_url>${cdata(s.slice(0, 200))}</wp:comment_author_url><wp:comment_date>2024-03-05 10:00:00</wp:comment_date><wp:comment_date_gmt>2024-03-05 10:00:00</wp:comment_date_gmt><wp:comment_content>${cdata(s)}</wp:comment_content><wp:comment_approved>1</wp:comment_approved><wp:comment_type></wp:comment_type><wp:comment_parent>0</wp:comment_parent></wp:comment>
</item>`;
  });
  const wxr = `<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Attacks</title><link>https://attacks.example</link><wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://attacks.example</wp:base_site_url><wp:base_blog_url>https://attacks.example</wp:base_blog_url>
<wp:author><wp:author_id>1</wp:author_id><wp:author_login>${cdata('writer')}</wp:author_login><wp:author_email>${cdata('w@example.com')}</wp:author_email><wp:author_display_name>${cdata(xmlSafe(strings[0]))}</wp:author_display_name></wp:author>
${items.join('\n')}
</channel></rss>`;
  const file = join(dir, 'attacks.xml');
  writeFileSync(file, wxr);
  const binary = process.env.GAZETTE_BIN || join(root, 'target', 'release', 'gazette');
  const data = join(dir, 'site');
  const imported = spawnSync(binary, ['--data-dir', data, 'import', 'wordpress', file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(imported.status, 0, `import failed: ${imported.stderr}\n${imported.stdout}`);
  console.log(`# WordPress export of ${strings.length} hostile posts: ${imported.stdout.split('\n').filter((l) => l.trim() && !/^\d{4}-\d\d-\d\dT/.test(l)).map((l) => l.trim()).join('; ')}`);
  const second = await startGazette({ dataDir: data });
  try {
    const wxrProblems = [];
    const wpage = await watchedPage(wxrProblems, second.base);
    let opened = 0;
    for (let i = 0; i < strings.length; i += Math.max(1, Math.floor(strings.length / 60))) {
      const r = await fetch(`${second.base}/attack-${i}/`, { redirect: 'manual' });
      assert.ok(r.status < 500, `attack-${i}: ${r.status}`);
      const loc = r.headers.get('location');
      if (!loc) continue;
      const report = await inspect(wpage, second.base, new URL(loc, second.base).pathname);
      opened++;
      assert.ok(report.status < 500);
      assert.deepEqual(report.bad, [], `imported attack-${i}: elements the sanitizer removes`);
      assert.equal(report.handlers, 0, `imported attack-${i}: attributes the sanitizer removes`);
    }
    assert.ok(opened > 0, 'imported posts are served');
    assert.deepEqual(wxrProblems, []);
    console.log(`# ${opened} imported posts opened in Chromium: inert`);
    await wpage.close();
  } finally {
    second.server.kill('SIGKILL');
  }
});
