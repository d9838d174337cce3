/** Foreign errors into the catalogue: what a failed connect becomes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectFailure } from '../../src/errors.ts';

const sysError = (code: string) => Object.assign(new Error(code), { code });

test('issue 13 #17b: resolver failures become 502 FUL_ERR_DNS_FAILED, a backend error retried on another backend', () => {
  for (const code of ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL']) {
    const error = connectFailure(sysError(code));
    assert.equal(error.code, 'FUL_ERR_DNS_FAILED', code);
    assert.equal(error.status, 502);
    assert.equal(error.source, 'backend');
    assert.equal(error.retry, 'yes');
    assert.equal((error.cause as Error).message, code, 'the foreign error is kept as the cause');
  }
});

test('any other failure to connect, or one without a socket error, is FUL_ERR_CONNECT_FAILED', () => {
  assert.equal(connectFailure(sysError('ECONNREFUSED')).code, 'FUL_ERR_CONNECT_FAILED');
  assert.equal(connectFailure(sysError('EHOSTUNREACH')).code, 'FUL_ERR_CONNECT_FAILED');
  assert.equal(connectFailure(undefined).code, 'FUL_ERR_CONNECT_FAILED');
});
