// `intact upgrade NAME VERSION`: move one recipe to another exact version, as an
// edit ready for review. In order:
// 1. refuse a floating version, an unknown recipe, the same version, and (unless
//    forced) a recipe file with uncommitted edits or a project outside git;
// 2. resolve git sources' new commits (--rev, or the tag v<VERSION> / <VERSION>);
// 3. plan the edits (edit.ts): version, npm specs, URLs, mirrors, archive paths;
//    recipes that depend on NAME@old are edited to NAME@new;
// 4. lock NAME and everything whose closure moves with it in a staged copy of
//    the project: every new pin is fetched and checked there;
// 5. only then write recipe(s) and lock into the project (stage.ts);
// 6. build, when the caller passes a build function.
// Entries of the lock that are not NAME or its dependants never change.
import { requireRecipes } from '../recipe/names.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { byCodePoint } from '../canonical-json.js';
import { finding, IntactError, type Finding } from '../errors.js';
import { LOCK_FILE, serializeLock } from '../lock/index.js';
import type { LockChange } from '../lock/relock.js';
import { allDeps, classifyVersion, loadRecipes, parseRecipe, splitSpec } from '../recipe/index.js';
import type { LoadedRecipe } from '../recipe/types.js';
import { diffSnapshots, type DiffReport } from './diff.js';
import { linesMentioning, planDepEdit, planVersionEdit, type FieldChange } from './edit.js';
import { openRepo, statusOf } from './git.js';
import { checkRev, revForVersion } from './git-rev.js';
import { lockStaged, type LockDeps } from './lock-staged.js';
import { snapshotOf } from './snapshot.js';
import { stageProject, writeProjectFiles, type FileWrite } from './stage.js';
import { editYaml } from './yaml-edit.js';

export interface BuildInfo {
  platform: string;
  status: string;
  output?: string;
}

export interface UpgradeOptions {
  name: string;
  version: string;
  /** The new commit for the recipe's git source; default: resolved from the tag. */
  rev?: string;
  /** Run over uncommitted edits of the recipe, or outside a git repository. */
  force?: boolean;
  lock: LockDeps;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Build the upgraded recipe once it is written (the CLI passes `intact install NAME`). */
  build?: (name: string) => Promise<BuildInfo>;
}

export interface UpgradeResult {
  /** False when the project's recipes stop locking (see findings); nothing was written. */
  ok: boolean;
  written: boolean;
  name: string;
  from: string;
  to: string;
  file: string;
  changes: FieldChange[];
  /** Git sources: the tag each new commit came from. */
  tags: { field: string; tag: string; rev: string }[];
  dependents: { name: string; file: string; changes: FieldChange[] }[];
  /** Every recipe locked again: NAME, and those whose closure holds it. */
  relocked: string[];
  lockChanges: LockChange[];
  report?: DiffReport;
  /** Warnings (old version left in the recipe, declared pins dropped) or, when !ok, why it stopped. */
  findings: Finding[];
  build?: BuildInfo | { error: IntactError };
}

export async function upgrade(projectDir: string, opts: UpgradeOptions): Promise<UpgradeResult> {
  const { name, version: to } = opts;
  const verdict = classifyVersion(to, 'recipe');
  if (!verdict.exact) {
    throw new IntactError('VERSION_FLOATING', `cannot upgrade ${name} to "${to}": ${verdict.reason ?? 'it floats'}`, {
      found: to,
      hint: verdict.hint ?? 'give an exact version',
    });
  }
  const { recipes } = await loadRecipes(projectDir);
  requireRecipes(
    [name],
    recipes.map((r) => r.recipe.name),
  );
  const target = recipes.find((r) => r.recipe.name === name)!;
  const from = target.recipe.version;
  if (from === to) {
    throw new IntactError('UPGRADE_SAME_VERSION', `${name} is already at ${to}`, {
      file: target.file,
      ...target.locate(['version']),
      field: 'version',
      hint: 'to pin its sources again, run `intact lock ' + name + '`',
    });
  }
  await refuseUncommitted(projectDir, target, opts);

  const { revs, tags } = await resolveGitRevs(target, to, opts);
  const plan = planVersionEdit(target, to, revs);
  const fixable = (target.recipe.sources ?? []).some((s) => !('file' in s));
  if (plan.changedSources.length === 0 && fixable) {
    throw new IntactError('UPGRADE_NOTHING_TO_EDIT', `no source of ${target.file} uses version ${from}, so an upgrade cannot tell what to change`, {
      file: target.file,
      ...target.locate(['sources']),
      field: 'sources',
      hint: `edit the sources by hand (${plan.untouched.map((u) => u.field).join(', ')}), set \`version: ${to}\`, then run \`intact lock ${name}\``,
    });
  }
  const before = new Map<string, string>();
  const after = new Map<string, string>();
  const textOf = async (r: LoadedRecipe): Promise<string> => {
    const t = before.get(r.file) ?? (await readFile(join(projectDir, r.file), 'utf8'));
    before.set(r.file, t);
    return t;
  };
  after.set(target.file, checked(editYaml(await textOf(target), target.file, plan.edits), target.file));

  const dependents: UpgradeResult['dependents'] = [];
  for (const r of recipes) {
    const dep = planDepEdit(r, name, from, to);
    if (dep.edits.length === 0) continue;
    after.set(r.file, checked(editYaml(await textOf(r), r.file, dep.edits), r.file));
    dependents.push({ name: r.recipe.name, file: r.file, changes: dep.changes });
  }
  const relocked = [name, ...dependantsOf(recipes, name)];
  const lockBefore = await readFile(join(projectDir, LOCK_FILE), 'utf8').catch(() => undefined);

  const staged = await stageProject(projectDir);
  let locked;
  try {
    for (const [file, text] of after) await staged.write(file, text);
    locked = await lockStaged(staged, relocked, opts.lock, `upgrade ${name} to ${to}`);
  } finally {
    await staged.cleanup();
  }
  const result: UpgradeResult = {
    ok: locked.ok,
    written: false,
    name,
    from,
    to,
    file: target.file,
    changes: plan.changes,
    tags,
    dependents,
    relocked,
    lockChanges: locked.ok ? locked.changes : [],
    findings: locked.ok ? [] : locked.findings,
  };
  if (!locked.ok) return result;

  const lockText = serializeLock(locked.lock);
  const writes: FileWrite[] = [...after].map(([rel, text]) => ({ rel, text, before: before.get(rel) }));
  writes.push({ rel: LOCK_FILE, text: lockText, before: lockBefore });
  await writeProjectFiles(projectDir, writes);
  result.written = true;

  result.report = diffSnapshots(snapshotOf('the recipes before', before, lockBefore), snapshotOf('the upgrade', after, lockText));
  result.findings.push(...warnings(target, after.get(target.file)!, from, to, plan.dropped));
  if (opts.build) {
    try {
      result.build = await opts.build(name);
    } catch (e) {
      if (!(e instanceof IntactError)) throw e;
      result.build = { error: e };
    }
  }
  return result;
}

