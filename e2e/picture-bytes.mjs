// What a phone downloads for the front page and an article of the demo edition with its
// pictures, in Chromium at 390 px wide, beside what it would have downloaded had each picture
// been served as uploaded (the behaviour before the picture library). Also takes screenshots.
//
//   cargo build --release && cd e2e && node picture-bytes.mjs
//
// Waits until every picture the pages name has been processed (the demo's 35 pictures take a
// minute or two after the start).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, shots, startGazette } from './server.js';

mkdirSync(shots, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'gazette-pictures-'));
const { server, base } = await startGazette({ pictures: true, dataDir });
const browser = await launch();

// Pages leave a picture out until its files are made: wait for every job, then for the pages
// to be rendered again (the site follows its events every second or so).
async function waitForJobs() {
  for (let i = 0; i < 1800; i++) {
    const left = Number(execFileSync('sqlite3', [join(dataDir, 'gazette.db'), 'SELECT COUNT(*) FROM picture_jobs']).toString().trim());
    if (left === 0) return new Promise((r) => setTimeout(r, 3000));
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the pictures were not processed in 15 minutes');
}

async function waitForPictures(path) {
  const html = await (await fetch(base + path)).text();
  const files = [...new Set([...html.matchAll(/\/media\/\d+\/\d+\/[0-9x]+\.(?:avif|webp|jpg|png)/g)].map((m) => m[0]))];
  for (let i = 0; i < 1800; i++) {
    const codes = await Promise.all(files.map(async (f) => (await fetch(base + f, { method: 'HEAD' })).status));
    if (codes.every((c) => c === 200)) return files.length;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`pictures of ${path} were not processed in 15 minutes`);
}

async function measure(path, width, height, shot) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: width < 500 ? 3 : 1 });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  const pictures = [];
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  page.on('response', (r) => { if (/\/media\//.test(r.url())) pictures.push(r.url().replace(base, '')); });
  await page.goto(base + path, { waitUntil: 'networkidle' });
  // Scroll to the end so that lazy pictures load as a reader's would.
  await page.evaluate(async () => {
    for (let y = 0; y < document.body.scrollHeight; y += 400) { window.scrollTo(0, y); await new Promise((r) => setTimeout(r, 50)); }
  });
  await page.waitForLoadState('networkidle');
  if (shot) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, shot), fullPage: false });
  }
  await context.close();
  return { bytes, pictures };
}

try {
  await waitForJobs();
  const home = await (await fetch(base + '/')).text();
  const article = home.match(/href="(\/\d{4}\/\d{2}\/\d{2}\/[^"]+\/)"/)[1];
  console.log(`front page: ${await waitForPictures('/')} files; article ${article}: ${await waitForPictures(article)} files`);
  // The originals' sizes: each picture's upload, from the library's own record (sqlite3 CLI).
  const uploaded = (id) => Number(execFileSync('sqlite3', [join(dataDir, 'gazette.db'), `SELECT bytes FROM pictures WHERE id = ${Number(id)}`]).toString().trim());
  for (const [label, path] of [['front page', '/'], ['article', article]]) {
    const phone = await measure(path, 390, 844, `pictures-${label.replace(' ', '-')}-phone.png`);
    const desktop = await measure(path, 1280, 900, `pictures-${label.replace(' ', '-')}-desktop.png`);
    const ids = [...new Set(phone.pictures.map((u) => Number(u.split('/')[2])))];
    const sum = ids.reduce((s, id) => s + uploaded(id), 0);
    const before = `; the same ${ids.length} pictures as uploaded: ${(sum / 1024).toFixed(0)} kB`;
    console.log(`${label}: phone (390 px, 3x) ${(phone.bytes / 1024).toFixed(0)} kB in all, ${ids.length} pictures; desktop (1280 px) ${(desktop.bytes / 1024).toFixed(0)} kB${before}`);
  }
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
