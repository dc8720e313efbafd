// Starts the release binary with the demo edition on a fresh data directory and a free port.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const shots = join(root, 'target', 'screenshots');

export async function startGazette() {
  const binary = process.env.GAZETTE_BIN || join(root, 'target', 'release', 'gazette');
  const port = 3400 + Math.floor(Math.random() * 2000);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'gazette-e2e-'));
  const server = spawn(binary, ['--data-dir', dataDir, 'serve', '--demo', '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(base + '/robots.txt')).ok) return { server, base }; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gazette did not start');
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}
