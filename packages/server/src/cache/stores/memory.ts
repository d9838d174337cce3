/**
 * The in-process store: a least-recently-used map bounded by bytes, with a time to live per entry.
 *
 * A hit is the hot path of a cached response, so `lookup` allocates nothing: one Map read, one clock read, and
 * four pointer writes to move the entry to the front of an intrusive doubly linked list (a Map delete and re-set
 * would move it too, but churns the Map's tables). `get` hands back a promise resolved once per entry and kept,
 * and one shared promise for every miss. Expiry is checked when an entry is read; an expired entry not read again
 * sinks to the back of the list and goes first when room is needed.
 */
import type { CacheStore, StoreStats, StoredResponse } from '../store.ts';
import { monotonicClock, type MonotonicClock } from '../../time.ts';

/**
 * Per entry, besides its strings and body: the Map slot, the list node, the StoredResponse object, its two
 * arrays, the Buffer object and the cached promise. Measured order of magnitude on V8, rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 320;
/** Per string: V8's string header. Characters are counted one byte each (V8 keeps Latin-1 strings so). */
export const STRING_OVERHEAD_BYTES = 16;
/** How deep `valueSize` walks the policy object; CachePolicy.toObject() nests two levels. */
const MAX_DEPTH = 6;

export interface MemoryStoreOptions {
  /** Bytes held at most, counted by `entrySize` (config: cache.memory.max_size). */
  readonly maxBytes: number;
  /** Measures time to live; monotonic milliseconds. */
  readonly clock?: MonotonicClock;
}

export interface MemoryStoreStats extends StoreStats {
  readonly bytes: number;
  readonly entries: number;
  /** Entries not stored because they alone were larger than maxBytes. */
  readonly skipped: number;
}

/** The bytes an entry is counted for: body, key, url, headers, tags, policy, and fixed overheads. */
export function entrySize(key: string, value: StoredResponse): number {
  let n = ENTRY_OVERHEAD_BYTES + value.body.length + stringSize(key) + stringSize(value.url);
  for (const h of value.headers) n += stringSize(h);
  for (const t of value.tags) n += stringSize(t);
  return n + valueSize(value.policy, 0);
}

function stringSize(s: string): number {
  return STRING_OVERHEAD_BYTES + s.length;
}

/** An estimate of what a JSON-like value costs on the heap: strings as above, 8 bytes a number or slot. */
function valueSize(v: unknown, depth: number): number {
  if (typeof v === 'string') return stringSize(v);
  if (typeof v !== 'object' || v === null || depth >= MAX_DEPTH) return 8;
  let n = 32;
  if (Array.isArray(v)) {
    for (const item of v) n += 8 + valueSize(item, depth + 1);
    return n;
  }
  for (const k in v) n += stringSize(k) + 8 + valueSize((v as Record<string, unknown>)[k], depth + 1);
  return n;
}

class Entry {
  readonly key: string;
  readonly value: StoredResponse;
  readonly size: number;
  readonly expiresAt: number;
  /** Created on the first `get`, then handed to every later one. */
  promise: Promise<StoredResponse> | undefined = undefined;
  /** Towards the most recently used. */
  prev: Entry | undefined = undefined;
  /** Towards the least recently used. */
  next: Entry | undefined = undefined;

  constructor(key: string, value: StoredResponse, size: number, expiresAt: number) {
    this.key = key;
    this.value = value;
    this.size = size;
    this.expiresAt = expiresAt;
  }
}

const MISS: Promise<undefined> = Promise.resolve(undefined);
const DONE: Promise<void> = Promise.resolve();

export class MemoryStore implements CacheStore {
  readonly name = 'memory' as const;
  private readonly maxBytes: number;
  private readonly clock: MonotonicClock;
  private readonly entries = new Map<string, Entry>();
  /** Most recently used. */
  private head: Entry | undefined = undefined;
  /** Least recently used: evicted first. */
  private tail: Entry | undefined = undefined;
  private bytes = 0;
  private evictions = 0;
  private skipped = 0;

  constructor(options: MemoryStoreOptions) {
    if (!(options.maxBytes >= 0)) throw new RangeError(`MemoryStore maxBytes must be >= 0, got ${options.maxBytes}`);
    this.maxBytes = options.maxBytes;
    this.clock = options.clock ?? monotonicClock;
  }

  /** The synchronous form of `get`, for a caller that can skip the microtask (see STYLE: await only promises). */
  lookup(key: string): StoredResponse | undefined {
    return this.live(key)?.value;
  }

  get(key: string): Promise<StoredResponse | undefined> {
    const entry = this.live(key);
    if (entry === undefined) return MISS;
    return (entry.promise ??= Promise.resolve(entry.value));
  }

  /**
   * Replaces any entry of that key. A response larger than maxBytes on its own is not stored (counted as
   * skipped), nor one with no time to live; either way the old entry goes, as it has been superseded.
   */
  set(key: string, value: StoredResponse, ttlMs: number): Promise<void> {
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(old);
    const size = entrySize(key, value);
    if (size > this.maxBytes) {
      this.skipped++;
      return DONE;
    }
    if (!(ttlMs > 0)) return DONE;
    const entry = new Entry(key, value, size, this.clock.now() + ttlMs);
    this.entries.set(key, entry);
    this.pushFront(entry);
    this.bytes += size;
    // The new entry is at the front and fits alone, so this stops before reaching it.
    while (this.bytes > this.maxBytes && this.tail !== undefined) {
      this.remove(this.tail);
      this.evictions++;
    }
    return DONE;
  }

  delete(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.remove(entry);
    return DONE;
  }

  /** Drops every expired entry now (otherwise they go when read or when room is needed). Returns how many. */
  prune(): number {
    const now = this.clock.now();
    let dropped = 0;
    for (let e = this.tail; e !== undefined; ) {
      const prev = e.prev;
      if (now >= e.expiresAt) {
        this.remove(e);
        dropped++;
      }
      e = prev;
    }
    return dropped;
  }

  stats(): MemoryStoreStats {
    return { bytes: this.bytes, entries: this.entries.size, evictions: this.evictions, errors: 0, skipped: this.skipped };
  }

  close(): Promise<void> {
    this.entries.clear();
    this.head = this.tail = undefined;
    this.bytes = 0;
    return DONE;
  }

  /** The entry of that key unless absent or expired (then dropped), moved to the front. */
  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.clock.now() >= entry.expiresAt) {
      this.remove(entry);
      return undefined;
    }
    this.touch(entry);
    return entry;
  }

  private touch(entry: Entry): void {
    if (entry === this.head) return;
    this.unlink(entry);
    this.pushFront(entry);
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.unlink(entry);
    this.bytes -= entry.size;
  }

  private pushFront(entry: Entry): void {
    entry.prev = undefined;
    entry.next = this.head;
    if (this.head !== undefined) this.head.prev = entry;
    this.head = entry;
    if (this.tail === undefined) this.tail = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.prev !== undefined) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
  }
}
