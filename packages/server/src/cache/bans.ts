/**
 * The purge bans of one cache, indexed so that checking an entry costs the same with a hundred thousand bans as
 * with none: a ban names entries by exact URL, URL prefix or tag, and an entry stored at or before a ban that names
 * it is purged. Only the latest time per URL, prefix and tag matters, so each kind is a map (URL, tag) or a prefix
 * tree from the name to that time, and an entry is banned when the latest time among the names that match it is
 * not before it was stored. A ban older than the retention can match no entry still alive and is trimmed, oldest
 * first, as bans arrive.
 */
import type { Purge } from './purge-bus.ts';
import { PrefixTree } from './prefix-tree.ts';

const NONE = Number.NEGATIVE_INFINITY;

/** What a ban check reads of an entry. */
export interface Bannable {
  readonly url: string;
  readonly tags: readonly string[];
  /** Epoch milliseconds. */
  readonly storedAt: number;
}

export class BanIndex {
  private readonly urls = new Map<string, number>();
  private readonly tags = new Map<string, number>();
  private readonly prefixes = new PrefixTree();
  /** Bans in arrival order, for trimming; `head` is the first one not trimmed yet. */
  private order: Purge[] = [];
  private head = 0;
  /** The latest ban time of all: an entry stored after it needs no further look (the usual hit). */
  private newest = NONE;
  private readonly retentionMs: number;

  /** `retentionMs`: how long an entry can live, so how long a ban can matter. */
  constructor(retentionMs: number) {
    this.retentionMs = retentionMs;
  }

  /** Distinct names banned (URLs, prefixes and tags). */
  get size(): number {
    return this.urls.size + this.tags.size + this.prefixes.size;
  }

  /** Prefix-tree nodes visited by checks so far (a test's measure of what a check costs). */
  get prefixNodesVisited(): number {
    return this.prefixes.visited;
  }

  /** Applies a ban made at `ban.at`, and trims those that can no longer match anything at `now`. */
  add(ban: Purge, now: number): void {
    const horizon = now - this.retentionMs;
    this.trim(horizon);
    if (ban.at <= horizon) return; // older than any entry still alive
    if (ban.kind === 'prefix') this.prefixes.set(ban.value, ban.at);
    else {
      const map = ban.kind === 'url' ? this.urls : this.tags;
      if ((map.get(ban.value) ?? NONE) < ban.at) map.set(ban.value, ban.at);
    }
    if (ban.at > this.newest) this.newest = ban.at;
    this.order.push(ban);
  }

  /** Whether a ban made at or after the entry was stored names it by its URL, a prefix of its URL, or a tag. */
  bans(entry: Bannable): boolean {
    const storedAt = entry.storedAt;
    if (storedAt > this.newest) return false;
    if ((this.urls.get(entry.url) ?? NONE) >= storedAt) return true;
    for (let i = 0; i < entry.tags.length; i++) if ((this.tags.get(entry.tags[i]!) ?? NONE) >= storedAt) return true;
    return this.prefixes.size > 0 && this.prefixes.latest(entry.url) >= storedAt;
  }

  /**
   * Forgets bans made at or before `horizon`, from the oldest arrival on. Bans from other instances may arrive out
   * of time order; one stuck behind a younger one is trimmed a little later, which costs memory only (it can match
   * nothing). A name banned again later keeps its later time.
   */
  private trim(horizon: number): void {
    const order = this.order;
    while (this.head < order.length && order[this.head]!.at <= horizon) {
      const old = order[this.head++]!;
      if (old.kind === 'prefix') this.prefixes.forget(old.value, horizon);
      else {
        const map = old.kind === 'url' ? this.urls : this.tags;
        if ((map.get(old.value) ?? NONE) <= horizon) map.delete(old.value);
      }
    }
    // Drop the trimmed part of the array once it is most of it: amortised O(1) per ban.
    if (this.head > 1024 && this.head * 2 > order.length) {
      this.order = order.slice(this.head);
      this.head = 0;
    }
  }
}
