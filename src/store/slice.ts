// Synchronous filesystem work in time slices, for the store and the build
// layer's output checks (build may import store, not the reverse). On this machine every async fs call costs ~25 µs
// of thread-pool hand-off, so walking and hashing a 16k-file entry through
// fs.promises took 2-3 s, with sync calls well under half a second. The public
// APIs stay async: long loops call `tick()`, which yields to the event loop every
// SLICE_MS, so timers, progress output, lock heartbeats and signals still run.

const SLICE_MS = 20;

export type Tick = () => Promise<void>;

export function slicer(): Tick {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
