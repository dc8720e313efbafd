// The newsroom in headless Chromium: an author writes an article with an image and submits it;
// a contributor cannot publish; an editor reviews and schedules it; it appears on the front
// page and at its permalink at its time; its slug changes and the old address redirects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startGazette, launch, shots, signIn as signInAs } from './server.js';

const PASSWORD = 'courier-demo';
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

async function signIn(email) {
  return signInAs(browser, base, email, { password: PASSWORD });
}

/// A generated "photograph": a gradient drawn by the browser, as PNG bytes.
async function photo() {
  const page = await browser.newPage({ viewport: { width: 1200, height: 630 } });
  await page.setContent(`<body style="margin:0"><div style="width:1200px;height:630px;
    background:linear-gradient(180deg,#f4c987 0%,#e98d6b 35%,#5b6f96 70%,#27364f 100%)"></div></body>`);
  const png = await page.screenshot({ type: 'png' });
  await page.close();
  return png;
}

const HEADLINE = 'Night ferry crews vote to strike over rotas';
let articlePath;

test('an author writes an article with an image and submits it for review', async () => {
  const { context, page, problems } = await signIn('tomasz@harbourcourier.example');
  await page.screenshot({ path: join(shots, 'admin-list.png'), fullPage: false });
  await page.click('text=New article');
  await page.fill('#headline', HEADLINE);
  assert.equal(await page.getAttribute('#slug', 'placeholder'), 'night-ferry-crews-vote-to-strike-over-rotas');
  await page.fill('#standfirst', 'The union says late sailings are run on too few hands.');
  await page.fill('#body', 'Crews on the late ferries voted on Sunday to strike.\n\n> "We are tired," one deckhand said.\n\n> [!PULLQUOTE]\n> Too few hands on the late boats.\n\nTalks resume on Monday.');
  await page.selectOption('#primary_section', 'news');
  await page.fill('#tags', 'Ferries, Strikes');
  await page.selectOption('#status', 'pending');
  await page.waitForFunction(() => document.querySelector('.preview-pane')?.textContent.includes('Too few hands'));
  assert.equal(await page.locator('.preview-pane .pullquote').count(), 1, 'the live preview renders the pull-quote');
  await page.screenshot({ path: join(shots, 'admin-editor.png'), fullPage: true });
  await page.click('fieldset button[type=submit]');
  await page.waitForURL(/\/admin\/articles\/\d+\?saved=1/);
  articlePath = new URL(page.url()).pathname;
  await page.setInputFiles('#image', { name: 'ferry.png', mimeType: 'image/png', buffer: await photo() });
  await page.fill('#alt', 'The late ferry leaving the quay at dusk');
  await page.fill('#caption', 'The 22:40 sailing from Quay Street.');
  await page.fill('#credit', 'Courier staff');
  await page.click('text=Upload');
  await page.waitForURL(/saved=1/);
  assert.equal(await page.locator('.thumb').count(), 1);
  assert.equal(await page.locator('.status-pending').first().innerText(), 'PENDING');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a contributor cannot publish', async () => {
  const { context, page } = await signIn('priya@harbourcourier.example');
  await page.click('text=New article');
  const options = await page.locator('#status option').allInnerTexts();
  assert.ok(!options.includes('Published'), `contributor sees ${options}`);
  const csrf = await page.getAttribute('input[name=_csrf]', 'value');
  const r = await page.request.post(base + '/admin/articles/new', {
    form: { _csrf: csrf, version: '0', headline: 'Sneaky publish', primary_section: 'news', status: 'published', authors: 'priya-nandakumar' },
    maxRedirects: 0,
  });
  assert.equal(r.status(), 403);
  await context.close();
});

test('an editor schedules it; it appears at its time; a new slug keeps the old address', async () => {
  const { context, page, problems } = await signIn('maeve@harbourcourier.example');
  await page.goto(base + '/admin/articles?status=pending');
  await page.click(`text=${HEADLINE}`);
  // A whole minute (the form's precision) at least 20 s away, whatever the clock's second:
  // the save cannot overtake it, and the wait is at most 80 s. In the site's time zone (the
  // demo uses Europe/London).
  const due = new Date(Math.floor((Date.now() + 80_000) / 60_000) * 60_000);
  const local = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(due).replace(' ', 'T');
  await page.selectOption('#status', 'scheduled');
  await page.fill('#publish_at', local);
  await page.click('fieldset button[type=submit]');
  await page.waitForURL(/saved=1/);
  assert.equal(await page.locator('.status-scheduled').count(), 1);

  let permalink;
  for (let i = 0; i < 120 && !permalink; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const html = await (await fetch(base + '/')).text();
    permalink = html.match(/href="(\/\d{4}\/\d\d\/\d\d\/night-ferry-crews-vote-to-strike-over-rotas\/)"/)?.[1];
  }
  assert.ok(permalink, 'the scheduled article reached the front page');
  const reader = await context.newPage();
  await reader.goto(base + permalink);
  assert.equal(await reader.locator('h1#headline').innerText(), HEADLINE);
  assert.equal(await reader.locator('figure.featured img').getAttribute('alt'), 'The late ferry leaving the quay at dusk');
  await reader.screenshot({ path: join(shots, 'article-with-image.png'), fullPage: false });

  await page.goto(base + articlePath);
  await page.fill('#slug', 'night-ferry-strike-vote');
  await page.click('fieldset button[type=submit]');
  await page.waitForURL(/saved=1/);
  // (The reader's own browser may keep the old page for its max-age of 60 s; ask afresh.)
  const moved = await fetch(base + permalink, { redirect: 'manual' });
  assert.equal(moved.status, 301);
  assert.match(moved.headers.get('location'), /\/night-ferry-strike-vote\/$/, 'the old address redirects to the new one');

  await page.goto(base + articlePath + '/revisions');
  assert.ok(await page.locator('.diff ins').count() >= 1, 'the diff shows what changed');
  await page.screenshot({ path: join(shots, 'admin-revisions.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});
