// Byte counts for people: 1.5 MiB, 330 MiB (binary units, as du -h and npm show).
export function formatBytes(n: number): string {
  // Rates are quotients: a byte count shown to a person is whole (not `777.7777777777778 B`).
  if (Math.round(n) < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
