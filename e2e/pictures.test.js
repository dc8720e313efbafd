// Pictures in headless Chromium: an editor adds a photograph to the library and describes it,
// puts it in an article's text from the editor's picture dialog (a figure with its caption and
// credit) and makes it the featured picture; readers get it as AVIF at their screen's size,
// with no layout shift, and the page's link preview points at its 16:9 crop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startGazette, launch, shots, signIn as signInAs } from './server.js';

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
  return signInAs(browser, base, email, { failedRequests: true });
}

/// A generated "photograph" (a harbour at dusk, drawn by the browser), as PNG bytes.
async function photo() {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.setContent(`<body style="margin:0"><div style="position:relative;width:1600px;height:1000px;
    background:linear-gradient(180deg,#203a5c 0%,#e98d6b 55%,#27364f 56%,#101826 100%)">
    <div style="position:absolute;left:900px;top:420px;width:260px;height:120px;background:#111;border-radius:0 0 40px 40px"></div>
    <div style="position:absolute;left:980px;top:300px;width:14px;height:130px;background:#222"></div></div></body>`);
  const png = await page.screenshot({ type: 'png' });
  await page.close();
  return png;
}

/// Waits until the picture's jobs have made a file (the server answers 503 until then).
async function processed(url) {
  for (let i = 0; i < 300; i++) {
    const r = await fetch(base + url);
    if (r.status === 200) return r;
    assert.equal(r.status, 503, `${url} answered ${r.status}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${url} was not made within a minute`);
}

const ALT = 'The Kestrel ferry at the north quay at dusk';
const CAPTION = 'The last sailing of the winter timetable left on time.';
const CREDIT = 'Ana Ruiz / Harbour Courier';

test('a picture from the library goes into a text as a figure and leads the article', async () => {
  const { context, page, problems } = await signIn('maeve@harbourcourier.example');

  // 1. Into the library, then described.
  await page.goto(base + '/admin/media');
  await page.setInputFiles('#files', { name: 'kestrel-dusk.png', mimeType: 'image/png', buffer: await photo() });
  await page.click('form[data-upload] button[type=submit]');
  await page.waitForSelector('.media-tile a[href^="/admin/media/"]');
  const tile = page.locator('.media-tile', { hasText: 'kestrel-dusk.png' });
  const href = await tile.locator('a').first().getAttribute('href');
  const id = Number(href.split('/').pop());
  assert.ok(id > 0, href);
  assert.equal(await tile.locator('.flag').innerText(), 'no alt text', 'flagged until described');
  await page.goto(base + href);
  await page.fill('#alt', ALT);
  await page.fill('#caption', CAPTION);
  await page.fill('#credit', CREDIT);
  await page.click('form.narrow-form button[type=submit] >> nth=0');
  await page.waitForSelector('.notice');

  // 2. A new article; the dialog puts the figure where the cursor is.
  await page.goto(base + '/admin/articles/new');
  await page.fill('#headline', 'Kestrel sails the last winter crossing');
  await page.fill('#body', 'The ferry left at 17:10.\n\nPassengers waved from the quay.');
  await page.selectOption('#primary_section', 'news');
  await page.locator('#body').evaluate((t) => t.setSelectionRange(24, 24)); // after the first paragraph
  await page.click('[data-insert-picture]');
  const insert = page.locator('.picture-picker button', { hasText: ALT });
  await insert.waitFor();
  await page.screenshot({ path: join(shots, 'admin-picture-dialog.png') });
  await insert.click();
  const body = await page.inputValue('#body');
  assert.equal(
    body,
    `The ferry left at 17:10.\n\n> [!FIGURE]\n> ![${ALT}](/media/${id})\n> ${CAPTION}\n> Credit: ${CREDIT}\n\nPassengers waved from the quay.`,
  );
  // The live preview draws the figure (the picture itself once its files are made).
  await page.waitForSelector('.preview-pane figure figcaption');
  assert.match(await page.locator('.preview-pane figure figcaption').innerText(), /winter timetable/);
  await page.selectOption('#status', 'published');
  await page.click('fieldset button[type=submit]');
  await page.waitForURL(/\/admin\/articles\/\d+\?saved=1/);
  const article = Number(new URL(page.url()).pathname.split('/').pop());

  // 3. The featured picture, chosen from the library; without scripts the library shows the
  // figure to copy.
  await page.goto(`${base}/admin/media?for=${article}`);
  assert.match(await page.locator(`#fig-${id}`).inputValue(), /^> \[!FIGURE\]\n> !\[/);
  await page.locator('.media-tile', { hasText: ALT }).locator('text=Use this picture').click();
  await page.waitForURL(/saved=1/);
  assert.equal(await page.locator('.thumb').count(), 1);
  assert.deepEqual(problems, []);
  await context.close();

  // 4. A reader on a phone: AVIF at the phone's width, sizes that hold, caption and credit.
  await processed(`/media/${id}/1/640.avif`);
  await processed(`/media/${id}/1/16x9.jpg`);
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3 });
  const reader = await phone.newPage();
  let permalink;
  for (let i = 0; i < 50 && !permalink; i++) {
    const front = await fetch(base + '/').then((x) => x.text());
    permalink = front.match(/href="([^"]*kestrel-sails-the-last-winter-crossing[^"]*)"/)?.[1];
    if (!permalink) await new Promise((res) => setTimeout(res, 200));
  }
  assert.ok(permalink, `article ${article} is on the front page`);
  // The page left the picture out while its files were being made; it shows it once they are.
  for (let i = 0; i < 100; i++) {
    const html = await fetch(base + permalink).then((x) => x.text());
    if (html.includes(`/media/${id}/1/1280.avif`)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  await reader.goto(base + permalink);
  const figure = reader.locator('.story-body figure');
  assert.equal(await figure.locator('figcaption').innerText(), `${CAPTION} ${CREDIT}`.replace(CREDIT, CREDIT.toUpperCase()));
  const img = figure.locator('picture img');
  await img.scrollIntoViewIfNeeded();
  await reader.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  const shown = await img.evaluate((el) => ({ src: el.currentSrc, w: el.naturalWidth, width: el.getAttribute('width'), alt: el.alt, lazy: el.loading }));
  assert.match(shown.src, new RegExp(`/media/${id}/1/1280\\.avif$`), 'a 390 px phone at 3x takes the 1280 AVIF');
  // (naturalWidth is density-corrected for a srcset: the 1280 file drawn at 3x is 390 wide.)
  assert.deepEqual([shown.w, shown.width, shown.alt, shown.lazy], [390, '1600', ALT, 'lazy']);
  const lead = reader.locator('.featured picture img');
  const leadShown = await lead.evaluate((el) => ({ src: el.currentSrc, priority: el.getAttribute('fetchpriority') }));
  assert.match(leadShown.src, /\.avif$/);
  assert.equal(leadShown.priority, 'high');
  const og = await reader.getAttribute('meta[property="og:image"]', 'content');
  assert.match(og, new RegExp(`/media/${id}/1/16x9\\.jpg$`));
  await reader.screenshot({ path: join(shots, 'article-figure-phone.png'), fullPage: true });
  await phone.close();
});
