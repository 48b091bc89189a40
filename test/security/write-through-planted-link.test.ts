// Defect class: writing through a symlink planted in intact's own folders. A
// repository can commit links under store/ or .intact/ (a tracked file under an
// ignored folder is checked out all the same); `install` then overwrote what
// they pointed at (store/logs/<name>.last, .intact/.profile-<pid>.json, temp
// files in store/roots/), and the gc root itself became a link.
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeProfile } from '../../src/project/profile.js';
import { writeNoFollow } from '../../src/store/no-follow.js';
import { layoutOf, resolveStore } from '../../src/store/paths.js';
import { holdRoot } from '../../src/store/roots.js';
import { cleanupProjects, makeProject, runCli } from '../helpers/project.js';

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  await cleanupProjects();
});

const TOOL = 'name: tool\nversion: 1.0.0\nbuild:\n  - write: $out/bin/tool\n    content: "#!/bin/sh\\necho tool\\n"\n    executable: true\nbin: [bin/tool]\n';

async function setup(): Promise<{ project: string; victim: string }> {
  const root = await mkdtemp(join(tmpdir(), 'intact-planted-'));
  made.push(root);
  const project = join(root, 'project');
  await mkdir(project);
  const victim = join(root, 'victim.txt');
  await writeFile(victim, 'precious\n');
  return { project, victim };
}

describe('intact never writes through a link in its own folders', () => {
  it('the profile manifest, its temp file and the gc root replace planted links', async () => {
    const { project, victim } = await setup();
    const store = layoutOf(join(project, 'store'));
    await mkdir(store.roots, { recursive: true });
    await mkdir(join(project, '.intact'), { recursive: true });
    const id = createHash('sha256').update(project).digest('hex').slice(0, 32);
    const planted = [
      join(project, '.intact', `.profile-${process.pid}.json`),
      join(project, '.intact', 'profile.json'),
      join(store.roots, `.${id}-${process.pid}.tmp`),
      join(store.roots, `${id}.json`),
    ];
    for (const p of planted) await symlink(victim, p);
    await writeProfile(project, store, []);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await lstat(join(store.roots, `${id}.json`))).isFile()).toBe(true);
    expect((await lstat(join(project, '.intact', 'profile.json'))).isFile()).toBe(true);
  });

  it('install replaces a planted store/logs/<name>.last link instead of writing through it', async () => {
    const { victim } = await setup();
    const dir = await makeProject({ 'recipes/tool.yaml': TOOL });
    await mkdir(join(dir, 'store', 'logs'), { recursive: true });
    await symlink(victim, join(dir, 'store', 'logs', 'tool.last'));
    const run = (args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, CI: undefined } });
    expect((await run(['lock'])).code).toBe(0);
    expect((await run(['install', '--sandbox=off'])).code).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await lstat(join(dir, 'store', 'logs', 'tool.last'))).isFile()).toBe(true);
  });

  it('writeNoFollow and a pending root never write through a link', async () => {
    const { project, victim } = await setup();
    const store = layoutOf(join(project, 'store'));
    await mkdir(store.logs, { recursive: true });
    await symlink(victim, join(store.logs, 'x.last'));
    await writeNoFollow(store.logs, 'x.last', 'key\n');
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(await readFile(join(store.logs, 'x.last'), 'utf8')).toBe('key\n');
    const release = await holdRoot(store, project, []);
    await release();
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
  });

  it.each(['logs', 'roots', 'tmp', 'meta'])('refuses a store whose %s folder is a link', async (sub) => {
    const { project } = await setup();
    await mkdir(join(project, 'store'), { recursive: true });
    await symlink(tmpdir(), join(project, 'store', sub));
    expect(() => resolveStore(project, undefined)).toThrow(expect.objectContaining({ code: 'FOLDER_IS_LINK' }));
  });

  it('refuses a default store that is a link, and a profile folder that is one', async () => {
    const { project } = await setup();
    await symlink(tmpdir(), join(project, 'store'));
    expect(() => resolveStore(project, undefined)).toThrow(expect.objectContaining({ code: 'FOLDER_IS_LINK' }));
    const other = await setup();
    await symlink(tmpdir(), join(other.project, '.intact'));
    await expect(writeProfile(other.project, layoutOf(join(other.project, 'store')), [])).rejects.toMatchObject({ code: 'FOLDER_IS_LINK' });
  });
});
