// Asking one registry for one entry: the manifest tagged with the entry's key,
// then its metadata blob, then trust (trust.ts). Nothing large is fetched until
// all of that holds, so an unsigned, untrusted or mismatching artifact costs two
// small requests.
import { IntactError } from '../errors.js';
import { MAX_METADATA_BYTES, parseManifest, parseMetadata, type Descriptor, type Metadata } from './artifact.js';
import type { PublicKey } from './keys.js';
import type { RegistryClient } from './oci/client.js';
import { checkBinding, checkSignatures, type Wanted } from './trust.js';

export interface FoundArtifact {
  client: RegistryClient;
  manifestDigest: string;
  /** The archive parts, in order: exactly the signed ones. */
  layers: Descriptor[];
  metadata: Metadata;
  signer: PublicKey;
}

export async function findArtifact(client: RegistryClient, want: Wanted, trusted: readonly PublicKey[]): Promise<FoundArtifact> {
  const where = `${client.name}:${want.key}`;
  const got = await client.getManifest(want.key);
  if (got === undefined) {
    throw new IntactError('CACHE_MISSING', `no artifact tagged ${want.key} in ${client.name}`, {
      hint: 'CI has not pushed this entry yet (`intact cache push`)',
    });
  }
  const manifest = parseManifest(got.bytes, where);
  const metadata = parseMetadata(await client.getSmallBlob(manifest.config.digest, manifest.config.size, MAX_METADATA_BYTES), where);
  const signer = checkSignatures(metadata, trusted, where);
  checkBinding(metadata.entry, manifest.layers, want, where);
  return { client, manifestDigest: got.digest, layers: manifest.layers, metadata, signer };
}
