// Turning fetch events into what the user sees: one bar per source on a terminal
// (cli-progress: bytes, rate), plain lines when stdout is not a terminal or CI
// is set, NDJSON events with --json, nothing with --quiet.
import type { FetchEvent, FetchProgress } from '../fetch/types.js';
import type { Output } from './output.js';
import { redactUrls } from '../recipe/url-secrets.js';

export interface ProgressDisplay {
  onEvent: FetchProgress;
  stop(): void;
}

export function progressFor(out: Output, env: NodeJS.ProcessEnv = process.env): ProgressDisplay {
  const shown = displayFor(out, env);
  // The one place fetch events are printed: every mode gets them with credentials blanked.
  return { onEvent: (e) => shown.onEvent(redactEvent(e)), stop: () => shown.stop() };
}

function displayFor(out: Output, env: NodeJS.ProcessEnv): ProgressDisplay {
  if (out.json) return { onEvent: (e) => out.out.write(`${JSON.stringify({ event: e.type, ...e, type: undefined })}\n`), stop: () => {} };
  if (out.quiet) return { onEvent: () => {}, stop: () => {} };
  const tty = Boolean((out.err as { isTTY?: boolean }).isTTY) && !isCi(env) && env['TERM'] !== 'dumb';
  return tty ? bars(out) : lines(out);
}

function redactEvent(e: FetchEvent): FetchEvent {
  const copy: Record<string, unknown> = { ...e };
  for (const [k, v] of Object.entries(copy)) if (typeof v === 'string') copy[k] = redactUrls(v);
  return copy as unknown as FetchEvent;
}

export function isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env['CI'];
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

export { formatBytes } from '../format-bytes.js';
import { formatBytes } from '../format-bytes.js';

function lines(out: Output): ProgressDisplay {
  const started = new Map<string, number>();
  const write = (s: string) => out.err.write(`${s}\n`);
  return {
    onEvent(e: FetchEvent) {
      switch (e.type) {
        case 'start':
          if (!started.has(e.id)) write(`fetch ${e.id}${e.total !== undefined ? ` (${formatBytes(e.total)})` : ''}`);
          started.set(e.id, Date.now());
          break;
        case 'retry':
          write(`retry ${e.id}: ${e.reason}${e.delayMs > 0 ? ` (in ${(e.delayMs / 1000).toFixed(1)} s)` : ''}`);
          break;
        case 'done': {
          const t = started.get(e.id);
          const secs = t !== undefined ? (Date.now() - t) / 1000 : 0;
          write(e.cached ? `cached ${e.id}` : `fetched ${e.id} (${formatBytes(e.bytes)}${secs > 0 ? `, ${formatBytes(e.bytes / secs)}/s` : ''})`);
          break;
        }
        case 'fail':
          write(`failed ${e.id}: ${e.message}`);
          break;
        case 'progress':
          break;
      }
    },
    stop() {},
  };
}

function bars(out: Output): ProgressDisplay {
  // Loaded only for a terminal, so CI and --json runs never pay for it.
  type Multi = import('cli-progress').MultiBar;
  type Bar = import('cli-progress').SingleBar;
  let multi: Multi | undefined;
  const pending: FetchEvent[] = [];
  const barsById = new Map<string, { bar: Bar; started: number }>();
  let requested = false;
  const handle = (e: FetchEvent): void => {
    if (!multi) return;
    let b = barsById.get(e.id);
    if (!b && (e.type === 'start' || e.type === 'progress')) {
      b = { bar: multi.create(1, 0, { id: e.id, rate: '' }), started: Date.now() };
      barsById.set(e.id, b);
    }
    if (!b) {
      if (e.type === 'done') multi.log(`${e.cached ? 'cached' : 'fetched'} ${e.id}\n`);
      if (e.type === 'fail') multi.log(`failed ${e.id}: ${e.message}\n`);
      return;
    }
    const secs = Math.max((Date.now() - b.started) / 1000, 0.001);
    if (e.type === 'start' || e.type === 'progress') {
      const total = e.total ?? 0;
      const bytes = e.type === 'progress' ? e.bytes : 0;
      b.bar.setTotal(Math.max(total, bytes, 1));
      b.bar.update(bytes, { id: e.id, rate: `${formatBytes(bytes / secs)}/s`, size: formatBytes(bytes) });
    } else if (e.type === 'done') {
      b.bar.setTotal(Math.max(e.bytes, 1));
      b.bar.update(Math.max(e.bytes, 1), { id: e.id, rate: e.cached ? 'cached' : `${formatBytes(e.bytes / secs)}/s`, size: formatBytes(e.bytes) });
      b.bar.stop();
    } else if (e.type === 'retry') {
      multi.log(`retry ${e.id}: ${e.reason}\n`);
    } else if (e.type === 'fail') {
      b.bar.stop();
      multi.log(`failed ${e.id}: ${e.message}\n`);
    }
  };
  return {
    onEvent(e) {
      if (multi) return handle(e);
      pending.push(e);
      if (requested) return;
      requested = true;
      void import('cli-progress').then((m) => {
        const cp = m.default ?? m;
        multi = new cp.MultiBar(
          {
            stream: out.err as NodeJS.WriteStream,
            format: '{bar} {percentage}% {size} {rate}  {id}',
            hideCursor: true,
            clearOnComplete: false,
            barsize: 24,
            autopadding: true,
          },
          cp.Presets.shades_classic,
        );
        for (const p of pending.splice(0)) handle(p);
      });
    },
    stop() {
      multi?.stop();
    },
  };
}
