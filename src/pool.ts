// The one bounded-concurrency pool (locking, fetching, checking, pushing, looking
// up versions). Run async tasks with at most `jobs` at once; the first failure stops new tasks
// from starting and is rethrown once the running ones have settled (so nothing
// is left writing into the store behind the caller's back).
export async function runLimited(tasks: readonly (() => Promise<void>)[], jobs: number): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failure === undefined) {
      const t = tasks[next++]!;
      try {
        await t();
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tasks.length)) }, worker));
  if (failure !== undefined) throw failure.error;
}
