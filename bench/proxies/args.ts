/** Command line of the Node reference proxies: `--port N --backends http://127.0.0.1:A,http://127.0.0.1:B`. */
import { parseArgs } from 'node:util';

export interface ProxyArgs {
  readonly port: number;
  readonly backends: readonly string[];
}

export function proxyArgs(): ProxyArgs {
  const { values } = parseArgs({ options: { port: { type: 'string' }, backends: { type: 'string' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`--port: not a port: ${values.port}`);
  const backends = (values.backends ?? '').split(',').filter(Boolean);
  if (backends.length === 0) throw new Error('--backends: at least one backend URL is needed');
  return { port, backends };
}

/** Connection-specific headers, never forwarded (RFC 9110 §7.6.1), plus `host`, which the client sets. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
