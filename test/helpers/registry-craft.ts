// Crafting hostile artifacts on the test registry, as an attacker with write
// access to it (or a careless pusher) could: rewritten metadata, moved
// signatures, retagged manifests, signatures by other keys.
import { createHash } from 'node:crypto';
import {
  CONFIG_MEDIA_TYPE,
  MAX_METADATA_BYTES,
  parseManifest,
  parseMetadata,
  renderManifest,
  renderMetadata,
  type Descriptor,
  type Manifest,
  type Metadata,
} from '../../src/cache/artifact.js';
import { generateKeyPair, parseSecretKey, type PublicKey, type SecretKey } from '../../src/cache/keys.js';
import { RegistryClient } from '../../src/cache/oci/client.js';
import { credentialLookup } from '../../src/cache/oci/credentials.js';
import { uploadBlob } from '../../src/cache/oci/upload.js';
import { parseRef } from '../../src/cache/ref.js';
import { signEntry } from '../../src/cache/trust.js';

export function clientFor(ref: string, env: NodeJS.ProcessEnv = {}): RegistryClient {
  return new RegistryClient(parseRef(ref), { lookup: credentialLookup(env), env, limits: { backoffMs: 20 } });
}

export function testKey(name: string): { secret: SecretKey; public: PublicKey } {
  const pair = generateKeyPair(name);
  return { secret: parseSecretKey(pair.secretText, 'test key'), public: pair.public };
}

export interface Artifact {
  manifest: Manifest;
  manifestBytes: Buffer;
  metadata: Metadata;
}

export async function readArtifact(client: RegistryClient, tag: string): Promise<Artifact> {
  const got = await client.getManifest(tag);
  if (!got) throw new Error(`no manifest ${tag}`);
  const manifest = parseManifest(got.bytes, tag);
  const metadata = parseMetadata(await client.getSmallBlob(manifest.config.digest, manifest.config.size, MAX_METADATA_BYTES), tag);
  return { manifest, manifestBytes: got.bytes, metadata };
}

/** Uploads `metadata` as the config blob and tags a manifest pointing at it and the archive parts it names. */
export async function writeArtifact(client: RegistryClient, tag: string, metadata: Metadata): Promise<void> {
  const bytes = renderMetadata(metadata);
  const config: Descriptor = { mediaType: CONFIG_MEDIA_TYPE, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
  await uploadBlob(client, { digest: config.digest, size: bytes.length, bytes });
  await client.putManifest(tag, renderManifest(config, metadata.entry));
}

/** Re-signs `metadata.entry` with `key` (replacing every signature). */
export function resign(metadata: Metadata, key: SecretKey): Metadata {
  return { ...metadata, signatures: [signEntry(metadata.entry, key)] };
}
