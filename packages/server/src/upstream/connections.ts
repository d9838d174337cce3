/**
 * Keep-alive connection pools to backends: one Http1Client per pool and backend, kept across reloads while its
 * settings hold (the pipeline's own HTTP/1.1 client, chosen by measurement over undici and node:http's Agent:
 * see the README's benchmark section).
 */
import type { PoolConfig } from '../config/schema.ts';
import type { Backend } from './backend.ts';
import { Http1Client } from './http1/client.ts';

interface Entry {
  readonly client: Http1Client;
  readonly settings: string;
}

export class UpstreamConnections {
  private readonly entries = new Map<string, Entry>();

  static key(poolName: string, backend: Backend): string {
    return `${poolName} ${backend.id}`;
  }

  /** The client for this backend of this pool; replaced (the old one closing gracefully) when its settings changed. */
  clientFor(poolName: string, backend: Backend, pool: PoolConfig): Http1Client {
    const key = UpstreamConnections.key(poolName, backend);
    const { connect, idle } = pool.timeouts;
    const settings = `${connect}/${idle}/${backend.maxConnections}`;
    const existing = this.entries.get(key);
    if (existing && existing.settings === settings) return existing.client;
    existing?.client.close();
    const client = new Http1Client({
      host: backend.host,
      port: backend.port,
      maxConnections: backend.maxConnections,
      connectTimeout: connect,
      idleTimeout: idle,
    });
    this.entries.set(key, { client, settings });
    return client;
  }

  /** Closes, once their responses are complete, the clients of backends not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) {
      if (!keep.has(key)) {
        this.entries.delete(key);
        entry.client.close();
      }
    }
  }

  destroy(): void {
    for (const entry of this.entries.values()) entry.client.destroy();
    this.entries.clear();
  }
}
