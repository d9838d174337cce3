import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refreshHeaders } from '../../../src/proxy/cache-phases.ts';

describe('background refresh heads', () => {
  test('issue 13 #3: a refresh keeps the forwarded fields but no body framing, and its conditionals replace the client\'s', () => {
    const forwarded = [
      'Host', 'example.com',
      'Accept-Language', 'fr',
      'Content-Length', '5',
      'If-None-Match', '"client"',
      'Range', 'bytes=0-1',
      'x-request-id', 'rid',
    ];
    assert.deepEqual(refreshHeaders(forwarded, ['if-none-match', '"stored"']), [
      'Host', 'example.com',
      'Accept-Language', 'fr',
      'x-request-id', 'rid',
      'if-none-match', '"stored"',
    ]);
  });
});
