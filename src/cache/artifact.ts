// The shape of an intact entry on an OCI registry (distribution spec v1.1
// artifact), with parse and render for each part:
//
// - layer blobs: the parts of the entry's deterministic archive (archive.ts),
//   one for a small entry;
// - a config blob: the metadata document, which holds what was signed (`entry`:
//   key, name, version, platform, output hash, size, dependency keys, sandbox
//   level, bin, and each archive part's digest and size, and the digests of its
//   chunks: archive.ts, verified-part.ts) and the signatures;
// - a manifest with `artifactType`, those descriptors and informational
//   annotations, tagged with the entry's store key.
//
// Trust rests on the signed `entry` alone: annotations, the tag and the manifest
// are untrusted hints, and everything they say is checked against it.
import { canonicalCompact, canonicalJson } from '../canonical-json.js';
import { IntactError } from '../errors.js';

export const ARTIFACT_TYPE = 'application/vnd.intact.entry.v1';
export const CONFIG_MEDIA_TYPE = 'application/vnd.intact.entry.config.v1+json';
export const LAYER_MEDIA_TYPE = 'application/vnd.intact.entry.layer.v1.tar+gzip';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const METADATA_FORMAT = 'intact-entry-1';
/** Domain separation: a signature over an entry can never be read as one over anything else. */
export const SIGNATURE_CONTEXT = 'intact-entry-signature-1\n';

/** Larger manifests are refused unread (defence in depth: a hostile registry can send anything). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_METADATA_BYTES = 1024 * 1024;
/** 1000 parts of 24 MiB of tar: far beyond any toolchain. */
export const MAX_PARTS = 1000;
/** Bounds of a sane chunk size (intact writes archive.ts's CHUNK_BYTES). */
const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 64 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** What a signature vouches for. */
export interface SignedEntry {
  key: string;
  name: string;
  version: string;
  platform: string;
  output: string;
  size: number;
  deps: string[];
  sandbox: 'full' | 'partial' | 'none';
  bin: string[];
  archive: {
    mediaType: string;
    /** Bytes per chunk digest; absent in artifacts pushed before chunks were signed (then a part is verified whole). */
    chunk?: number;
    parts: { digest: string; size: number; chunks?: string[] }[];
  };
}

export interface EntrySignature {
  /** The signing key's name; the bytes it must verify with come from trusted-keys. */
  key: string;
  /** base64 of the 64-byte ed25519 signature. */
  sig: string;
}

export interface Metadata {
  format: typeof METADATA_FORMAT;
  entry: SignedEntry;
  signatures: EntrySignature[];
}

export interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The exact bytes a signature covers. */
export function signedMessage(entry: SignedEntry): Buffer {
  return Buffer.from(SIGNATURE_CONTEXT + canonicalCompact(entry));
}

export function renderMetadata(m: Metadata): Buffer {
  return Buffer.from(canonicalJson(m));
}

/** The manifest of an entry: its layers are exactly the signed archive parts, in order. */
export function renderManifest(config: Descriptor, entry: SignedEntry): Buffer {
  const layers = entry.archive.parts.map((p, i, all) => ({
    mediaType: LAYER_MEDIA_TYPE,
    digest: p.digest,
    size: p.size,
    annotations: { 'org.opencontainers.image.title': `${entry.name}-${entry.version}${all.length > 1 ? `.${i}` : ''}.tar.gz` },
  }));
  const m: Manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: ARTIFACT_TYPE,
    config,
    layers,
    // Informational only (registry UIs show them); never trusted.
    annotations: {
      'org.opencontainers.image.title': `${entry.name}@${entry.version}`,
      'dev.intact.key': entry.key,
      'dev.intact.name': entry.name,
      'dev.intact.version': entry.version,
      'dev.intact.platform': entry.platform,
      'dev.intact.output': entry.output,
    },
  };
  return Buffer.from(canonicalJson(m));
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const KEY = /^[0-9a-z]{32}$/;
const OUTPUT = /^sha256-[A-Za-z0-9+/]{43}=$/;

