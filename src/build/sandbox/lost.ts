// What a sandbox level below full gives up, in one line: `intact doctor` says it
// (explain.ts), and so does every command that builds (cli/build-context.ts).
// No imports, so that a command's start-up does not load the sandbox for it.

export function lost(level: 'partial' | 'none'): string {
  return level === 'partial'
    ? "the host's files are visible and writable as you (undeclared host tools can leak into outputs); the build folder is at its real path"
    : "network access, the host's files and processes are all open to build steps; outputs may depend on this machine";
}
