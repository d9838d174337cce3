/**
 * The dashboard's one store of live state: the stream's status, the last five minutes of statistics, the control
 * plane's events, and the pools as GET /api/pools last answered. The live stream feeds it (it is the stream's
 * handlers); components read slices of it (live-context.ts).
 *
 * The pools are fetched when a component shows them and the store has none yet, and again only when an event
 * says they changed (see `changesPools`) or the stream reconnects (events may have been missed meanwhile), never
 * per statistics tick: the per-tick figures of pools and backends come from the stream's snapshots. One fetch at a
 * time; changes announced during a fetch bring one more after it, however many they are. A failed fetch is
 * tried again on the next tick.
 */
import type { Api } from './api.ts';
import type { LiveHandlers, LiveStatus } from './live.ts';
import { Store } from './store.ts';
import type { FulcrumEvent, PoolView, Sample } from './types.ts';

/** Five minutes of one-second samples. */
export const MAX_SAMPLES = 300;
export const MAX_EVENTS = 500;

export interface PoolsSlice {
  /** The last answer of GET /api/pools; undefined before the first. */
  readonly views: readonly PoolView[] | undefined;
  /** Why the last fetch failed; cleared by the next answer. */
  readonly error: string | undefined;
}

export interface LiveState {
  readonly status: LiveStatus;
  /** Oldest first; a new array on each sample. */
  readonly samples: readonly Sample[];
  /** Newest first. */
  readonly events: readonly FulcrumEvent[];
  readonly pools: PoolsSlice;
}

/** Whether an event changes what GET /api/pools answers (backends, their states and weights, algorithms). */
export function changesPools(e: FulcrumEvent): boolean {
  switch (e.type) {
    case 'backend-state':
    case 'config-reloaded':
    case 'runtime-change': // weights, algorithms, backends added or removed (self-registration among them)
      return true;
    case 'cache-purge':
    case 'config-rejected': // the running config stays
      return false;
  }
}

const INITIAL: LiveState = { status: 'connecting', samples: [], events: [], pools: { views: undefined, error: undefined } };

export class LiveStore extends Store<LiveState> implements LiveHandlers {
  private poolWatchers = 0;
  /** The pools may have changed since the last answer (or there was none). */
  private poolsStale = true;
  private fetching: AbortController | undefined;
  private fetchAgain = false;
  /** The last fetch started while the stream was connected, and it has stayed connected: no change went unannounced. */
  private fetchedLive = false;
  /** The last fetch failed: the next tick tries again. */
  private retryOnTick = false;

  constructor(private readonly api: Pick<Api, 'pools'>) {
    super(INITIAL);
  }

  status(status: LiveStatus): void {
    const state = this.get();
    if (status === state.status) return;
    this.set({ ...state, status });
    // Events sent while the stream is down are lost: an answer from before cannot be trusted once it is back.
    if (status !== 'connected') this.fetchedLive = false;
    else if (!this.fetchedLive) this.refreshPools();
  }

  stats(sample: Sample): void {
    const state = this.get();
    const samples = state.samples.length < MAX_SAMPLES ? [...state.samples, sample] : [...state.samples.slice(1 - MAX_SAMPLES), sample];
    this.set({ ...state, samples });
    if (this.retryOnTick) this.refreshPools();
  }

  event(e: FulcrumEvent): void {
    const state = this.get();
    this.set({ ...state, events: [e, ...state.events.slice(0, MAX_EVENTS - 1)] });
    if (changesPools(e)) this.refreshPools();
  }

  /** Someone shows the pools: keep them fresh until the returned function is called. */
  watchPools(): () => void {
    this.poolWatchers++;
    if (this.poolsStale) this.fetchPools();
    return () => void this.poolWatchers--;
  }

  /** The pools changed (an event, a change made from this page): fetch them now if shown, else when next shown. */
  refreshPools(): void {
    this.poolsStale = true;
    if (this.poolWatchers > 0) this.fetchPools();
  }

  /** Stops a fetch in flight (the page goes away). */
  close(): void {
    this.fetching?.abort();
  }

  private fetchPools(): void {
    if (this.fetching !== undefined) {
      this.fetchAgain = true;
      return;
    }
    const ctl = new AbortController();
    this.fetching = ctl;
    this.poolsStale = false;
    this.retryOnTick = false;
    this.fetchedLive = this.get().status === 'connected';
    this.api.pools(ctl.signal).then(
      (views) => this.setPools({ views, error: undefined }),
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        this.poolsStale = true;
        this.retryOnTick = true;
        this.fetchedLive = false;
        this.setPools({ views: this.get().pools.views, error: e instanceof Error ? e.message : String(e) });
      },
    ).finally(() => {
      this.fetching = undefined;
      if (this.fetchAgain && !ctl.signal.aborted) {
        this.fetchAgain = false;
        this.refreshPools();
      }
    });
  }

  private setPools(pools: PoolsSlice): void {
    this.set({ ...this.get(), pools });
  }
}
