/**
 * `node bench/dashboard-live.ts`: what one live update costs the dashboard, in Chromium against a real Fulcrum
 * with one pool of 50 backends under a bounded load. Per view (pools, overview), over a fixed window: stats ticks
 * received, React components rendered and commits per tick, main-thread script and task time per tick (Chrome's
 * own counters), GET /api/pools per minute, and long tasks. Nothing is instrumented in the build: renders are
 * counted through React's DevTools hook, so an old build and a new one are measured the same way
 * (FULCRUM_DASHBOARD_DIR=<dist> picks the build; default packages/dashboard/dist). Reports, never passes or fails.
 *
 *   DASHBOARD_SECONDS=20 DASHBOARD_BACKENDS=50 node bench/dashboard-live.ts
 */
import type { Page } from 'playwright-core';
import { startBackends } from '../packages/server/test/support/backend.ts';
import { eventually, startFulcrum } from '../packages/server/test/support/fulcrum.ts';
import { launchChromium, startLoad } from '../packages/dashboard/e2e/support.ts';
import { envNumber } from './lib/report.ts';

const SECONDS = envNumber('DASHBOARD_SECONDS', 20);
const BACKENDS = Math.round(envNumber('DASHBOARD_BACKENDS', 50));

/**
 * Runs in the page before its scripts. A DevTools hook counts, on each commit, the function and class components
 * that did render (React sets PerformedWork, flag 1, on a fiber whose component ran; a subtree whose child pointer
 * did not change was not visited). EventSource's `stats` listeners count the ticks. Long tasks are collected.
 */
function instrument(): void {
  const w = window as unknown as Record<string, unknown> & { __m: { renders: number; commits: number; ticks: number; longTasks: number[]; updates: number[] } };
  w.__m = { renders: 0, commits: 0, ticks: 0, longTasks: [], updates: [] };
  const COMPONENT_TAGS = new Set([0, 1, 11, 14, 15]);
  interface Fiber {
    tag: number;
    flags: number;
    child: Fiber | null;
    sibling: Fiber | null;
    alternate: Fiber | null;
  }
  const rendered = (next: Fiber): number => {
    const prev = next.alternate;
    let n = COMPONENT_TAGS.has(next.tag) && (prev === null || (next.flags & 1) === 1) ? 1 : 0;
    if (prev === null || next.child !== prev.child) for (let c = next.child; c; c = c.sibling) n += rendered(c);
    return n;
  };
  let id = 0;
  w.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    renderers: new Map(),
    supportsFiber: true,
    inject: () => ++id,
    checkDCE: () => undefined,
    onScheduleFiberRoot: () => undefined,
    onCommitFiberUnmount: () => undefined,
    onPostCommitFiberRoot: () => undefined,
    onCommitFiberRoot: (_id: number, root: { current: Fiber }) => {
      w.__m.commits++;
      w.__m.renders += rendered(root.current);
    },
  };
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (this: EventSource, type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions) {
    if (type !== 'stats' || typeof listener !== 'function') return add.call(this, type, listener, options);
    return add.call(this, type, (e: Event) => (w.__m.ticks++, listener.call(this, e)), options);
  } as typeof EventSource.prototype.addEventListener;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__m.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
  // The dashboard's own measure of each update (lib/update-timing.ts), when the build has it.
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === 'fulcrum:update') w.__m.updates.push(e.duration);
  }).observe({ type: 'measure' });
}

interface Window {
  view: string;
  ticks: number;
  rendersPerTick: number;
  commitsPerTick: number;
  scriptMsPerTick: number;
  taskMsPerTick: number;
  poolsFetchesPerMinute: number;
  longTasks: number;
  longestMs: number;
  /** The dashboard's measures of its updates (lib/update-timing.ts): median, 95th percentile, max. */
  updateMs: [number, number, number] | undefined;
}

