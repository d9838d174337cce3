/**
 * One memcached server, through one memjs client: memjs keeps the socket, reconnects on the next request after a
 * failure, and parses the binary protocol. Requests are built here and sent with `perform`, so every operation
 * sees memcached's status code (too large, exists, not found) instead of memjs's logged messages, and so that
 * CAS (which memjs's own methods do not offer) is one field of the request header.
 *
 * Each request has a deadline of our own. memjs's only timer is the socket's idle timeout, which never fires once
 * the socket has closed: a request caught by a server that closed the connection cleanly would wait forever.
 * At the deadline the request fails, and the server's state is reset (`Server.error`): the socket is destroyed
 * and every request waiting on it fails now rather than at its own deadline; the next request reconnects.
 *
 * memjs is pinned to one version (package.json, no ^): this uses its undocumented internals (`incrSeq`, `seq`,
 * `perform`, `Utils.makeRequestBuffer`, `servers[0].error`), which a minor release may change. Upgrade on purpose,
 * with the memcached store's contract suite.
 */
import { Client, Utils, type Response } from 'memjs';

export const DEFAULT_MEMCACHED_TIMEOUT_MS = 250;

const OP_GET = 0x00;
const OP_SET = 0x01;
const OP_ADD = 0x02;
const OP_DELETE = 0x04;

/** Binary protocol statuses (memcached protocol_binary.h). */
export const STATUS_OK = 0x00;
export const STATUS_NOT_FOUND = 0x01;
export const STATUS_EXISTS = 0x02;
export const STATUS_TOO_LARGE = 0x03;
export const STATUS_NOT_STORED = 0x05;

/** A request that got no answer in time. */
export class MemcachedTimeoutError extends Error {
  constructor(server: string, ms: number) {
    super(`memcached ${server}: no answer within ${ms} ms`);
    this.name = 'MemcachedTimeoutError';
  }
}

/** A status other than the ones the operation expects. */
export class MemcachedStatusError extends Error {
  readonly status: number;
  constructor(server: string, status: number) {
    super(`memcached ${server}: status 0x${status.toString(16)}`);
    this.name = 'MemcachedStatusError';
    this.status = status;
  }
}

const SILENT = { log() {} };
const NO_EXTRAS = Buffer.alloc(0);

export interface MemcachedValue {
  readonly value: Buffer;
  /** The item's version, for a compare-and-swap `set`. */
  readonly cas: Buffer;
}

export class MemcachedConnection {
  /** host:port */
  readonly server: string;
  private readonly client: Client;
  private readonly timeoutMs: number;

  constructor(server: string, timeoutMs = DEFAULT_MEMCACHED_TIMEOUT_MS) {
    this.server = server;
    this.timeoutMs = timeoutMs;
    // retries: 1 is one attempt (memjs counts attempts); failover needs several servers in one client, and our
    // hashing picks the server. memjs's timeouts are in seconds.
    this.client = Client.create(server, { retries: 1, failover: false, timeout: timeoutMs / 1000, logger: SILENT, keepAlive: true });
  }

  /** The value and its CAS, or undefined when absent. */
  async get(key: string): Promise<MemcachedValue | undefined> {
    const res = await this.request(key, OP_GET, NO_EXTRAS, NO_EXTRAS);
    const status = res.header.status;
    if (status === STATUS_NOT_FOUND) return undefined;
    if (status !== STATUS_OK) throw new MemcachedStatusError(this.server, status);
    return { value: res.val, cas: res.header.cas };
  }

  /** Stores unconditionally. `ttlSeconds` as memcached reads it (memcached-keys.ts). */
  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    const status = await this.store(OP_SET, key, value, ttlSeconds, undefined);
    if (status !== STATUS_OK) throw new MemcachedStatusError(this.server, status);
  }

  /**
   * Compare-and-swap: stores only if the item is still at version `cas` (from `get`), or, with no cas, only if
   * absent. False when another writer came first.
   */
  async replaceIf(key: string, value: Buffer, ttlSeconds: number, cas: Buffer | undefined): Promise<boolean> {
    const status = await this.store(cas === undefined ? OP_ADD : OP_SET, key, value, ttlSeconds, cas);
    if (status === STATUS_OK) return true;
    // EXISTS: changed since read (or, for ADD, created meanwhile); NOT_FOUND / NOT_STORED: deleted since read.
    if (status === STATUS_EXISTS || status === STATUS_NOT_FOUND || status === STATUS_NOT_STORED) return false;
    throw new MemcachedStatusError(this.server, status);
  }

  async delete(key: string): Promise<void> {
    const res = await this.request(key, OP_DELETE, NO_EXTRAS, NO_EXTRAS);
    const status = res.header.status;
    if (status !== STATUS_OK && status !== STATUS_NOT_FOUND) throw new MemcachedStatusError(this.server, status);
  }

  close(): void {
    this.client.close();
  }

  private async store(op: number, key: string, value: Buffer, ttlSeconds: number, cas: Buffer | undefined): Promise<number> {
    // Extras of SET and ADD: flags (4 bytes, unused) and expiry (4 bytes).
    const extras = Buffer.alloc(8);
    extras.writeUInt32BE(ttlSeconds, 4);
    const res = await this.request(key, op, extras, value, cas);
    return res.header.status;
  }

  /** Sends one request and resolves with memcached's response; rejects on a socket error or at the deadline. */
  private request(key: string, op: number, extras: Buffer, value: Buffer, cas?: Buffer): Promise<Response> {
    const client = this.client;
    client.incrSeq();
    const seq = client.seq;
    const request = Utils.makeRequestBuffer(op, key, extras, value, seq);
    // The header's CAS field: bytes 16 to 23.
    if (cas !== undefined) cas.copy(request, 16, 0, 8);
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new MemcachedTimeoutError(this.server, this.timeoutMs));
        client.servers[0]?.error(new MemcachedTimeoutError(this.server, this.timeoutMs));
      }, this.timeoutMs);
      client.perform(key, request, seq, (err: Error | null, res?: Response) => {
        clearTimeout(timer);
        if (err !== null || res === undefined) reject(err ?? new Error(`memcached ${this.server}: no response`));
        else resolve(res);
      });
    });
  }
}
