// Public door of the lock layer: the lockfile model, its format, and the checks
// that tell whether it still describes the recipes.
export * from './types.js';
export { parseLock, serializeLock, emptyLock, LOCK_FILE, findKey, lineCol } from './parse.js';
export { checkLock, type RecipeState, type CheckInput } from './check.js';
export { makeEntry } from './entry.js';
export { lockKeys, withKeys, type Keys } from './keys.js';
export { readLock, writeLock } from './io.js';
export { verifyStatic, type VerifyReport } from './verify.js';
export { projectState, type ProjectState } from './state.js';
