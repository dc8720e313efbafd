// Hostile strings for the browser tests: the lists in ../shared/data/attack-strings/ (naughty
// strings, XSS, SQL and NoSQL injection), grouped by list, when that folder is present.
//
// CI runs a fixed, seeded sample of each list (GAZETTE_ATTACK_SAMPLE strings per list, 150 by
// default), so the run takes seconds and fails the same way every time; a release check runs
// every string with GAZETTE_ATTACK_SAMPLE=all (see docs/COMMENTS.md).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './server.js';

export const ATTACK_DIR = join(root, '..', 'shared', 'data', 'attack-strings');

/// Every list, whole: `{ blns: [...], nosql: [...], sqli: [...], xss: [...] }`, or null when
/// the shared data is absent. Folder notes (SOURCE.md) are not payloads; blns.txt repeats
/// blns.json with comments, so the JSON is read.
export function attackLists() {
  if (!existsSync(ATTACK_DIR)) return null;
  const lists = {};
  for (const folder of readdirSync(ATTACK_DIR).sort()) {
    const dir = join(ATTACK_DIR, folder);
    if (!statSync(dir).isDirectory()) continue;
    const out = [];
    const walk = (path) => {
      if (statSync(path).isDirectory()) {
        for (const name of readdirSync(path).sort()) walk(join(path, name));
        return;
      }
      if (/(^|\/)(source|readme|licen[cs]e)[^/]*$/i.test(path)) return;
      if (path.endsWith('blns.txt') && existsSync(path.replace(/\.txt$/, '.json'))) return;
      const text = readFileSync(path, 'utf8');
      if (path.endsWith('.json')) {
        const collect = (v) => {
          if (typeof v === 'string') out.push(v);
          else if (Array.isArray(v)) v.forEach(collect);
          else if (v && typeof v === 'object') Object.values(v).forEach(collect);
        };
        collect(JSON.parse(text));
        return;
      }
      for (const line of text.split('\n')) if (line.trim()) out.push(line);
    };
    walk(dir);
    lists[folder.split('-')[0]] = [...new Set(out)];
  }
  return lists;
}

/// A seeded pseudo-random generator (mulberry32): the same sample on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/// How many strings of each list a run takes: a number, or Infinity for `all`.
export function sampleSize() {
  const v = process.env.GAZETTE_ATTACK_SAMPLE ?? '150';
  if (v === 'all') return Infinity;
  const n = Number.parseInt(v, 10);
  if (!(n > 0)) throw new Error(`GAZETTE_ATTACK_SAMPLE must be a positive number or "all", not ${v}`);
  return n;
}

/// The built-in strings, then a seeded sample of each shared list (all of it when asked).
/// Returns `{ strings, summary }`; summary says what was taken from where, for the log.
export function attackStrings(builtIn, { perList = sampleSize(), seed = 20261202 } = {}) {
  const lists = attackLists();
  const strings = [...builtIn];
  const parts = [`${builtIn.length} built-in`];
  if (!lists) return { strings, summary: `${parts[0]} (../shared/data/attack-strings is absent)` };
  for (const [name, all] of Object.entries(lists)) {
    let taken = all;
    if (all.length > perList) {
      // A partial Fisher-Yates shuffle: the first perList of a seeded permutation.
      const pool = [...all];
      const next = rng(seed);
      for (let i = 0; i < perList; i++) {
        const j = i + Math.floor(next() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }
      taken = pool.slice(0, perList);
    }
    strings.push(...taken);
    parts.push(`${name} ${taken.length}/${all.length}`);
  }
  return { strings: [...new Set(strings)], summary: parts.join(', ') };
}

/// Runs `task` over `items` with at most `limit` at once; stops early when `signal` aborts.
export async function pool(items, limit, task, signal) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
