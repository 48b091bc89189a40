// A dependant skipped after a failed build carries the dependency and the root
// cause as data (install names the root cause from them, never from a message).
import { describe, expect, it } from 'vitest';
import { DependencyFailed, exitStatus, IntactError } from '../../src/errors.js';

describe('DependencyFailed', () => {
  it('names the dependency, and the root cause through a chain of skipped dependants', () => {
    const root = new IntactError('BUILD_FAILED', 'zlib: build step 1: make exited with status 2');
    const libpng = new DependencyFailed('libpng', 'zlib', root);
    const app = new DependencyFailed('app', 'libpng', libpng);
    expect(libpng).toMatchObject({ code: 'DEP_FAILED', dependency: 'zlib', rootCause: 'zlib', cause: root, hint: 'fix zlib first' });
    expect(app).toMatchObject({ code: 'DEP_FAILED', dependency: 'libpng', rootCause: 'zlib', cause: libpng, hint: 'fix zlib first' });
    expect(app.message).toBe('app was not built: its dependency libpng failed');
    expect(exitStatus(app.code)).toBe(1);
  });
});
