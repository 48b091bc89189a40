// The recipe memo: `.intact/recipes.memo` in the project, each recipe file's
// checked parse keyed by the sha256 of its text. Parsing YAML, validating the
// schema and applying the rules is most of what `verify` and a no-op `install`
// do for a project that did not change (bench/verify-static.mjs); with the memo a
// recipe whose bytes are the same is read, hashed and taken as it was. A recipe
// whose text changed, or that had findings, is parsed again, so a stale or broken
// recipe is still found. Line numbers come from a parse made only when a finding
// asks for a place (yaml-full.ts).
//
// Security: the memo decides what `verify` sees, and the project folder is the
// repository's (a commit could carry a forged `.intact/recipes.memo`). So it is
// trusted only under an HMAC made with a key of the user's own
// (`$XDG_CACHE_HOME/intact/memo-key`, 0600), which no repository holds, and only
// for the intact code that wrote it (the stamp: the size and time of each module
// that decides a parse). Anything else about it, damaged or foreign, means no memo.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lazyLocator } from './yaml-full.js';
import type { LoadedRecipe, Recipe } from './types.js';

const FORMAT = 'intact-recipe-memo-1';
const MEMO_FILE = join('.intact', 'recipes.memo');

/** The modules whose code decides a recipe's parse and checks (see the stamp above). */
const DECIDERS = ['parse', 'yaml', 'yaml-full', 'schema', 'rules', 'exact', 'deb', 'integrity', 'url-secrets', 'types', 'memo'];

interface MemoBody {
  format: string;
  stamp: string;
  /** Project-relative recipe file → [sha256 of its text, the checked recipe]. */
  recipes: Record<string, [string, Recipe]>;
}

export interface RecipeMemo {
  /** The recipe as checked before, when `text` is what was checked then. */
  get(rel: string, text: string): LoadedRecipe | undefined;
  /** Remember a recipe that parsed with no finding at all. */
  put(rel: string, text: string, recipe: Recipe): void;
  /** Write the memo if it changed, holding only `files`; best effort (a read-only checkout keeps none). */
  save(files: readonly string[]): void;
}

export function openMemo(projectDir: string): RecipeMemo {
  const key = userKey();
  const stamp = codeStamp();
  const file = join(projectDir, MEMO_FILE);
  const body = key ? readMemo(file, key, stamp) : undefined;
  const recipes = body?.recipes ?? (Object.create(null) as MemoBody['recipes']);
  let changed = false;
  const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
  return {
    get(rel, text) {
      const m = recipes[rel];
      if (!m || m[0] !== sha(text)) return undefined;
      return { recipe: m[1], file: rel, locate: lazyLocator(text, rel) };
    },
    put(rel, text, recipe) {
      recipes[rel] = [sha(text), recipe];
      changed = true;
    },
    save(files) {
      const keep = new Set(files);
      for (const rel of Object.keys(recipes)) {
        if (!keep.has(rel)) {
          delete recipes[rel];
          changed = true;
        }
      }
      if (!changed || !key) return;
      const text = JSON.stringify({ format: FORMAT, stamp, recipes } satisfies MemoBody);
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        ownFolder(join(projectDir, '.intact'));
        writeFileSync(tmp, `${mac(key, text)}\n${text}`, { flag: 'wx', mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        rmSync(tmp, { force: true });
      }
    },
  };
}

/**
 * `.intact/`, ignoring itself: a project without `intact init`'s .gitignore line
 * (or a review's scratch copy) must not see the memo as a change to commit.
 */
function ownFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, '.gitignore'), '*\n', { flag: 'wx' });
  } catch {
    // Already there (or made by the user): theirs to keep.
  }
}

function readMemo(file: string, key: Buffer, stamp: string): MemoBody | undefined {
  try {
    const all = readFileSync(file, 'utf8');
    const nl = all.indexOf('\n');
    const text = all.slice(nl + 1);
    const want = Buffer.from(mac(key, text), 'hex');
    const got = Buffer.from(all.slice(0, nl), 'hex');
    if (nl < 0 || got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    const body = JSON.parse(text) as MemoBody;
    if (body.format !== FORMAT || body.stamp !== stamp) return undefined;
    return { ...body, recipes: Object.assign(Object.create(null), body.recipes) as MemoBody['recipes'] };
  } catch {
    return undefined;
  }
}

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The user's memo key, made on first use; undefined when there is no place for one. */
function userKey(): Buffer | undefined {
  const xdg = process.env['XDG_CACHE_HOME'];
  const home = process.env['HOME'] || homedir();
  // Never make a home folder: HOME=/nonexistent (a service, a build user) means no memo.
  if (!(xdg !== undefined && isAbsolute(xdg) ? existsSync(xdg) : existsSync(home))) return undefined;
  const dir = join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.cache'), 'intact');
  const file = join(dir, 'memo-key');
  try {
    const k = readFileSync(file);
    return k.length === 32 ? k : undefined;
  } catch {
    // First use: written whole under a temp name, then linked into place, so a
    // concurrent reader never sees half a key and the first writer wins.
    const tmp = join(dir, `memo-key.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, randomBytes(32), { flag: 'wx', mode: 0o600 });
      linkSync(tmp, file);
    } catch {
      // Another process linked its key first (read below), or there is no place.
    } finally {
      rmSync(tmp, { force: true });
    }
    try {
      const k = readFileSync(file);
      return k.length === 32 ? k : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Size and modification time of each deciding module (and of the schema), as built. */
function codeStamp(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const files = [...DECIDERS.map((m) => `./${m}${ext}`), './recipe-validator.cjs', '../../schema/recipe.schema.json'];
  return files
    .map((f) => {
      try {
        const st = statSync(fileURLToPath(new URL(f, import.meta.url)));
        return `${st.size}:${st.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join(' ');
}
