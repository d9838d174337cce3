/** Stored responses for the store tests. */
import type { StoredResponse } from '../../../../src/cache/store.ts';

/** A response whose every field is set; `body` defaults to every byte value once. */
export function response(overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    url: 'example.com/a?b=1',
    status: 200,
    headers: ['content-type', 'application/octet-stream', 'x-note', 'café ✓', 'cache-control', 'max-age=60'],
    body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    storedAt: 1_700_000_000_000,
    tags: ['product-1', 'catalogue'],
    policy: { v: 1, t: 1_700_000_000_000, sh: true, ch: 0, st: 200, resh: { 'cache-control': 'max-age=60' }, reqh: null, a: true },
    ...overrides,
  };
}
