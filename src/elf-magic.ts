// The four bytes an ELF file starts with. Below every layer: fetching places a
// downloaded program executable by them (fetch/extract/single.ts), and the build
// checks and the sandbox read programs by them (build/checks/elf.ts).
export const ELF_MAGIC: readonly number[] = [0x7f, 0x45, 0x4c, 0x46];

/** Whether the bytes start like an ELF file (the check for "is this a program"). */
export function isElfMagic(head: Uint8Array): boolean {
  return head.length >= ELF_MAGIC.length && ELF_MAGIC.every((b, i) => head[i] === b);
}
