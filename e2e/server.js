// Starts the release binary with the demo edition on a fresh data directory. The server picks
// its own free port (`--listen 127.0.0.1:0`) and the address is read from its log, so a port
// taken by another service on the machine cannot stop a run. A server that exits or does not
// come up within a minute fails the test with its own log, and is never left running.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const shots = join(root, 'target', 'screenshots');

const running = new Set();
// Servers die with the test process, however it ends: a normal exit, a failure, a timeout
// signal from the runner or from CI's `timeout`.
const killAll = () => { for (const child of running) child.kill('SIGKILL'); };
process.on('exit', killAll);
for (const [signal, n] of [['SIGHUP', 1], ['SIGINT', 2], ['SIGTERM', 15]]) {
  process.on(signal, () => { killAll(); process.exit(128 + n); });
}

// `pictures`: with the demo's drawn pictures (processed in the background after the start).
export async function startGazette({ timeoutMs = 60_000, dataDir: given, pictures = false } = {}) {
  const binary = process.env.GAZETTE_BIN || join(root, 'target', 'release', 'gazette');
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'gazette-e2e-'));
  const server = spawn(binary, ['--data-dir', dataDir, 'serve', '--demo', ...(pictures ? [] : ['--no-pictures']), '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  running.add(server);
  server.on('exit', () => running.delete(server));
  let log = '';
  try {
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gazette did not start within ${timeoutMs} ms`)), timeoutMs);
      // The log is on stdout, errors before it starts on stderr; both are kept for the report.
      for (const stream of [server.stdout, server.stderr]) {
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          if (!log.includes('Gazette is serving')) log += chunk;
          if (stream === server.stderr) process.stderr.write(chunk);
          const found = log.match(/Gazette is serving (http:\/\/[0-9.:]+)\//);
          if (found) { clearTimeout(timer); resolve(found[1]); }
        });
      }
      server.on('error', (e) => { clearTimeout(timer); reject(e); });
      server.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`gazette exited before serving (code ${code}, signal ${signal})`));
      });
    });
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(base + '/robots.txt', { signal: AbortSignal.timeout(5_000) });
        if (r.ok) return { server, base };
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`gazette at ${base} does not answer /robots.txt`);
  } catch (e) {
    server.kill('SIGKILL');
    server.stdout.destroy();
    server.stderr.destroy();
    e.message += `\n--- gazette's log ---\n${log}`;
    throw e;
  }
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

// Signs a demo account in, in a new desktop-sized context. `problems` collects script errors,
// console errors and, with `failedRequests`, every answer of 400 or more.
export async function signIn(browser, base, email, { failedRequests = false, password = 'courier-demo' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  if (failedRequests) page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  await page.goto(base + '/admin');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/admin\/articles/);
  return { context, page, problems };
}
