// `--offline` names every source it lacks, in one error, and never touches the
// network: a project whose lock pins two sources of each of two recipes, an empty
// download cache, and sources on a loopback server that counts connections.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { fakePin, writeLockFor } from '../helpers/lock.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer(); // serves nothing
});
afterAll(async () => {
  await server.close();
});
afterEach(cleanupProjects);

const recipe = (name: string) =>
  `name: ${name}\nversion: 1.0.0\nsources:\n  - url: ${server.url(`/${name}-1.0.0.tar`)}\n  - url: ${server.url(`/${name}-extra.tar`)}\n    path: extra\nbuild:\n  - write: $out/share/${name}.txt\n    content: "${name}\\n"\n`;

async function project(): Promise<string> {
  const dir = await makeProject({ 'recipes/alpha.yaml': recipe('alpha'), 'recipes/beta.yaml': recipe('beta') });
  await writeLockFor(dir);
  return dir;
}

const env = (dir: string) => ({ cwd: dir, env: { HOME: dir, CI: undefined } });

/** The lines of the error, in order: every source of both recipes, with its pin. */
const expectedLines = () =>
  ['alpha', 'beta'].flatMap((r) => [
    `  ${r}: ${server.url(`/${r}-1.0.0.tar`)} (${fakePin(`${r}:0`)}) is not in the download cache`,
    `  ${r}: ${server.url(`/${r}-extra.tar`)} (${fakePin(`${r}:1`)}) is not in the download cache`,
  ]);

describe('--offline with an empty download cache', () => {
  it.each([['fetch'], ['install'], ['lock', 'alpha', 'beta']])('`intact %s` names all four missing sources and asks no server', async (...args) => {
    const dir = await project();
    const before = server.total();
    const r = await runCli([...args, '--offline'], env(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[OFFLINE_MISSING]: offline: 4 sources cannot come from the download cache:');
    const lines = r.stderr.split('\n').filter((l) => /^ {2}(alpha|beta): /.test(l));
    expect(lines).toEqual(expectedLines());
    expect(r.stderr.match(/hint: run once with the network/g)).toHaveLength(1);
    expect(server.total()).toEqual(before);
  });
});
