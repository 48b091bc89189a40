#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (compiled from src/ by `npm run build`,
// which `npm ci` runs through the prepare script).
import('../dist/cli/main.js')
  .then((m) => m.main(process.argv))
  .catch((err) => {
    process.stderr.write(
      `intact: could not start: ${err?.message ? err.message : err}\n` + 'hint: run `npm run build` (or `npm ci`) to compile intact first\n',
    );
    process.exit(2);
  });
