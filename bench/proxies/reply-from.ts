/**
 * @fastify/reply-from on fastify: with several bases it balances over an undici BalancedPool (round robin,
 * weights lowered on errors). Usage: ./args.ts.
 */
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';
import { proxyArgs } from './args.ts';

const { port, backends } = proxyArgs();
const app = Fastify({ logger: false, disableRequestLogging: true, keepAliveTimeout: 75_000 });
await app.register(replyFrom, {
  base: backends.length === 1 ? backends[0]! : [...backends],
  undici: { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 },
});
app.all('/*', (req, reply) => reply.from(req.url));
await app.listen({ port, host: '127.0.0.1' });

process.on('SIGTERM', () => void app.close());