/** Strict checks on untrusted JSON: each failure names the field, never echoes large input. */
class Shape {
  constructor(readonly what: string) {}
  fail(field: string, why: string): IntactError {
    return new IntactError('CACHE_INVALID', `${this.what}: ${field} ${why}`, {
      field,
      hint: 'the registry holds something intact did not write (or wrote with a newer format); push the entry again, or remove the tag',
    });
  }
  obj(v: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.fail(field, 'is not an object');
    for (const k of Object.keys(v)) if (!allowed.includes(k)) throw this.fail(`${field}.${k.slice(0, 40)}`, 'is not a known field');
    return v as Record<string, unknown>;
  }
  str(v: unknown, field: string, re?: RegExp, max = 256): string {
    if (typeof v !== 'string' || v.length === 0 || v.length > max || (re && !re.test(v))) throw this.fail(field, 'is missing or malformed');
    return v;
  }
  int(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw this.fail(field, 'is not a whole number >= 0');
    return v;
  }
  strs(v: unknown, field: string, re?: RegExp, maxItems = 10_000): string[] {
    if (!Array.isArray(v) || v.length > maxItems) throw this.fail(field, 'is not a list');
    return v.map((x, i) => this.str(x, `${field}[${i}]`, re, 4096));
  }
  annotations(v: unknown, field: string): Record<string, string> | undefined {
    if (v === undefined) return undefined;
    const o = this.obj(v, field, Object.keys(v as object));
    for (const [k, x] of Object.entries(o)) if (typeof x !== 'string') throw this.fail(`${field}.${k.slice(0, 40)}`, 'is not a string');
    return o as Record<string, string>;
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new IntactError('CACHE_INVALID', `${what} is not valid JSON: ${(e as Error).message}`, {
      hint: 'the registry holds something intact did not write; push the entry again',
    });
  }
}

function descriptor(s: Shape, v: unknown, field: string): Descriptor {
  const o = s.obj(v, field, ['mediaType', 'digest', 'size', 'annotations', 'urls', 'artifactType', 'data', 'platform']);
  if (o['urls'] !== undefined || o['data'] !== undefined) throw s.fail(field, 'uses urls or inline data, which intact never writes');
  const d: Descriptor = {
    mediaType: s.str(o['mediaType'], `${field}.mediaType`),
    digest: s.str(o['digest'], `${field}.digest`, DIGEST),
    size: s.int(o['size'], `${field}.size`),
  };
  const a = s.annotations(o['annotations'], `${field}.annotations`);
  if (a) d.annotations = a;
  return d;
}

/** Parses a manifest, refusing anything but an intact entry artifact. */
export function parseManifest(bytes: Buffer, where: string): Manifest {
  const s = new Shape(`the manifest ${where}`);
  const o = s.obj(parseJson(bytes, `the manifest ${where}`), 'manifest', [
    'schemaVersion',
    'mediaType',
    'artifactType',
    'config',
    'layers',
    'annotations',
    'subject',
  ]);
  if (o['schemaVersion'] !== 2) throw s.fail('schemaVersion', 'is not 2');
  if (o['mediaType'] !== MANIFEST_MEDIA_TYPE) throw s.fail('mediaType', `is not ${MANIFEST_MEDIA_TYPE}`);
  if (o['artifactType'] !== ARTIFACT_TYPE) throw s.fail('artifactType', `is not ${ARTIFACT_TYPE} (this tag holds something other than an intact entry)`);
  const config = descriptor(s, o['config'], 'config');
  if (config.mediaType !== CONFIG_MEDIA_TYPE) throw s.fail('config.mediaType', `is not ${CONFIG_MEDIA_TYPE}`);
  if (config.size > MAX_METADATA_BYTES) throw s.fail('config.size', `is over ${MAX_METADATA_BYTES} bytes`);
  if (!Array.isArray(o['layers']) || o['layers'].length === 0 || o['layers'].length > MAX_PARTS)
    throw s.fail('layers', `must hold 1 to ${MAX_PARTS} archive parts`);
  const layers = o['layers'].map((l, i) => {
    const d = descriptor(s, l, `layers[${i}]`);
    if (d.mediaType !== LAYER_MEDIA_TYPE) throw s.fail(`layers[${i}].mediaType`, `is not ${LAYER_MEDIA_TYPE}`);
    return d;
  });
  const m: Manifest = { schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, artifactType: ARTIFACT_TYPE, config, layers };
  const a = s.annotations(o['annotations'], 'annotations');
  if (a) m.annotations = a;
  return m;
}

