// Defect class: the lock and recipe names read as code rather than data. A
// repeated key in intact.lock let the last value win while a reviewer read the
// first; a `__proto__` entry vanished; a recipe named `constructor` made every
// command fail with INTERNAL; fetch and verify parsed integrity differently;
// `--json lock` printed nothing when recipes had errors; CI's NOT_LOCKED named
// no recipe.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseLock, serializeLock } from '../../src/lock/parse.js';
import { classifyIntegrity } from '../../src/recipe/integrity.js';
import { parseStrongIntegrity } from '../../src/fetch/sri.js';
import { IntactError } from '../../src/errors.js';
import { serve, startServer, type TestServer } from '../helpers/http-server.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

const PIN = `sha512-${createHash('sha512').update('x').digest('base64')}`;
const OTHER = `sha512-${createHash('sha512').update('y').digest('base64')}`;
const entry = (integrity: string) =>
  `{"version": "1.0.0", "recipeHash": "h", "sources": [{"kind": "url", "url": "https://e.test/a", "integrity": ${integrity}}], "deps": [], "closure": []}`;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ '/a.txt': serve(Buffer.from('hello\n')) });
});
afterAll(() => server.close());
afterEach(cleanupProjects);

const recipe = (name: string) => `name: ${name}\nversion: 1.0.0\nsources:\n  - url: ${server.url('/a.txt')}\n`;

describe('intact.lock is read strictly, as data', () => {
  it('refuses a key given twice, naming the file and line', () => {
    const text = `{\n  "lockfileVersion": 1,\n  "recipes": {\n    "a": {"version": "1.0.0", "recipeHash": "h",\n "sources": [{"kind": "url", "url": "https://e.test/a",\n "integrity": "${PIN}",\n "integrity": "${OTHER}"}], "deps": [], "closure": []}\n  }\n}\n`;
    expect(() => parseLock(text)).toThrow(IntactError);
    expect(() => parseLock(text)).toThrow(expect.objectContaining({ code: 'LOCK_INVALID', file: 'intact.lock', line: 7, field: 'integrity' }));
  });

  it('keeps a `__proto__` entry as an entry', () => {
    const text = `{"lockfileVersion": 1, "recipes": {"__proto__": ${entry(JSON.stringify(PIN))}}}`;
    const lock = parseLock(text);
    expect(Object.keys(lock.recipes)).toEqual(['__proto__']);
    expect(serializeLock(lock)).toContain('"__proto__"');
  });

  it('has one integrity parser: fetch refuses what verify refuses', () => {
    for (const v of [` ${PIN}`, `${PIN}\n`, `${PIN}\t`]) {
      expect(classifyIntegrity(v).ok).toBe(false);
      expect(() => parseStrongIntegrity(v)).toThrow(expect.objectContaining({ code: 'INTEGRITY_MALFORMED' }));
    }
  });
});

describe('recipe names are data', () => {
  it.each(['constructor', 'tostring', 'hasownproperty', 'valueof'])('a recipe named %s locks and verifies', async (name) => {
    const dir = await makeProject({ [`recipes/${name}.yaml`]: recipe(name), 'recipes/b.yaml': recipe('b') });
    const env = { cwd: dir, env: { HOME: dir, CI: undefined } };
    const lock = await runCli(['lock'], env);
    expect(lock.stderr).not.toContain('INTERNAL');
    expect(lock.code).toBe(0);
    expect(await runCli(['verify'], env)).toMatchObject({ code: 0 });
    expect((await runCli(['list'], env)).stderr).not.toContain('INTERNAL');
  });
});

describe('lock output', () => {
  it('`--json lock` prints one JSON document when recipes have errors', async () => {
    const dir = await makeProject({ 'recipes/a.yaml': 'name: a\nversion: latest\nsources:\n  - url: https://e.test/a\n' });
    const r = await runCli(['--json', 'lock'], { cwd: dir, env: { HOME: dir, CI: undefined } });
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: boolean; findings: { code: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.findings.map((f) => f.code)).toContain('VERSION_FLOATING');
  });

  it("CI=true lock's NOT_LOCKED names the recipes", async () => {
    const dir = await makeProject({ 'recipes/alpha.yaml': recipe('alpha'), 'recipes/beta.yaml': recipe('beta') });
    const r = await runCli(['lock'], { cwd: dir, env: { HOME: dir, CI: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/NOT_LOCKED\]: [^\n]*alpha, beta/);
  });
});
