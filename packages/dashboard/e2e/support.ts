/**
 * Shared by the dashboard's end-to-end tests: Debian's Chromium through playwright-core with a fresh profile,
 * free loopback ports, and a bounded load generator. Not a test file itself (the runner picks *.e2e.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const TOKEN = 'e2e-admin-token-0123456789abcdef';
export const DIST = fileURLToPath(new URL('../dist/index.html', import.meta.url));
/**
 * Where the tests save their screenshots: docs/screenshots (the README's) with FULCRUM_SCREENSHOTS=1, as
 * `npm run screenshots` sets; otherwise a temporary folder, so that running the tests leaves the tree as it was.
 */
export const SCREENSHOTS =
  process.env.FULCRUM_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
    : join(tmpdir(), 'fulcrum-screenshots');

export function assertBuilt(): void {
  if (!existsSync(DIST)) throw new Error(`no ${DIST}: run npm run build:dashboard first`);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile; the flags keep it from calling out (the machine's network is closed). */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'fulcrum-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface Load {
  ok: number;
  failed: number;
  stop(): Promise<void>;
}

/**
 * `workers` loops of requests one after another, a few ms apart, until stopped, at most `max` requests each and
 * for at most `ms`: bounded, loopback-only traffic that leaves the browser CPU.
 */
export function startLoad(url: string, { workers = 1, max = 20_000, ms = 60_000, gapMs = 5 } = {}): Load {
  const until = Date.now() + ms;
  let stopped = false;
  const load: Load = { ok: 0, failed: 0, stop: async () => {
    stopped = true;
    await done;
  } };
  const loop = async (w: number) => {
    for (let i = 0; i < max && !stopped && Date.now() < until; i++) {
      try {
        const res = await fetch(`${url}/item/${w}-${i}`);
        await res.arrayBuffer();
        if (res.ok) load.ok++;
        else load.failed++;
      } catch {
        load.failed++;
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => loop(w))).then(() => undefined);
  return load;
}

/** One live update of the dashboard, as Chromium's trace saw it. */
export interface UpdateCost {
  /** From the store's change to the end of its commit, as the page measured it (lib/update-timing.ts). */
  wallMs: number;
  /** CPU time of the main thread's task that ran the update: its work, which a busy machine cannot stretch. */
  cpuMs: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { frames?: Array<{ url: string; processId: number }> } };
}

/**
 * Runs `during` with Chromium tracing on, and answers the cost of each `fulcrum:update` the page measured
 * meanwhile: React renders a store update in the task that changed the store, so that task's thread time is the
 * update's work (JSON parse, store, render, commit, effects), without the time the renderer waited for a core.
 */
export async function traceUpdates<T>(page: Page, during: () => Promise<T>): Promise<{ result: T; updates: UpdateCost[] }> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => void events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', {
    traceConfig: { includedCategories: ['disabled-by-default-devtools.timeline', 'blink.user_timing'] },
    transferMode: 'ReportEvents',
  });
  let result: T;
  try {
    result = await during();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  // The trace covers the whole browser: other pages have their own renderers, and may measure their own updates.
  const origin = new URL(page.url()).origin;
  const started = events.find((e) => e.name === 'TracingStartedInBrowser');
  const pid = started?.args?.data?.frames?.find((f) => f.url.startsWith(origin))?.processId;
  const main = events.find((e) => e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain');
  if (main === undefined) throw new Error(`no renderer main thread for ${origin} in the trace`);
  const onMain = events.filter((e) => e.pid === main.pid && e.tid === main.tid);
  const tasks = onMain.filter((e) => e.name === 'RunTask' && e.ph === 'X');
  // Updates never overlap: the n-th begin goes with the n-th end.
  const begins = onMain.filter((e) => e.name === 'fulcrum:update' && e.ph === 'b');
  const ends = onMain.filter((e) => e.name === 'fulcrum:update' && e.ph === 'e');
  const updates = begins.flatMap((b, i) => {
    const end = ends[i];
    if (end === undefined) return [];
    const task = tasks.find((t) => t.ts <= b.ts && t.ts + t.dur! >= end.ts);
    if (task?.tdur === undefined) throw new Error(`no thread time for the task of update ${i} (at ${b.ts} µs)`);
    return [{ wallMs: (end.ts - b.ts) / 1000, cpuMs: task.tdur / 1000 }];
  });
  return { result: result!, updates };
}
