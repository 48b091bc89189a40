// How many processes and threads a step runs, counted by its PID namespace (so a
// process that left the step's process group still counts). RLIMIT_NPROC makes a
// fork past the limit fail, but a fork bomb then spins at the limit until the
// time limit: this count is how supervise.ts sees it got there and ends it.
// At level none a step has no PID namespace of its own, and nothing is counted.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function nsOf(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The PID namespace `pid` (the sandbox's unshare) made for its children; undefined while it has none. */
export function childPidNs(pid: number): string | undefined {
  const ns = nsOf(`/proc/${pid}/ns/pid_for_children`);
  return ns === undefined || ns === nsOf('/proc/self/ns/pid') ? undefined : ns;
}

/** Threads of every process in the namespace `ns` (one /proc scan). */
export function tasksIn(ns: string): number {
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || nsOf(`/proc/${name}/ns/pid`) !== ns) continue;
    try {
      // Field 20 is num_threads; the command (field 2) may hold spaces, so count after its `)`.
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      n += Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[17]) || 1;
    } catch {
      // Gone meanwhile.
    }
  }
  return n;
}
