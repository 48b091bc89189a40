// The docs stay true: every error code is documented with its exit status.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES } from '../src/errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  it.each(Object.entries(CODES))('documents %s', (code, { exit }) => {
    expect(doc).toContain(`| \`${code}\` | ${exit} |`);
  });
});
