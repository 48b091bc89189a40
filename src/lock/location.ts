// Where a recipe's source is, in the shape the lock records it (without its
// hashes): `lock` pins it, `diff` prints it. Pure.
import { sourceKind, type Source } from '../recipe/types.js';
import type { LockedSource } from './types.js';

/** The location part of a source, as the lock records it. */
export function locationOf(src: Source): LockedSource {
  const pin: LockedSource = { kind: sourceKind(src), integrity: '' };
  if ('url' in src) {
    pin.url = src.url;
    if (src.mirrors && src.mirrors.length > 0) pin.mirrors = [...src.mirrors];
  }
  if ('npm' in src) pin.npm = src.npm;
  if ('git' in src) {
    pin.git = src.git;
    pin.rev = src.rev;
  }
  if ('file' in src) pin.file = src.file;
  if ('deb' in src) pin.deb = src.deb;
  if ('debSource' in src) {
    pin.debSource = src.debSource;
    pin.debFile = src.debFile;
  }
  if (src.archive !== undefined) pin.archive = src.archive;
  if (src.platforms) pin.platforms = [...src.platforms];
  return pin;
}
