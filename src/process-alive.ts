// Whether a process of this host still runs, to tell a temp file or lock that
// belongs to a live intact from one left by a killed one. EPERM means it exists
// but belongs to another user: alive.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
