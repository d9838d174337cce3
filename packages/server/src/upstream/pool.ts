/** A pool at run time: its backends, the balancer that picks among them, its retry budget and limits. */
import type { Balancer, BalancerContext } from '../balancing/balancer.ts';
import type { PoolConfig } from '../config/schema.ts';
import { takesTraffic, type Backend } from './backend.ts';
import type { Http1Client } from './http1/client.ts';
import type { RetryBudget } from './retry-budget.ts';

export interface PoolMember {
  readonly backend: Backend;
  readonly client: Http1Client;
}

export class Pool {
  readonly name: string;
  readonly config: PoolConfig;
  readonly balancer: Balancer;
  readonly retryBudget: RetryBudget;
  /** Requests of this pool sent beyond a backend's max_connections, waiting for a connection. */
  pending = 0;
  private readonly members = new Map<Backend, Http1Client>();
  private readonly list: Backend[];

  constructor(name: string, config: PoolConfig, members: readonly PoolMember[], balancer: Balancer, budget: RetryBudget) {
    this.name = name;
    this.config = config;
    this.balancer = balancer;
    this.retryBudget = budget;
    for (const m of members) this.members.set(m.backend, m.client);
    this.list = members.map((m) => m.backend);
    this.refresh();
  }

  get backends(): readonly Backend[] {
    return this.list;
  }

  findBackend(id: string): Backend | undefined {
    return this.list.find((b) => b.id === id);
  }

  clientOf(backend: Backend): Http1Client {
    return this.members.get(backend)!;
  }

  /** Tells the balancer which backends take traffic; call after any state or weight change. */
  refresh(): void {
    this.balancer.update(this.list.filter((b) => takesTraffic(b.state)));
  }

  /**
   * Picks a backend for a new attempt, honouring the circuit breaker: a backend at max_connections is passed
   * over for one with a free connection; when all are full the request queues on the first pick while the
   * pool's pending queue has room (the caller counts it in `pending`), else the circuit is open.
   */
  select(ctx: BalancerContext): Backend | 'none' | 'circuit-open' {
    const first = this.balancer.pick(ctx);
    if (first === undefined) return 'none';
    if (first.inFlight < first.maxConnections) return first;
    const exclude = new Set(ctx.exclude);
    const further = { key: ctx.key, exclude };
    for (let b: Backend | undefined = first; b !== undefined; b = this.balancer.pick(further)) {
      if (b.inFlight < b.maxConnections) return b;
      exclude.add(b);
    }
    return this.pending < this.config.circuit_breaker.max_pending ? first : 'circuit-open';
  }
}
