/**
 * Who may change things through the admin API: with `admin.token` set, a request bearing it (compared in constant
 * time); without one, only when the admin listener is bound to loopback, so nothing outside this host can.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type AuthResult = 'allowed' | 'missing-token' | 'wrong-token' | 'no-token-configured';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h.startsWith('127.');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function authorizeMutation(req: IncomingMessage, token: string | undefined, adminHost: string): AuthResult {
  if (token === undefined) return isLoopback(adminHost) ? 'allowed' : 'no-token-configured';
  const header = req.headers.authorization;
  if (header === undefined || !header.startsWith('Bearer ')) return 'missing-token';
  // Digests have equal lengths, so timingSafeEqual compares without leaking the token's length or content.
  return timingSafeEqual(digest(header.slice(7).trim()), digest(token)) ? 'allowed' : 'wrong-token';
}
