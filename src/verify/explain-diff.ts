// Saying *how* two versions of a file differ, so a non-reproducible build can be
// fixed without digging: a unified diff for text, the first differing offset and
// the ELF section it falls in for binaries, the member list for `ar` archives
// (static libraries), and the first differing offset for anything else.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createTwoFilesPatch } from 'diff';

const MAX_TEXT = 4 * 1024 * 1024;
const MAX_LINES = 40;

export async function explainDiff(name: string, before: string, after: string): Promise<string> {
  const [a, b] = await Promise.all([readFile(before), readFile(after)]);
  if (isText(a) && isText(b) && a.length <= MAX_TEXT && b.length <= MAX_TEXT) {
    const patch = createTwoFilesPatch(`a/${name}`, `b/${name}`, a.toString('utf8'), b.toString('utf8'), 'store', 'rebuild', { context: 2 });
    const lines = patch.split('\n').slice(2);
    return lines.length > MAX_LINES ? `${lines.slice(0, MAX_LINES).join('\n')}\n… (${lines.length - MAX_LINES} more lines)` : lines.join('\n');
  }
  if (isAr(a) && isAr(b)) return arDiff(a, b);
  const offset = firstDifference(a, b);
  const sizes = a.length === b.length ? `${a.length} bytes each` : `${a.length} bytes before, ${b.length} after`;
  if (isElf(a)) {
    const section = elfSectionAt(a, offset);
    return `ELF; first difference at offset 0x${offset.toString(16)}${section ? ` in section ${section}` : ''} (${sizes})`;
  }
  return `binary; first difference at offset 0x${offset.toString(16)} (${sizes})`;
}

function isText(b: Buffer): boolean {
  return !b.subarray(0, 8192).includes(0);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const AR_MAGIC = Buffer.from('!<arch>\n');
function isAr(b: Buffer): boolean {
  return b.subarray(0, 8).equals(AR_MAGIC);
}

/** Members of a System V / GNU `ar` archive: name → sha256 of content. */
function arMembers(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let longNames = '';
  let off = 8;
  while (off + 60 <= b.length) {
    const header = b.subarray(off, off + 60).toString('latin1');
    const size = Number.parseInt(header.slice(48, 58).trim(), 10);
    if (!Number.isFinite(size) || size < 0) break;
    const data = b.subarray(off + 60, off + 60 + size);
    let name = header.slice(0, 16).trim();
    if (name === '//') longNames = data.toString('latin1');
    else if (name !== '/' && name !== '/SYM64/') {
      if (/^\/\d+$/.test(name)) name = longNames.slice(Number(name.slice(1))).split('/\n')[0] ?? name;
      name = name.replace(/\/$/, '');
      let key = name;
      for (let i = 2; out.has(key); i++) key = `${name}#${i}`;
      out.set(key, createHash('sha256').update(data).digest('hex'));
    }
    off += 60 + size + (size % 2);
  }
  return out;
}

function arDiff(a: Buffer, b: Buffer): string {
  const x = arMembers(a);
  const y = arMembers(b);
  const lines: string[] = [];
  for (const [n, h] of x) {
    if (!y.has(n)) lines.push(`- member ${n} (only before)`);
    else if (y.get(n) !== h) lines.push(`~ member ${n} differs`);
  }
  for (const n of y.keys()) if (!x.has(n)) lines.push(`+ member ${n} (only after)`);
  return lines.length > 0 ? `ar archive; ${lines.join('; ')}` : 'ar archive; same members and contents, different headers (timestamps, owners or order)';
}

function isElf(b: Buffer): boolean {
  return b.length >= 52 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** The name of the ELF section holding `offset`, from the section headers; bounded and defensive. */
export function elfSectionAt(b: Buffer, offset: number): string | undefined {
  try {
    const is64 = b[4] === 2;
    const le = b[5] === 1;
    const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const word = (o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(o));
    const shoff = word(is64 ? 0x28 : 0x20);
    const shentsize = u16(is64 ? 0x3a : 0x2e);
    const shnum = Math.min(u16(is64 ? 0x3c : 0x30), 4096);
    const shstrndx = u16(is64 ? 0x3e : 0x32);
    if (shoff === 0 || shoff + shnum * shentsize > b.length) return undefined;
    const sh = (i: number) => {
      const base = shoff + i * shentsize;
      return { name: u32(base), off: word(base + (is64 ? 0x18 : 0x10)), size: word(base + (is64 ? 0x20 : 0x14)), type: u32(base + 4) };
    };
    const strtab = sh(shstrndx);
    const nameOf = (n: number) => {
      const start = strtab.off + n;
      const end = b.indexOf(0, start);
      return end > start && end - start < 256 ? b.toString('latin1', start, end) : undefined;
    };
    for (let i = 0; i < shnum; i++) {
      const s = sh(i);
      // SHT_NOBITS (8) occupies no file bytes.
      if (s.type !== 8 && offset >= s.off && offset < s.off + s.size) return nameOf(s.name);
    }
    return offset < (is64 ? 64 : 52) ? 'ELF header' : undefined;
  } catch {
    return undefined;
  }
}
