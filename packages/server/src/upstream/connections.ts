/**
 * Keep-alive connection pools to backends (undici, chosen by measurement over node:http's Agent: see the
 * README's benchmark). One dispatcher per pool and backend, kept across reloads while its settings hold.
 */
import { Pool as UndiciPool } from 'undici';
import type { PoolConfig } from '../config/schema.ts';
import type { Backend } from './backend.ts';

interface Entry {
  readonly dispatcher: UndiciPool;
  readonly settings: string;
}

export class UpstreamConnections {
  private readonly entries = new Map<string, Entry>();

  /** The dispatcher for this backend of this pool, created or replaced when its settings changed. */
  dispatcherFor(poolName: string, backend: Backend, pool: PoolConfig): UndiciPool {
    const key = `${poolName} ${backend.id}`;
    const { connect, idle } = pool.timeouts;
    const connections = backend.maxConnections;
    const settings = `${connect}/${idle}/${connections}`;
    const existing = this.entries.get(key);
    if (existing && existing.settings === settings) return existing.dispatcher;
    if (existing) void existing.dispatcher.close().catch(() => {});
    const dispatcher = new UndiciPool(backend.id, {
      connections,
      pipelining: 1,
      connectTimeout: connect,
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: Math.max(idle, 1000),
      // Per request timeouts are passed with each dispatch; these are only the defaults.
      headersTimeout: pool.timeouts.response,
      bodyTimeout: idle,
    });
    this.entries.set(key, { dispatcher, settings });
    return dispatcher;
  }

  /** Closes dispatchers not in `keep` once their in-flight requests finish. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) {
      if (!keep.has(key)) {
        this.entries.delete(key);
        void entry.dispatcher.close().catch(() => {});
      }
    }
  }

  static key(poolName: string, backend: Backend): string {
    return `${poolName} ${backend.id}`;
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.dispatcher.close().catch(() => {})));
  }

  async destroy(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.dispatcher.destroy().catch(() => {})));
  }
}