async function measure(page: Page, view: string, poolsFetches: { n: number }): Promise<Window> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
    return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
  };
  const read = () => page.evaluate(() => {
    const m = (window as unknown as { __m: { renders: number; commits: number; ticks: number; longTasks: number[]; updates: number[] } }).__m;
    return { ...m, longTasks: [...m.longTasks], updates: [...m.updates] };
  });
  const [m0, c0, f0, t0] = [await read(), await metrics(), poolsFetches.n, Date.now()];
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const [m1, c1, f1, t1] = [await read(), await metrics(), poolsFetches.n, Date.now()];
  await cdp.detach();
  const ticks = m1.ticks - m0.ticks;
  const per = (n: number) => (ticks === 0 ? NaN : n / ticks);
  const longTasks = m1.longTasks.slice(m0.longTasks.length);
  const updates = m1.updates.slice(m0.updates.length).sort((a, b) => a - b);
  const q = (p: number) => updates[Math.min(updates.length - 1, Math.floor(p * updates.length))]!;
  return {
    view,
    ticks,
    rendersPerTick: per(m1.renders - m0.renders),
    commitsPerTick: per(m1.commits - m0.commits),
    scriptMsPerTick: per(((c1.ScriptDuration ?? 0) - (c0.ScriptDuration ?? 0)) * 1000),
    taskMsPerTick: per(((c1.TaskDuration ?? 0) - (c0.TaskDuration ?? 0)) * 1000),
    poolsFetchesPerMinute: ((f1 - f0) * 60_000) / (t1 - t0),
    longTasks: longTasks.length,
    longestMs: Math.max(0, ...longTasks),
    updateMs: updates.length === 0 ? undefined : [q(0.5), q(0.95), updates[updates.length - 1]!],
  };
}

const bs = await startBackends(BACKENDS, 'p');
const fulcrum = await startFulcrum({ pools: { wide: { algorithm: 'round-robin', backends: bs.map((b) => ({ url: b.url })) } }, admin: { listen: '127.0.0.1:0' } });
const load = startLoad(fulcrum.url, { workers: 4, ms: (SECONDS * 2 + 60) * 1000 });
const browser = await launchChromium();
try {
  const page = await browser.context.newPage();
  await page.addInitScript(instrument);
  const poolsFetches = { n: 0 };
  page.on('request', (r) => void (new URL(r.url()).pathname === '/api/pools' && poolsFetches.n++));
  const results: Window[] = [];

  await page.goto(`${fulcrum.adminUrl}/#/pools`);
  await eventually(async () => (await page.locator('tr[data-backend] td:nth-child(4)').filter({ hasText: '%' }).count()) === BACKENDS, 20_000, `a share on ${BACKENDS} rows`);
  results.push(await measure(page, 'pools', poolsFetches));

  await page.goto(`${fulcrum.adminUrl}/#/overview`);
  await page.locator('.chart canvas').first().waitFor({ timeout: 10_000 });
  results.push(await measure(page, 'overview', poolsFetches));

  const r1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
  console.log(`dashboard ${process.env.FULCRUM_DASHBOARD_DIR ?? 'packages/dashboard/dist'}, ${BACKENDS} backends, ${SECONDS} s per view; load ok ${load.ok} failed ${load.failed}`);
  console.log('| view | ticks | renders/tick | commits/tick | script ms/tick | task ms/tick | GET /api/pools per min | long tasks (longest ms) | update ms p50/p95/max |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.view} | ${r.ticks} | ${r1(r.rendersPerTick)} | ${r1(r.commitsPerTick)} | ${r1(r.scriptMsPerTick)} | ${r1(r.taskMsPerTick)} | ${r1(r.poolsFetchesPerMinute)} | ${r.longTasks} (${Math.round(r.longestMs)}) | ${r.updateMs?.map(r1).join(' / ') ?? '—'} |`);
  }
} finally {
  await load.stop();
  await browser.close();
  await fulcrum.stop();
  for (const b of bs) await b.close();
}
