// A Debian binary package (.deb) is an `ar` container of three members:
// `debian-binary` (the format version, "2.0"), `control.tar.*` (maintainer
// scripts and metadata, which intact never runs nor unpacks) and `data.tar.*`
// (the files). Only data.tar is unpacked, by the same tar reader and writer as
// every other archive, so the same rules hold: safe paths, no links out, no
// devices, no setuid bits, size and entry caps.
//
// The ar headers are read here (a few fixed-size records; no library needed),
// and every member is checked against the file's real size before anything is
// read from it: a member that claims more bytes than the file has is refused.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { sniff, type Compression } from './detect.js';
import type { ReadContext, Visitor } from './entry.js';
import { problem } from './problem.js';
import { readTar } from './tar.js';

const MAGIC = '!<arch>\n';
const HEADER = 60;
const COMPRESSION: Record<string, Compression> = {
  'data.tar': 'none',
  'data.tar.gz': 'gzip',
  'data.tar.xz': 'xz',
  'data.tar.bz2': 'bzip2',
  'data.tar.zst': 'zstd',
};

export interface DataMember {
  start: number;
  /** Exclusive. */
  end: number;
  compression: Compression;
  name: string;
}

/** Finds data.tar.* in a .deb, checking every header on the way. */
export async function findDataMember(file: string, where: string): Promise<DataMember> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const read = async (at: number, n: number): Promise<Buffer> => {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, at);
      return buf.subarray(0, bytesRead);
    };
    if ((await read(0, 8)).toString('latin1') !== MAGIC) {
      throw problem('EXTRACT_CORRUPT', where, undefined, 'is not a Debian package: it does not start with the ar magic "!<arch>".');
    }
    let at = 8;
    let data: DataMember | undefined;
    let index = 0;
    while (at < size) {
      const h = await read(at, HEADER);
      if (h.length < HEADER) throw problem('EXTRACT_CORRUPT', where, undefined, `is a damaged Debian package: its ar header at byte ${at} is cut off.`);
      if (h.subarray(58, 60).toString('latin1') !== '`\n')
        throw problem('EXTRACT_CORRUPT', where, undefined, `is a damaged Debian package: the ar header at byte ${at} has a bad end marker.`);
      const raw = h.subarray(0, 16).toString('latin1').trimEnd();
      const name = raw.endsWith('/') ? raw.slice(0, -1) : raw;
      const sizeField = h.subarray(48, 58).toString('latin1').trim();
      if (!/^\d{1,10}$/.test(sizeField)) throw problem('EXTRACT_CORRUPT', where, name, `has a malformed ar size field ${JSON.stringify(sizeField)}.`);
      const length = Number(sizeField);
      const start = at + HEADER;
      if (start + length > size) {
        throw problem('EXTRACT_CORRUPT', where, name, `claims ${length} bytes, more than the file holds (${size - start} after its header).`);
      }
      // Defence in depth: members are never written by name, but a name that
      // would climb or hide is a sign of a crafted file.
      if (!/^[A-Za-z0-9_.+-]+$/.test(name) || name === '.' || name === '..') {
        throw problem('EXTRACT_UNSAFE_PATH', where, name, 'is an ar member with an unsafe name.');
      }
      if (index === 0 && name !== 'debian-binary') throw problem('EXTRACT_CORRUPT', where, name, 'comes first, where a Debian package has debian-binary.');
      if (name === 'debian-binary') {
        const version = (await read(start, Math.min(length, 16))).toString('latin1');
        if (!version.startsWith('2.'))
          throw problem('EXTRACT_UNSUPPORTED', where, undefined, `is a Debian package of format ${JSON.stringify(version.trim())}; intact reads format 2.x.`);
      }
      if (name.startsWith('data.tar')) {
        const compression = COMPRESSION[name];
        if (compression === undefined)
          throw problem('EXTRACT_UNSUPPORTED', where, name, 'is compressed in a way intact does not read (gz, xz, bz2, zst or none).');
        if (data !== undefined) throw problem('EXTRACT_CORRUPT', where, name, 'is a second data member; a Debian package has one.');
        const first = await read(start, Math.min(length, 512));
        const sniffed = sniff(first);
        const agrees =
          compression === 'none' ? sniffed.kind === 'tar' && sniffed.compression === 'none' : sniffed.kind === 'tar' && sniffed.compression === compression;
        if (length > 0 && !agrees) throw problem('EXTRACT_CORRUPT', where, name, 'does not hold what its name says.');
        data = { start, end: start + length, compression, name };
      }
      // Members are padded to an even offset.
      at = start + length + (length % 2);
      index++;
    }
    if (data === undefined) {
      throw problem('EXTRACT_CORRUPT', where, undefined, 'is a Debian package without a data.tar member (a control-only package): it has no files to unpack.');
    }
    return data;
  } finally {
    await fh.close();
  }
}

export async function readDeb(file: string, visitor: Visitor, ctx: ReadContext): Promise<void> {
  const m = await findDataMember(file, ctx.where);
  const where = `${ctx.where} › ${m.name}`;
  if (m.end === m.start) return;
  await readTar(file, m.compression, visitor, { ...ctx, where, input: () => createReadStream(file, { start: m.start, end: m.end - 1 }) });
}
