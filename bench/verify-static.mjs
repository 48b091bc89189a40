#!/usr/bin/env node
// bench/verify-static: `intact verify` on 200 generated recipes, against the bare
// cost of starting Node (`node -e 0`), measured in the same script as paired runs.
// Run by hand after `npm run build`:  node bench/verify-static.mjs [recipes] [runs]
// Target (issue 2): the ratio stays under 3x.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 200);
const RUNS = Number(process.argv[3] ?? 15);
const repo = fileURLToPath(new URL('..', import.meta.url));
const { makeEntry, projectState, withKeys, writeLock } = await import(join(repo, 'dist/lock/index.js'));

const dir = mkdtempSync(join(tmpdir(), 'intact-bench-verify-'));
mkdirSync(join(dir, 'recipes'));
const pin = (s) => `sha512-${createHash('sha512').update(s).digest('base64')}`;
for (let i = 0; i < N; i++) {
  const deps = i > 0 ? `deps: [pkg${i - 1}@1.${i - 1}.0${i > 2 ? `, pkg${Math.floor(i / 2)}@1.${Math.floor(i / 2)}.0` : ''}]\n` : '';
  writeFileSync(join(dir, 'recipes', `pkg${i}.yaml`), `# generated recipe ${i}
name: pkg${i}
version: 1.${i}.0
description: generated package ${i}
license: MIT
platforms: [linux-x64, linux-arm64]
sources:
  - url: https://example.invalid/pkg${i}-1.${i}.0.tar.gz
    mirrors: [https://mirror.invalid/pkg${i}-1.${i}.0.tar.gz]
    strip: 1
  - npm: "@scope/pkg${i}@1.${i}.0"
    platforms: [linux-arm64]
${deps}build:
  - run: [zig, cc, -O2, -o, "$out/bin/pkg${i}", main.c]
  - chmod: bin/pkg${i}
    mode: "0755"
bin: [bin/pkg${i}]
`);
}
const { states, graph } = await projectState(dir);
const lock = { lockfileVersion: 2, recipes: {} };
for (const s of states) {
  const sources = s.loaded.recipe.sources.map((src, j) => {
    const { strip, ...rest } = src;
    return { kind: 'url' in src ? 'url' : 'npm', ...rest, integrity: pin(`${s.loaded.recipe.name}${j}`) };
  });
  lock.recipes[s.loaded.recipe.name] = makeEntry(s, sources);
}
// Store keys as `intact lock` records them.
await writeLock(dir, withKeys(lock, graph));

function time(args, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base = [];
const intact = [];
time([join(repo, 'bin/intact.js'), 'verify'], dir); // warm the file cache
for (let i = 0; i < RUNS; i++) {
  base.push(time(['-e', '0'], dir));
  intact.push(time([join(repo, 'bin/intact.js'), 'verify'], dir));
}
const b = median(base);
const v = median(intact);
console.log(`recipes: ${N}, paired runs: ${RUNS}`);
console.log(`node -e 0:      ${b.toFixed(1)} ms (median)`);
console.log(`intact verify:  ${v.toFixed(1)} ms (median)`);
console.log(`ratio: ${(v / b).toFixed(2)}x (target < 3x)`);
if (process.env.KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
