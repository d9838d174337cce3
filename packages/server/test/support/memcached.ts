/**
 * A real memcached on a free loopback port, as a child process, for tests (see redis.ts for what it can do).
 */
import { startService, type TestService } from './redis.ts';

export interface TestMemcached extends TestService {
  /** host:port, as the config and MemcachedStore name servers. */
  readonly server: string;
}

export async function startMemcached(): Promise<TestMemcached> {
  // memcached refuses to run as root unless told which user to be.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
  const service = await startService({
    name: 'memcached',
    command: 'memcached',
    args: (port) => ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64', ...asRoot],
    probe: 'version\r\n',
    expect: 'VERSION',
  });
  return Object.assign(service, { server: `127.0.0.1:${service.port}` });
}

export async function startMemcacheds(n: number): Promise<TestMemcached[]> {
  return Promise.all(Array.from({ length: n }, () => startMemcached()));
}
