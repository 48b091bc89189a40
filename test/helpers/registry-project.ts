// The test project of the cache's CLI tests: busybox (vendored, see
// fixture-project.ts) and a small recipe built with it, plus the cache section
// of intact.yaml pointing at a test registry.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const HELLO = `name: hello
version: 1.0.0
deps: [bb@1.36.0]
bin: [bin/hello]
build:
  - write: $out/bin/hello
    content: "#!/bin/sh\\necho hello from the cache\\n"
    executable: true
  - script: echo "built here" > "$out/built.txt"
    shell: sh
`;

export async function writeCacheYaml(dir: string, ref: string, trusted: string[]): Promise<void> {
  await writeFile(
    join(dir, 'intact.yaml'),
    `# the team's binary cache\ncache:\n  substituters:\n    - ${ref}\n  trusted-keys:\n${trusted.map((k) => `    - ${k}\n`).join('')}`,
  );
}

/** Build logs in the project's store: one per entry that was built here. */
export async function buildLogs(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'store/logs')).catch(() => [] as string[])).filter((f) => f.endsWith('.log'));
}
