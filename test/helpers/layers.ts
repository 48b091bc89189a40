// The layering checker behind test/architecture.test.ts: reads every import of a
// source tree (static, re-export, side-effect, type-only and `import('literal')`)
// and judges each against the layers docs/architecture.md draws, and finds import
// circles. Pure functions over a file map, so a test can plant a bad tree.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

export interface Import {
  /** The importing file, relative to the source root, '/'-separated. */
  file: string;
  line: number;
  spec: string;
  /** The imported file, relative to the source root; undefined for a package. */
  target?: string;
}

/** The folder a file belongs to: its first path segment, or "." for a file at the root. */
export function folderOf(file: string): string {
  const i = file.indexOf('/');
  return i < 0 ? '.' : file.slice(0, i);
}

// Named, default, namespace and type-only imports and re-exports, over several lines.
const FROM =
  /(?:^|[\n;])[ \t]*(?:import|export)\s+(?:type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)\s*from\s*(['"])([^'"\n]+)\1/g;
const BARE = /(?:^|[\n;])[ \t]*import\s*(['"])([^'"\n]+)\1/g;
// Dynamic imports, and the type queries `import('x').T` written the same way.
const DYNAMIC = /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g;

/** Blank out comments (keeping newlines, so line numbers stay right). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^([ \t]*)\/\/.*$/gm, (_c, indent: string) => indent);
}

/** Every import of one file, with its line and, for a relative one, the file it names. */
export function importsOf(file: string, text: string, exists: (file: string) => boolean): Import[] {
  const code = withoutComments(text);
  const out: Import[] = [];
  for (const re of [FROM, BARE, DYNAMIC]) {
    for (const m of code.matchAll(re)) {
      const spec = m[2]!;
      const at = m.index + m[0].indexOf(m[1]! + spec);
      const line = code.slice(0, at).split('\n').length;
      out.push({ file, line, spec, ...(spec.startsWith('.') ? { target: resolveSpec(file, spec, exists) } : {}) });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

function resolveSpec(file: string, spec: string, exists: (file: string) => boolean): string {
  const base = posix.normalize(posix.join(posix.dirname(file), spec));
  const ts = base.replace(/\.js$/, '.ts');
  if (exists(ts)) return ts;
  if (exists(`${base}/index.ts`)) return `${base}/index.ts`;
  return ts;
}

/**
 * Layers, top first; each a list of folders ("." is the files at the root). A
 * folder imports only folders of lower layers; folders of one layer do not import
 * each other.
 */
export type Layers = readonly (readonly string[])[];

/** The layers drawn in docs/architecture.md: the fenced block under "## Layers". */
export function layersFromDoc(doc: string): Layers {
  const m = /## Layers[\s\S]*?```text\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/architecture.md has no ```text block under "## Layers"');
  return m[1]!
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/).map((f) => f.replace(/\/$/, '')));
}

/** One message per import against the layers: "file:line imports target (a → b): why". */
export function layerViolations(imports: readonly Import[], layers: Layers): string[] {
  const rank = new Map<string, number>();
  layers.forEach((folders, i) => folders.forEach((f) => rank.set(f, layers.length - i)));
  const out: string[] = [];
  for (const imp of imports) {
    if (imp.target === undefined) continue;
    const from = folderOf(imp.file);
    const to = folderOf(imp.target);
    if (from === to) continue;
    const a = rank.get(from);
    const b = rank.get(to);
    const where = `src/${imp.file}:${imp.line} imports ${imp.spec} (${from} → ${to})`;
    if (a === undefined || b === undefined) out.push(`${where}: folder ${a === undefined ? from : to} is not in the layers`);
    else if (a === b) out.push(`${where}: ${from} and ${to} are one layer and may not import each other`);
    else if (a < b) out.push(`${where}: an upward import`);
  }
  return out;
}

/** Every import circle among the files, each as its imports in order: "a.ts:3 → b.ts:7 → a.ts". */
export function importCircles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Import[]>();
  for (const imp of imports) {
    if (imp.target === undefined || imp.target === imp.file) continue;
    const list = edges.get(imp.file) ?? [];
    if (!list.some((e) => e.target === imp.target)) list.push(imp);
    edges.set(imp.file, list);
  }
  // Tarjan's strongly connected components; a component of two or more files is a circle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of edges.get(v) ?? []) {
      const w = e.target!;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c);
    }
  };
  for (const f of [...edges.keys()].sort()) if (!index.has(f)) visit(f);
  return components.map((c) => describeCircle(c, edges));
}

/** One path around a component, from its first file back to it, naming each import's line. */
function describeCircle(component: string[], edges: Map<string, Import[]>): string {
  const inside = new Set(component);
  const start = [...component].sort()[0]!;
  const path: Import[] = [];
  const seen = new Set<string>();
  const walk = (f: string): boolean => {
    for (const e of edges.get(f) ?? []) {
      if (!inside.has(e.target!)) continue;
      if (e.target === start) return (path.push(e), true);
      if (seen.has(e.target!)) continue;
      seen.add(e.target!);
      path.push(e);
      if (walk(e.target!)) return true;
      path.pop();
    }
    return false;
  };
  walk(start);
  return `${path.map((e) => `src/${e.file}:${e.line}`).join(' → ')} → src/${start}`;
}

/** Every .ts file under a source root, as a map of '/'-separated relative path → text. */
export function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.set(relative(root, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return files;
}

/** Every import of a tree. */
export function treeImports(files: ReadonlyMap<string, string>): Import[] {
  return [...files].flatMap(([file, text]) => importsOf(file, text, (f) => files.has(f)));
}
