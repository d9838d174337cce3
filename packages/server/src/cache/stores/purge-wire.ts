/**
 * What the shared purge buses have in common: their subscribers, the purge as it travels (JSON with an id and
 * the publishing bus's id), and the memory of ids already delivered.
 */
import { randomUUID } from 'node:crypto';
import type { Purge } from '../purge-bus.ts';

/** A purge on the wire: the purge, a unique id, and the bus instance that published it. */
export interface PurgeRecord extends Purge {
  readonly id: string;
  readonly origin: string;
}

const KINDS: ReadonlySet<unknown> = new Set(['url', 'prefix', 'tag']);

/** A record as sent, or undefined for anything that is not one (ignored by the buses). */
export function parsePurgeRecord(v: unknown): PurgeRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (!KINDS.has(o.kind) || typeof o.value !== 'string' || typeof o.at !== 'number' || !Number.isFinite(o.at)) return undefined;
  if (typeof o.id !== 'string' || typeof o.origin !== 'string') return undefined;
  return { kind: o.kind as Purge['kind'], value: o.value, at: o.at, id: o.id, origin: o.origin };
}

/** Without the wire fields: what subscribers get. */
export function purgeOf(r: PurgeRecord): Purge {
  return { kind: r.kind, value: r.value, at: r.at };
}

/** Makes records for one bus instance: ids are the instance's random id and a counter. */
export class PurgeRecorder {
  readonly origin = randomUUID();
  private seq = 0;

  record(p: Purge): PurgeRecord {
    return { kind: p.kind, value: p.value, at: p.at, id: `${this.origin}:${++this.seq}`, origin: this.origin };
  }
}

/**
 * The ids of purges already delivered, forgotten `retentionMs` after they were first seen (measured on this
 * instance's clock, so other instances' clocks do not matter).
 */
export class DeliveredIds {
  private readonly seen = new Map<string, number>();
  private readonly retentionMs: number;

  constructor(retentionMs: number) {
    this.retentionMs = retentionMs;
  }

  /** True the first time an id is offered (then remembered), false after. */
  firstTime(id: string, now: number): boolean {
    // Insertion order is age order: drop from the front while too old.
    for (const [old, t] of this.seen) {
      if (now - t < this.retentionMs) break;
      this.seen.delete(old);
    }
    if (this.seen.has(id)) return false;
    this.seen.set(id, now);
    return true;
  }
}
