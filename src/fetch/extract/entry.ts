// The contract between the archive readers (tar.ts, zip.ts) and what consumes
// their entries (writer.ts builds the tree; inner.ts picks one nested archive).
// Readers only translate a format into these plain records and stream bodies;
// every safety decision is taken once, by the consumer, the same for all formats.
import type { Readable } from 'node:stream';
import type { ExtractLimits } from './limits.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'special' | 'unsupported';

export interface Entry {
  /** The name exactly as the archive spells it (zip backslashes already turned into `/`). */
  name: string;
  kind: EntryKind;
  /** The format's own word for the type, for messages ("CharacterDevice", "FIFO", "SparseFile"). */
  typeName: string;
  /** Permission bits as stored; 0 when the format keeps none. */
  mode: number;
  /** Body size in bytes as declared by the archive. */
  size: number;
  /** Symlink target, or the archive name of a hardlink's target. */
  target?: string;
}

/** Receives a file's body. Called synchronously, in order; `end` once after the last chunk. */
export interface Body {
  write(chunk: Uint8Array): void;
  end(): void;
}

export interface Visitor {
  /**
   * Called once per entry, in archive order. Returns where a file's body goes,
   * or undefined to skip it. Throws (an IntactError) to refuse the archive.
   */
  entry(e: Entry): Body | undefined;
}

/** What a reader needs besides the file: names for messages, limits, cancellation. */
export interface ReadContext {
  /** The archive as the user knows it (URL or npm spec, plus the nested path), for messages. */
  where: string;
  limits: ExtractLimits;
  signal?: AbortSignal | undefined;
  /**
   * The archive's bytes from a stream instead of reading the file (tar only):
   * a file that is still arriving and is readable only as far as it is verified
   * (src/cache/verified-part.ts).
   */
  input?: (() => Readable) | undefined;
}
