/**
 * Limits with several workers (node:cluster): one limit per instance, not one per worker. The primary holds the
 * counters (a MemoryLimiterStore, and a ConnectionCounter for max_connections_per_ip: LimitsHub; each worker keeps
 * its share of max_connections itself, connections.ts workerGate) and each worker asks it (PrimaryLimits), in one
 * message per turn of the worker's event loop whatever the number of requests and connections in it.
 * Splitting the limit instead (each worker enforcing rate/N) would hold a client on one keep-alive connection,
 * which stays on one worker, to a fraction of its limit. The cost is measured in bench/ratelimit.ts.
 *
 * A worker that hears nothing back within FAIL_OPEN_MS lets the request or connection through: limits degrade,
 * traffic does not.
 */
import type { MonotonicClock as Clock } from '../time.ts';
import { ConnectionCounter, type Admission, type ConnectionGate, type ConnectionLimitsConfig } from './connections.ts';
import type { Decision, GcraPolicy } from './gcra.ts';
import { MemoryLimiterStore } from './memory-store.ts';
import type { LimiterStore } from './store.ts';

/** worker → primary. Flat arrays: `take` [id, key, intervalMs, burst]…, `open` [id, address]…, `close` [address]…. */
export interface LimitsAsk {
  readonly t: 'limits';
  readonly take?: ReadonlyArray<string | number>;
  readonly open?: ReadonlyArray<string | number>;
  readonly close?: readonly string[];
}

/** primary → worker. `decisions` [id, allowed 0|1, remaining, retryAfterMs, resetMs]…, `admissions` [id, code]…. */
export interface LimitsAnswer {
  readonly t: 'limits';
  readonly decisions?: readonly number[];
  readonly admissions?: readonly number[];
}

const ADMISSIONS: readonly Admission[] = ['admitted', 'over-total', 'over-ip'];
const FAIL_OPEN_MS = 1000;

interface Waiting {
  readonly since: number;
  readonly resolve: (value: never) => void;
  readonly open: boolean;
}

/** The worker's side: a LimiterStore and a ConnectionGate whose answers come from the primary. */
export class PrimaryLimits {
  private readonly send: (msg: LimitsAsk) => void;
  private readonly clock: Clock;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private take: Array<string | number> = [];
  private open: Array<string | number> = [];
  private close: string[] = [];
  private scheduled = false;
  private readonly timer: NodeJS.Timeout;
  /** Answers not heard in time, let through. */
  failedOpen = 0;

  readonly store: LimiterStore = {
    take: (key, policy) => this.ask<Decision>(false, (id) => this.take.push(id, key, policy.intervalMs, policy.burst)),
    close: async () => clearInterval(this.timer),
  };

  readonly gate: ConnectionGate = {
    admit: (address) => this.ask<Admission>(true, (id) => this.open.push(id, address)),
    release: (address) => {
      this.close.push(address);
      this.schedule();
    },
  };

  constructor(send: (msg: LimitsAsk) => void, clock: Clock) {
    this.send = send;
    this.clock = clock;
    this.timer = setInterval(() => this.expireOverdue(), FAIL_OPEN_MS / 4).unref();
  }

  /** The primary's answer to an earlier batch. */
  answered(msg: LimitsAnswer): void {
    const d = msg.decisions ?? [];
    for (let i = 0; i < d.length; i += 5) {
      const decision: Decision = { allowed: d[i + 1] === 1, remaining: d[i + 2]!, retryAfterMs: d[i + 3]!, resetMs: d[i + 4]! };
      this.settle(d[i]!, decision);
    }
    const a = msg.admissions ?? [];
    for (let i = 0; i < a.length; i += 2) this.settle(a[i]!, ADMISSIONS[a[i + 1]!] ?? 'admitted');
  }

  private ask<T>(open: boolean, push: (id: number) => void): Promise<T> {
    const id = this.nextId++;
    push(id);
    this.schedule();
    return new Promise<T>((resolve) => this.waiting.set(id, { since: this.clock.now(), resolve: resolve as (v: never) => void, open }));
  }

  private settle(id: number, value: Decision | Admission): void {
    const w = this.waiting.get(id);
    if (w === undefined) return; // failed open already
    this.waiting.delete(id);
    w.resolve(value as never);
  }

  /** One message for everything asked during this turn of the event loop. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const msg: { t: 'limits'; take?: Array<string | number>; open?: Array<string | number>; close?: string[] } = { t: 'limits' };
    if (this.take.length > 0) [msg.take, this.take] = [this.take, []];
    if (this.open.length > 0) [msg.open, this.open] = [this.open, []];
    if (this.close.length > 0) [msg.close, this.close] = [this.close, []];
    this.send(msg);
  }

  /** Lets through whatever the primary has not answered within FAIL_OPEN_MS (run on a timer; public for tests). */
  expireOverdue(): void {
    if (this.waiting.size === 0) return;
    const now = this.clock.now();
    for (const [id, w] of this.waiting) {
      if (now - w.since < FAIL_OPEN_MS) continue;
      this.failedOpen++;
      this.settle(id, w.open ? 'admitted' : ALLOWED);
    }
  }
}

const ALLOWED: Decision = { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 };

/** The primary's side: the instance's counters, and which worker holds which connections (released if it dies). */
export class LimitsHub {
  private readonly store: MemoryLimiterStore;
  private readonly connections: ConnectionCounter;
  private readonly held = new Map<number, Map<string, number>>();

  constructor(clock: Clock, maxKeys: number, connectionLimits: ConnectionLimitsConfig) {
    this.store = new MemoryLimiterStore(clock, maxKeys);
    this.connections = new ConnectionCounter(connectionLimits);
  }

  /** A worker's batch; the answer to send back, if it asked anything that needs one. */
  handle(worker: number, msg: LimitsAsk): LimitsAnswer | undefined {
    const take = msg.take ?? [];
    const decisions: number[] = [];
    for (let i = 0; i < take.length; i += 4) {
      const policy: GcraPolicy = { intervalMs: Number(take[i + 2]), burst: Number(take[i + 3]) };
      const d = this.store.take(String(take[i + 1]), policy);
      decisions.push(Number(take[i]), d.allowed ? 1 : 0, d.remaining, d.retryAfterMs, d.resetMs);
    }
    const held = this.heldBy(worker);
    for (const address of msg.close ?? []) {
      const n = held.get(address) ?? 0;
      if (n === 0) continue; // admitted by the worker on its own (failed open): never counted here
      if (n === 1) held.delete(address);
      else held.set(address, n - 1);
      this.connections.release(address);
    }
    const open = msg.open ?? [];
    const admissions: number[] = [];
    for (let i = 0; i < open.length; i += 2) {
      const address = String(open[i + 1]);
      const admission = this.connections.admit(address);
      if (admission === 'admitted') held.set(address, (held.get(address) ?? 0) + 1);
      admissions.push(Number(open[i]), ADMISSIONS.indexOf(admission));
    }
    if (decisions.length === 0 && admissions.length === 0) return undefined;
    return { t: 'limits', ...(decisions.length > 0 ? { decisions } : {}), ...(admissions.length > 0 ? { admissions } : {}) };
  }

  /** A worker exited: the connections it held are gone with it. */
  workerGone(worker: number): void {
    for (const [address, n] of this.heldBy(worker)) for (let i = 0; i < n; i++) this.connections.release(address);
    this.held.delete(worker);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private heldBy(worker: number): Map<string, number> {
    let held = this.held.get(worker);
    if (held === undefined) this.held.set(worker, (held = new Map()));
    return held;
  }
}
