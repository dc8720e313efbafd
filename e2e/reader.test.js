// A reader's visit in headless Chromium: front page, an article, a section, search and a
// missing page. Starts the release binary with the demo edition on a fresh data directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startGazette, launch, shots } from './server.js';

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

async function open(path, { width = 1280, height = 900 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
  const response = await page.goto(base + path);
  return { page, response, problems };
}

test('the front page shows a lead story, sections and no errors', async () => {
  const { page, response, problems } = await open('/');
  assert.equal(response.status(), 200);
  assert.equal(await page.locator('.site-name').first().innerText(), 'The Harbour Courier');
  assert.ok(await page.locator('.lead-title a').count() === 1);
  assert.ok(await page.locator('.section-block').count() >= 4, 'section blocks');
  assert.ok(await page.locator('a[href="/?page=2"]').count() === 1, 'a link to more');
  await page.screenshot({ path: join(shots, 'front.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('an article shows headline, byline, times, related posts; its links work', async () => {
  const front = await open('/');
  const href = await front.page.locator('.lead-title a').getAttribute('href');
  await front.page.close();
  const { page, response, problems } = await open(href);
  assert.equal(response.status(), 200);
  const headline = await page.locator('h1#headline').innerText();
  assert.ok(headline.length > 10);
  assert.equal(await page.title(), `${headline} | The Harbour Courier`);
  assert.ok(await page.locator('.byline a[rel=author]').count() >= 1, 'byline');
  assert.match(await page.locator('.times time').first().getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
  assert.equal(await page.locator('.related-list li').count(), 6, 'six related posts');
  assert.equal(await page.locator('.related-list .related-section').count(), 6, 'each with its section');
  assert.ok(await page.locator('.story-body p').count() >= 4, 'body paragraphs');
  await page.screenshot({ path: join(shots, 'article.png'), fullPage: true });
  // Follow the byline to the author page.
  await page.locator('.byline a[rel=author]').first().click();
  await page.waitForLoadState();
  assert.match(page.url(), /\/author\/[a-z-]+\/$/);
  assert.ok(await page.locator('.archive-list .card').count() >= 1);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the article page reads well on a phone', async () => {
  const front = await open('/');
  const href = await front.page.locator('.top-stories .card-title a').first().getAttribute('href');
  await front.page.close();
  const { page, problems } = await open(href, { width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
  await page.screenshot({ path: join(shots, 'article-phone.png'), fullPage: false });
  assert.deepEqual(problems, []);
  await page.close();
});

test('sections, search and the 404 page work without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/section/politics/');
  assert.equal(await page.locator('h1').innerText(), 'Politics');
  await page.screenshot({ path: join(shots, 'section.png'), fullPage: true });
  await page.fill('#masthead-q', 'bridge');
  await page.press('#masthead-q', 'Enter');
  await page.waitForLoadState();
  assert.match(page.url(), /\/search\?q=bridge/);
  assert.ok(await page.locator('.archive-list .card').count() >= 3);
  assert.ok(await page.locator('.snippet mark').count() >= 3, 'snippets mark the matched words');
  await page.screenshot({ path: join(shots, 'search.png'), fullPage: false });
  const missing = await page.goto(base + '/no-such-page/');
  assert.equal(missing.status(), 404);
  assert.ok(await page.locator('form[role=search]').count() >= 1, '404 offers search');
  assert.ok(await page.locator('.card').count() >= 3, '404 offers latest stories');
  await page.screenshot({ path: join(shots, 'not-found.png'), fullPage: true });
  await context.close();
});

test('keyboard users can skip to the content and see focus', async () => {
  const { page } = await open('/');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement.className);
  assert.equal(focused, 'skip-link');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await page.close();
});
