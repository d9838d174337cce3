/**
 * Consistent hashing over a Maglev table (see maglev.ts), with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads", SODA 2018). A pick is one hash of the key and one array read.
 *
 * The table covers the pool's configured backends (and any other an update names), not only the eligible ones:
 * a backend that turns unhealthy keeps its slots, and a key it owns walks on, in table order, to the next
 * eligible backend. So health changes never rebuild the table: only the failed backend's keys move, spread
 * over the others, and they come back when it recovers. A rebuild follows a change of the set of backends or
 * of a weight; Maglev then moves about the share of keys the change implies, plus a few (paper §5.3).
 *
 * Slow start: a warming backend accepts a key only when a hash of the key falls under its warmth, so as warmth
 * rises it takes back the keys it had, and more, without a rebuild. Bounded loads: a backend accepts a key only
 * while its requests in flight are under ceil(c × (total + 1) / n × weight share), the paper's ceil(c(m+1)/n)
 * when weights are equal; otherwise the walk goes on. A request without a key goes round robin.
 */
import type { Backend } from '../upstream/backend.ts';
import type { Balancer, BalancerContext, BalancerDeps, RequestView } from './balancer.ts';
import { hash32, mix32 } from './hash.ts';
import { MAGLEV_TABLE_SIZE, buildMaglevTable } from './maglev.ts';
import type { KeyReader } from './request-key.ts';
import { RoundRobinBalancer } from './round-robin.ts';

/** A backend as the pool's config names it: `id` is its origin, as `Backend.id`. */
export interface ConfiguredBackend {
  readonly id: string;
  readonly weight: number;
}

export interface ConsistentHashOptions {
  /** The pool's `hash.bounded_load`, at least 1: how far above its share of the load a backend may go. */
  readonly boundedLoad: number;
  /** The pool's configured backends, eligible or not: the table covers them all. */
  readonly backends?: readonly ConfiguredBackend[];
  /** A prime larger than the number of backends. */
  readonly tableSize?: number;
  /** Reads a request's key (`hash.key`, compiled by request-key.ts); without one, requests have no key. */
  readonly keyOf?: KeyReader;
}

const ADMIT_SEED = 0x3c6ef372;
const STRIDE_SEED = 0xa54ff53a;
const TWO_TO_32 = 2 ** 32;

