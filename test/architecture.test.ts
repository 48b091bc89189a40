// The layers stay real: every import of src/ follows the layers docs/architecture.md
// draws, and no files import each other in a circle. The checker is tested first
// on planted trees, so a pass on src/ means something.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderOf, importCircles, importsOf, layersFromDoc, layerViolations, readTree, treeImports, type Layers } from './helpers/layers.js';

const doc = readFileSync(new URL('../docs/architecture.md', import.meta.url), 'utf8');

describe('the layering checker', () => {
  const layers: Layers = [['cli'], ['build'], ['store'], ['.']];
  const tree = (files: Record<string, string>) => treeImports(new Map(Object.entries(files)));

  it('reads static, re-export, side-effect, type-only and dynamic imports, with their lines', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../store/b.js';",
      'export {',
      '  c,',
      "} from './c.js';",
      "export * from './d.js';",
      "import './e.js';",
      "const f = await import('../cli/f.js');",
      "type G = import('./g.js').G;",
      "// import { no } from './comment.js';",
      "/* import('./block.js') */",
      "import X, { y } from 'node:path';",
    ].join('\n');
    const got = importsOf('build/x.ts', text, (f) => f === 'build/a.ts');
    expect(got.map((i) => [i.line, i.spec])).toEqual([
      [1, './a.js'],
      [2, '../store/b.js'],
      [5, './c.js'],
      [6, './d.js'],
      [7, './e.js'],
      [8, '../cli/f.js'],
      [9, './g.js'],
      [12, 'node:path'],
    ]);
    expect(got[0]!.target).toBe('build/a.ts');
    expect(got[5]!.target).toBe('cli/f.ts');
    expect(got[7]!.target).toBeUndefined();
  });

  it('resolves a folder import to its index.ts', () => {
    expect(importsOf('cli/x.ts', "import { s } from '../store/index.js';", () => true)[0]!.target).toBe('store/index.ts');
    expect(importsOf('cli/x.ts', "import { s } from '../store';", (f) => f === 'store/index.ts')[0]!.target).toBe('store/index.ts');
  });

  it('fails a planted upward import, naming the file and line', () => {
    const v = layerViolations(
      tree({ 'store/a.ts': "import { x } from '../errors.js';\nimport type { C } from '../cli/c.js';", 'cli/c.ts': '', 'errors.ts': '' }),
      layers,
    );
    expect(v).toEqual(['src/store/a.ts:2 imports ../cli/c.js (store → cli): an upward import']);
  });

  it('fails a dynamic upward import and an import of a folder that has no layer', () => {
    const v = layerViolations(
      tree({ 'build/a.ts': "\n\nconst m = await import('../cli/c.js');\nimport '../stray/s.js';", 'cli/c.ts': '', 'stray/s.ts': '' }),
      layers,
    );
    expect(v).toEqual([
      'src/build/a.ts:3 imports ../cli/c.js (build → cli): an upward import',
      'src/build/a.ts:4 imports ../stray/s.js (build → stray): folder stray is not in the layers',
    ]);
  });

  it('fails an import between two folders of one layer', () => {
    const v = layerViolations(tree({ 'a/x.ts': "import { y } from '../b/y.js';", 'b/y.ts': '' }), [['a', 'b']]);
    expect(v).toEqual(['src/a/x.ts:1 imports ../b/y.js (a → b): a and b are one layer and may not import each other']);
  });

  it('allows downward imports, skipping layers too', () => {
    expect(
      layerViolations(tree({ 'cli/a.ts': "import { s } from '../store/s.js';\nimport { e } from '../errors.js';", 'store/s.ts': '', 'errors.ts': '' }), layers),
    ).toEqual([]);
  });

  it('finds a circle, even through a type-only import, naming each import', () => {
    const c = importCircles(
      tree({ 'build/a.ts': "import { b } from './b.js';", 'build/b.ts': "\nimport type { A } from './a.js';", 'build/c.ts': "import { a } from './a.js';" }),
    );
    expect(c).toEqual(['src/build/a.ts:1 → src/build/b.ts:2 → src/build/a.ts']);
  });

  it('finds a longer circle through a dynamic import', () => {
    const c = importCircles(
      tree({ 'x/a.ts': "import { b } from './b.js';", 'x/b.ts': "import { c } from './c.js';", 'x/c.ts': "const a = () => import('./a.js');" }),
    );
    expect(c).toEqual(['src/x/a.ts:1 → src/x/b.ts:1 → src/x/c.ts:1 → src/x/a.ts']);
  });

  it('reads the layers from the doc, top first', () => {
    expect(layersFromDoc('## Layers\n\n```text\ncli          # top\nverify/ upgrade/\n.\n```\n')).toEqual([['cli'], ['verify', 'upgrade'], ['.']]);
  });
});

describe('src/ against docs/architecture.md', () => {
  const layers = layersFromDoc(doc);
  const files = readTree(fileURLToPath(new URL('../src', import.meta.url)));
  const imports = treeImports(files);

  it('reads every file and finds imports', () => {
    expect(files.size).toBeGreaterThan(100);
    expect(imports.filter((i) => i.target !== undefined).length).toBeGreaterThan(500);
  });

  it('every folder of src/ is in the layers', () => {
    const drawn = new Set(layers.flat());
    expect([...new Set([...files.keys()].map(folderOf))].filter((f) => !drawn.has(f))).toEqual([]);
  });

  it('no import goes against the layers', () => {
    expect(layerViolations(imports, layers)).toEqual([]);
  });

  it('no files import each other in a circle', () => {
    expect(importCircles(imports)).toEqual([]);
  });

  it("no file imports its own folder's index.ts", () => {
    const own = imports.filter(
      (i) =>
        i.target !== undefined &&
        i.target !== i.file &&
        i.target.endsWith('/index.ts') &&
        i.target.slice(0, i.target.lastIndexOf('/')) === i.file.slice(0, i.file.lastIndexOf('/')),
    );
    expect(own.map((i) => `src/${i.file}:${i.line} ${i.spec}`)).toEqual([]);
  });

  it('every relative import names a file that exists', () => {
    expect(imports.filter((i) => i.target !== undefined && !files.has(i.target)).map((i) => `src/${i.file}:${i.line} ${i.spec}`)).toEqual([]);
  });
});
