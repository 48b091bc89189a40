// Where the Debian archive is: the user's configuration, never a recipe or the
// lock (as with the npm registry). Read, in order of precedence:
// - INTACT_DEB_SOURCES: apt's one-line format (`deb URI SUITE COMPONENT...`),
//   one entry per line or separated by `;`, for machines without apt or to
//   point intact at another mirror than apt uses;
// - apt's own sources under INTACT_APT_DIR (default /etc/apt): sources.list,
//   sources.list.d/*.list (one-line) and sources.list.d/*.sources (deb822).
// Every http(s) URI is a mirror of the same pool: a pinned file is asked of each
// in order. Suites and components only matter to `lock`, `add` and `outdated`,
// which read the archive's indexes to find a package's file.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntactError } from '../../errors.js';

export interface DebArchive {
  /** The archive's root, without a trailing slash. */
  uri: string;
  suites: string[];
  components: string[];
  /** Where it was configured, for messages (`/etc/apt/sources.list:3`). */
  from: string;
}

export const DEB_SOURCES_ENV = 'INTACT_DEB_SOURCES';
const HINT_UNSET =
  `configure an archive: apt's sources (/etc/apt/sources.list or sources.list.d/), or set ${DEB_SOURCES_ENV}, e.g. ` +
  `${DEB_SOURCES_ENV}='deb http://MIRROR/debian bookworm main' (see docs/sources.md)`;

/** The configured archives, in order; throws DEB_ARCHIVE_UNSET when there are none. */
export function debArchives(env: NodeJS.ProcessEnv = process.env): DebArchive[] {
  const fromEnv = env[DEB_SOURCES_ENV];
  let found: DebArchive[];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    found = parseOneLine(fromEnv.replace(/;/g, '\n'), DEB_SOURCES_ENV);
  } else {
    found = readApt(env['INTACT_APT_DIR'] ?? '/etc/apt');
  }
  const usable = found.filter((a) => /^https?:\/\//.test(a.uri));
  if (usable.length === 0) {
    throw new IntactError(
      'DEB_ARCHIVE_UNSET',
      found.length > 0 ? 'no Debian archive is configured over http(s) (only other kinds of apt source were found)' : 'no Debian archive is configured',
      {
        hint: HINT_UNSET,
      },
    );
  }
  return usable;
}

/** The distinct archive roots, in order: where a pool path is asked for. */
export function mirrorRoots(archives: readonly DebArchive[]): string[] {
  return [...new Set(archives.map((a) => a.uri))];
}

function readApt(dir: string): DebArchive[] {
  const out: DebArchive[] = [];
  const list = join(dir, 'sources.list');
  const text = readIfThere(list);
  if (text !== undefined) out.push(...parseOneLine(text, list));
  const d = join(dir, 'sources.list.d');
  let names: string[] = [];
  try {
    names = readdirSync(d).sort();
  } catch {
    // No sources.list.d: nothing more to read.
  }
  for (const n of names) {
    const file = join(d, n);
    if (n.endsWith('.list')) out.push(...parseOneLine(readIfThere(file) ?? '', file));
    else if (n.endsWith('.sources')) out.push(...parseDeb822(readIfThere(file) ?? '', file));
  }
  return out;
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new IntactError('DEB_SOURCES_INVALID', `${file} cannot be read: ${(e as Error).message}`, {
      file,
      hint: 'check its permissions, or set ' + DEB_SOURCES_ENV,
      cause: e,
    });
  }
}

/** apt's one-line format: `deb [options] URI SUITE [COMPONENT...]`; `deb-src` lines name the same pool. */
export function parseOneLine(text: string, from: string): DebArchive[] {
  const out: DebArchive[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    // Options in brackets (arch=, signed-by=, trusted=) do not change where files are.
    const words = line
      .replace(/\[[^\]]*\]/g, ' ')
      .trim()
      .split(/\s+/);
    const [type, uri, suite, ...components] = words;
    const at = `${from}:${i + 1}`;
    if ((type !== 'deb' && type !== 'deb-src') || uri === undefined || suite === undefined) {
      throw new IntactError('DEB_SOURCES_INVALID', `${at}: "${line}" is not an apt source line`, {
        ...(from.startsWith('/') ? { file: from, line: i + 1 } : {}),
        hint: 'write `deb URI SUITE COMPONENT...`, e.g. deb http://MIRROR/debian bookworm main',
      });
    }
    out.push({ uri: uri.replace(/\/+$/, ''), suites: [suite], components: components.length > 0 ? components : ['main'], from: at });
  });
  return out;
}

/** apt's deb822 format: stanzas with Types, URIs, Suites, Components, Enabled. */
export function parseDeb822(text: string, from: string): DebArchive[] {
  const out: DebArchive[] = [];
  let line = 1;
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const start = line;
    line += stanza.split('\n').length + 1;
    const fields = new Map<string, string>();
    let key: string | undefined;
    for (const l of stanza.split('\n')) {
      if (l.startsWith('#')) continue;
      if (/^[ \t]/.test(l) && key !== undefined) {
        fields.set(key, `${fields.get(key)} ${l.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(l);
      if (!m) continue;
      key = m[1]!.toLowerCase();
      fields.set(key, m[2]!.trim());
    }
    if (fields.size === 0) continue;
    if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter((w) => w !== '');
    const types = words('types');
    if (!types.some((t) => t === 'deb' || t === 'deb-src')) continue;
    const uris = words('uris');
    const suites = words('suites');
    if (uris.length === 0 || suites.length === 0) {
      throw new IntactError('DEB_SOURCES_INVALID', `${from}:${start}: an apt source stanza without URIs or Suites`, {
        file: from,
        line: start,
        hint: 'give the stanza `URIs:` and `Suites:` (see sources.list(5))',
      });
    }
    const components = words('components');
    for (const uri of uris)
      out.push({ uri: uri.replace(/\/+$/, ''), suites, components: components.length > 0 ? components : ['main'], from: `${from}:${start}` });
  }
  return out;
}