/** Parse the edited text again: an edit must never produce a recipe intact refuses. */
function checked(text: string, file: string): string {
  const { findings } = parseRecipe(text, file);
  const bad = findings.find((f) => f.severity === 'error');
  if (bad) throw IntactError.fromFinding({ ...bad, hint: `${bad.hint ?? ''}; nothing was changed`.replace(/^; /, '') });
  return text;
}

async function refuseUncommitted(projectDir: string, target: LoadedRecipe, opts: UpgradeOptions): Promise<void> {
  if (opts.force) return;
  let repo;
  try {
    repo = await openRepo(projectDir, opts.env, opts.signal);
  } catch (e) {
    if (e instanceof IntactError && e.code === 'NOT_GIT_REPO') {
      throw new IntactError(
        'NOT_GIT_REPO',
        `${e.message}: an upgrade is an edit for review, and intact cannot tell whether ${target.file} holds work that is not committed`,
        {
          file: target.file,
          hint: 'commit the project to git first, or pass --force to upgrade anyway',
        },
      );
    }
    throw e;
  }
  const status = await statusOf(repo, target.file);
  if (status !== '') {
    throw new IntactError('UPGRADE_DIRTY', `${target.file} has uncommitted edits (git status: ${status.split('\n')[0]!.trim()})`, {
      file: target.file,
      hint: 'commit or stash them first, so the upgrade is its own change; or pass --force to upgrade over them',
    });
  }
}

async function resolveGitRevs(target: LoadedRecipe, to: string, opts: UpgradeOptions): Promise<{ revs: Map<number, string>; tags: UpgradeResult['tags'] }> {
  const revs = new Map<number, string>();
  const tags: UpgradeResult['tags'] = [];
  const gits = (target.recipe.sources ?? []).flatMap((s, i) => ('git' in s ? [{ i, url: s.git }] : []));
  if (opts.rev !== undefined) {
    if (gits.length !== 1) {
      throw new IntactError('USAGE', `--rev needs a recipe with exactly one git source; ${target.file} has ${gits.length}`, {
        file: target.file,
        hint: gits.length === 0 ? 'drop --rev' : 'edit each rev by hand, then run `intact lock ' + target.recipe.name + '`',
      });
    }
    revs.set(gits[0]!.i, checkRev(opts.rev));
    return { revs, tags };
  }
  for (const g of gits) {
    const found = await revForVersion(g.url, to, {
      recipeName: target.recipe.name,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    revs.set(g.i, found.rev);
    tags.push({ field: `sources[${g.i}].rev`, tag: found.tag, rev: found.rev });
  }
  return { revs, tags };
}

/** Every recipe whose closure holds `name` (they are locked again: their closure moves). */
function dependantsOf(recipes: readonly LoadedRecipe[], name: string): string[] {
  const users = new Map<string, string[]>();
  for (const r of recipes) {
    for (const d of allDeps(r.recipe)) {
      const dep = splitSpec(d)?.name;
      if (dep !== undefined) users.set(dep, [...(users.get(dep) ?? []), r.recipe.name]);
    }
  }
  const out = new Set<string>();
  const walk = (n: string): void => {
    for (const u of users.get(n) ?? []) {
      if (u === name || out.has(u)) continue;
      out.add(u);
      walk(u);
    }
  };
  walk(name);
  return [...out].sort(byCodePoint);
}

function warnings(target: LoadedRecipe, text: string, from: string, to: string, dropped: { field: string; value: string }[]): Finding[] {
  const out: Finding[] = [];
  for (const line of linesMentioning(text, from)) {
    out.push(
      finding('UPGRADE_LEFTOVER', `${target.file} still mentions ${from} on line ${line}`, {
        file: target.file,
        line,
        hint: `check whether it should read ${to} (build steps and paths are not edited by upgrade)`,
      }),
    );
  }
  for (const d of dropped) {
    out.push(
      finding('UPGRADE_INTEGRITY_DROPPED', `removed ${d.field} (${d.value.slice(0, 20)}…): it pinned the bytes of ${from}`, {
        file: target.file,
        field: d.field,
        hint: `if upstream publishes a hash for ${to}, add it back as ${d.field.split('.').pop()}; the lock pins what was fetched`,
      }),
    );
  }
  return out;
}
