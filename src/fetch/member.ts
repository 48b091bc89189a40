// Pinning a nested archive at lock time: the hash of one file inside a fetched
// archive, computed without unpacking the rest.
import { IntactError } from '../errors.js';
import { hashArchiveMember } from './extract/index.js';
import { isHashAlgorithm } from './sri.js';

export async function hashMember(file: string, member: string, opts: { algorithm: string; what: string; tmpDir: string }): Promise<string> {
  if (!isHashAlgorithm(opts.algorithm)) {
    throw new IntactError('INTEGRITY_MALFORMED', `${opts.what}: ${opts.algorithm} is not a hash algorithm intact pins with`, {
      hint: 'use sha512, sha384 or sha256',
    });
  }
  return hashArchiveMember(file, member, { algorithm: opts.algorithm, tmpDir: opts.tmpDir, name: opts.what });
}