const byId = (a: Backend, b: Backend): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class ConsistentHashBalancer implements Balancer {
  private readonly boundedLoad: number;
  private readonly tableSize: number;
  private readonly configured: readonly ConfiguredBackend[];
  private readonly readKey: KeyReader | undefined;
  /** Picks for requests without a key. */
  private readonly fallback: RoundRobinBalancer;
  /** The eligible backends, sorted by id. */
  private backends: readonly Backend[] = [];
  /** Latest weight of every backend in the table, by id. */
  private weights = new Map<string, number>();
  /** What the table was built from (ids and weights): an update that changes neither keeps it. */
  private builtFrom = '';
  private indexOf = new Map<string, number>();
  /** For each slot, an index into the table's backends (below: "table index"). */
  private table: Uint32Array = new Uint32Array(0);
  /** How many table indices own at least one slot (a tiny weight among huge ones may own none). */
  private owners = 0;
  /** By table index: the eligible backend of that id, if it is eligible. */
  private current: (Backend | undefined)[] = [];
  /** By table index: effective weight × n / total effective weight of the eligible backends (1 when equal). */
  private share = new Float64Array(0);
  /** By table index: the seed of slow start's admission hash. */
  private admitSeed = new Uint32Array(0);
  /** The walk's marks of the table indices already seen (`visited[i] === epoch`), reused between picks. */
  private visited = new Uint32Array(0);
  private epoch = 0;

  constructor(deps: BalancerDeps, options: ConsistentHashOptions) {
    this.boundedLoad = options.boundedLoad;
    this.tableSize = options.tableSize ?? MAGLEV_TABLE_SIZE;
    this.configured = options.backends ?? [];
    this.readKey = options.keyOf;
    this.fallback = new RoundRobinBalancer(deps);
  }

  keyOf(req: RequestView): string | undefined {
    return this.readKey?.(req);
  }

  update(eligible: readonly Backend[]): void {
    this.backends = eligible.slice().sort(byId);
    this.fallback.update(this.backends);
    this.rebuildIfChanged();
    const size = this.indexOf.size;
    this.current = new Array<Backend | undefined>(size).fill(undefined);
    this.share = new Float64Array(size);
    let totalWeight = 0;
    for (const backend of this.backends) totalWeight += backend.effectiveWeight;
    for (const backend of this.backends) {
      const i = this.indexOf.get(backend.id)!;
      this.current[i] = backend;
      this.share[i] = (backend.effectiveWeight * this.backends.length) / totalWeight;
    }
  }

  pick(ctx: BalancerContext): Backend | undefined {
    if (this.backends.length === 0) return undefined;
    const key = ctx.key;
    // An empty header or cookie value is no key: hashing it would send every such request to one backend.
    if (key === undefined || key === '') return this.fallback.pick(ctx);
    const exclude = ctx.exclude;
    const keyHash = hash32(key);
    const slot = keyHash % this.table.length;
    const owner = this.current[this.table[slot]!];
    // An idle owner is under any capacity (which is at least 1): no need to add up the loads.
    if (owner !== undefined && owner.inFlight === 0 && owner.warmth >= 1 && (exclude === undefined || !exclude.has(owner))) {
      return owner;
    }
    return this.walk(key, keyHash, exclude) ?? this.fallback.pick(ctx);
  }

  /**
   * From the key's slot on, the first distinct backend that is eligible, not excluded, warm enough and not full.
   * The walk steps by a stride drawn from the key (the table's size is prime, so any stride visits every slot):
   * stepping by 1 would hand a failed backend's keys mostly to the few backends Maglev's fill order put after
   * its slots; a stride per key spreads them evenly.
   */
  private walk(key: string, keyHash: number, exclude: ReadonlySet<Backend> | undefined): Backend | undefined {
    const { backends, table, current, share, visited } = this;
    const size = table.length;
    let slot = keyHash % size;
    const stride = (mix32(keyHash ^ STRIDE_SEED) % (size - 1)) + 1;
    let total = 0;
    for (let i = 0; i < backends.length; i++) total += backends[i]!.inFlight;
    const perShare = (this.boundedLoad * (total + 1)) / backends.length;
    const epoch = this.nextEpoch();
    let admitHash = -1;
    let notAdmitted: Backend | undefined;
    let full: Backend | undefined;
    for (let seen = 0, steps = 0; seen < this.owners && steps < size; steps++) {
      const i = table[slot]!;
      slot += stride;
      if (slot >= size) slot -= size;
      if (visited[i] === epoch) continue;
      visited[i] = epoch;
      seen++;
      const backend = current[i];
      if (backend === undefined || (exclude !== undefined && exclude.has(backend))) continue;
      if (backend.inFlight >= Math.ceil(perShare * share[i]!)) {
        full ??= backend;
        continue;
      }
      if (backend.warmth < 1) {
        if (admitHash === -1) admitHash = hash32(key, ADMIT_SEED);
        if (mix32(admitHash ^ this.admitSeed[i]!) >= backend.warmth * TWO_TO_32) {
          notAdmitted ??= backend;
          continue;
        }
      }
      return backend;
    }
    // Warming backends under capacity before full ones; every allowed backend full is possible only when the
    // excluded ones hold the spare capacity: then overload the key's nearest rather than fail the request.
    return notAdmitted ?? full;
  }

  private rebuildIfChanged(): void {
    // The table's backends: the configured ones and those of this update, at their latest known weight.
    const weights = new Map<string, number>();
    for (const { id, weight } of this.configured) weights.set(id, this.weights.get(id) ?? weight);
    for (const backend of this.backends) weights.set(backend.id, backend.weight);
    this.weights = weights;
    const ids = [...weights.keys()].sort();
    const builtFrom = ids.map((id) => `${id} ${weights.get(id)}`).join('\n');
    if (builtFrom === this.builtFrom) return;
    this.builtFrom = builtFrom;
    this.table = buildMaglevTable(
      ids,
      ids.map((id) => weights.get(id)!),
      this.tableSize,
    );
    this.owners = new Set(this.table).size;
    this.indexOf = new Map(ids.map((id, i) => [id, i]));
    this.admitSeed = Uint32Array.from(ids, (id) => hash32(id, ADMIT_SEED));
    this.visited = new Uint32Array(ids.length);
    this.epoch = 0;
  }

  private nextEpoch(): number {
    if (this.epoch === 0xffffffff) {
      this.visited.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }
}