/** Parses the metadata document (the config blob). Says nothing about trust: see trust.ts. */
export function parseMetadata(bytes: Buffer, where: string): Metadata {
  const s = new Shape(`the metadata ${where}`);
  const o = s.obj(parseJson(bytes, `the metadata ${where}`), 'metadata', ['format', 'entry', 'signatures']);
  if (o['format'] !== METADATA_FORMAT) throw s.fail('format', `is not ${METADATA_FORMAT}`);
  const e = s.obj(o['entry'], 'entry', ['key', 'name', 'version', 'platform', 'output', 'size', 'deps', 'sandbox', 'bin', 'archive']);
  const sandbox = e['sandbox'];
  if (sandbox !== 'full' && sandbox !== 'partial' && sandbox !== 'none') throw s.fail('entry.sandbox', 'is not full, partial or none');
  const ar = s.obj(e['archive'], 'entry.archive', ['mediaType', 'chunk', 'parts']);
  if (ar['mediaType'] !== LAYER_MEDIA_TYPE) throw s.fail('entry.archive.mediaType', `is not ${LAYER_MEDIA_TYPE}`);
  const chunk = ar['chunk'] === undefined ? undefined : s.int(ar['chunk'], 'entry.archive.chunk');
  if (chunk !== undefined && (chunk < MIN_CHUNK || chunk > MAX_CHUNK)) throw s.fail('entry.archive.chunk', `is not between ${MIN_CHUNK} and ${MAX_CHUNK}`);
  if (!Array.isArray(ar['parts']) || ar['parts'].length === 0 || ar['parts'].length > MAX_PARTS)
    throw s.fail('entry.archive.parts', `must hold 1 to ${MAX_PARTS} parts`);
  const parts = ar['parts'].map((x, i) => {
    const field = `entry.archive.parts[${i}]`;
    const p = s.obj(x, field, ['digest', 'size', 'chunks']);
    const part: SignedEntry['archive']['parts'][number] = { digest: s.str(p['digest'], `${field}.digest`, DIGEST), size: s.int(p['size'], `${field}.size`) };
    if (part.size === 0) throw s.fail(`${field}.size`, 'is 0');
    if (chunk === undefined) {
      if (p['chunks'] !== undefined) throw s.fail(`${field}.chunks`, 'is given without entry.archive.chunk');
      return part;
    }
    const chunks = s.strs(p['chunks'], `${field}.chunks`, HEX_DIGEST, Number.MAX_SAFE_INTEGER);
    if (chunks.length !== Math.ceil(part.size / chunk))
      throw s.fail(`${field}.chunks`, `does not hold one digest per ${chunk} bytes of the part's ${part.size}`);
    return { ...part, chunks };
  });
  const entry: SignedEntry = {
    key: s.str(e['key'], 'entry.key', KEY),
    name: s.str(e['name'], 'entry.name'),
    version: s.str(e['version'], 'entry.version'),
    platform: s.str(e['platform'], 'entry.platform'),
    output: s.str(e['output'], 'entry.output', OUTPUT),
    size: s.int(e['size'], 'entry.size'),
    deps: s.strs(e['deps'], 'entry.deps', KEY),
    sandbox,
    bin: s.strs(e['bin'], 'entry.bin'),
    archive: { mediaType: LAYER_MEDIA_TYPE, ...(chunk !== undefined ? { chunk } : {}), parts },
  };
  if (!Array.isArray(o['signatures']) || o['signatures'].length > 32) throw s.fail('signatures', 'is not a list (of at most 32)');
  const signatures = o['signatures'].map((x, i) => {
    const g = s.obj(x, `signatures[${i}]`, ['key', 'sig']);
    return { key: s.str(g['key'], `signatures[${i}].key`, undefined, 100), sig: s.str(g['sig'], `signatures[${i}].sig`, /^[A-Za-z0-9+/]{86}==$/) };
  });
  return { format: METADATA_FORMAT, entry, signatures };
}
