// Synchronous filesystem work in time slices. On this machine (Node 20, 2 cores,
// a VM) every async fs call costs ~25 µs of thread-pool hand-off: reading a
// 16k-file tree through fs.promises took 2.2-2.8 s, with plain sync calls 0.15 s
// (the extractor's writer chose sync calls for the same reason, TRAPS.md #2).
// The public API stays async: long loops call `tick()`, which yields to the event
// loop every SLICE_MS, so timers, progress output and signals still run.

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
