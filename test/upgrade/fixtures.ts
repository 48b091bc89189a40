// Shared fixtures of the upgrade tests: a project that is a real git repository
// (commits on main, branches), a fetch context against a fake npm registry on
// loopback, and a fake npm package with several versions published at known times.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DownloadCache } from '../../src/fetch/cache.js';
import { hashMember } from '../../src/fetch/member.js';
import { loadNpmConfig, type NpmConfig } from '../../src/fetch/npmrc.js';
import type { FetchContext } from '../../src/fetch/context.js';
import { DEFAULT_LIMITS } from '../../src/fetch/types.js';
import type { LockDeps } from '../../src/upgrade/index.js';
import { git, testGitEnv } from '../helpers/git-repo.js';
import { makeProject } from '../helpers/project.js';
import { makeTarball, type FakePackage } from '../helpers/npm-registry.js';

export const LIMITS = { ...DEFAULT_LIMITS, retries: 0, totalTimeoutMs: 10_000, connectTimeoutMs: 2_000, idleTimeoutMs: 5_000 };

export interface GitProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  git(...args: string[]): Promise<string>;
  write(files: Record<string, string>): Promise<void>;
  /** Add everything and commit; returns the commit id. */
  commit(message: string): Promise<string>;
}

/** A project folder that is a git repository with one commit of `files` on main. */
export async function gitProject(files: Record<string, string>, opts: { commit?: boolean } = {}): Promise<GitProject> {
  const dir = await makeProject(files);
  await mkdir(join(dir, '.home'), { recursive: true });
  await writeFile(join(dir, '.gitignore'), '.home/\nstore/\n');
  const env = testGitEnv(join(dir, '.home'), {
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_AUTHOR_DATE: '2001-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2001-01-01T00:00:00Z',
  });
  const p: GitProject = {
    dir,
    env,
    git: (...args) => git(args, dir, env),
    write: async (more) => {
      for (const [rel, text] of Object.entries(more)) {
        await mkdir(dirname(join(dir, rel)), { recursive: true });
        await writeFile(join(dir, rel), text);
      }
    },
    commit: async (message) => {
      await git(['add', '-A', '.'], dir, env);
      await git(['commit', '-q', '--allow-empty', '-m', message], dir, env);
      return git(['rev-parse', 'HEAD'], dir, env);
    },
  };
  await p.git('init', '-q', '-b', 'main', '.');
  if (opts.commit !== false) await p.commit('initial');
  return p;
}

export async function npmConfigFor(dir: string, registry: string): Promise<NpmConfig> {
  return loadNpmConfig({ cwd: dir, home: join(dir, '.home'), env: { npm_config_registry: registry, PREFIX: join(dir, '.home', 'prefix') }, launcherEnv: {} });
}

export function fetchContext(dir: string, registry: string): FetchContext {
  let cfg: Promise<NpmConfig> | undefined;
  return {
    projectDir: dir,
    cache: new DownloadCache(join(dir, 'store')),
    limits: LIMITS,
    npmConfig: () => (cfg ??= npmConfigFor(dir, registry)),
    env: {},
    offline: false,
  };
}

export function lockDeps(dir: string, registry: string): LockDeps {
  const fetch = fetchContext(dir, registry);
  return { fetch, jobs: 2, hashMember: (file, member, o) => hashMember(file, member, { ...o, tmpDir: fetch.cache.tmpDir }) };
}

const DAY = 24 * 3600 * 1000;
/** "Now" of the tests; publish times are relative to it. */
export const NOW = new Date('2024-06-01T00:00:00Z');
export const daysAgo = (n: number): string => new Date(NOW.getTime() - n * DAY).toISOString();

/** `tool`: 1.0.0, 1.1.0, 1.2.0-rc.1, 1.2.0 (3 days old), 2.0.0 (1 day old, deprecated); MIT. */
export async function toolPackage(): Promise<FakePackage> {
  const tgz = async (v: string) => makeTarball({ 'package.json': JSON.stringify({ name: 'tool', version: v }), 'bin/tool': `#!/bin/sh\necho tool ${v}\n` });
  return {
    name: 'tool',
    versions: {
      '1.0.0': { tarball: await tgz('1.0.0'), time: daysAgo(400), license: 'MIT', description: 'A tool' },
      '1.1.0': { tarball: await tgz('1.1.0'), time: daysAgo(100), license: 'MIT', description: 'A tool' },
      '1.2.0-rc.1': { tarball: await tgz('1.2.0-rc.1'), time: daysAgo(20), license: 'MIT' },
      '1.2.0': { tarball: await tgz('1.2.0'), time: daysAgo(3), license: 'MIT' },
      '2.0.0': { tarball: await tgz('2.0.0'), time: daysAgo(1), license: 'MIT', deprecated: 'use 1.2.0' },
    },
  };
}
