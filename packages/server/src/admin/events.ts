/**
 * GET /api/events/stream: Server-Sent Events (WHATWG HTML §9.2). One `event: stats` message per second with the
 * aggregated statistics, one `event: <type>` message per control plane event as it happens (backend-state,
 * config-reloaded, config-rejected, cache-purge, runtime-change), and a comment line every 15 s so that idle proxies and load
 * balancers between here and the dashboard keep the connection open. Read-only: no token.
 */
import type { ServerResponse } from 'node:http';
import type { StatsSnapshot } from '../observability/stats.ts';
import type { ControlPlane, FulcrumEvent } from '../workers/control-plane.ts';

export type { FulcrumEvent };

export const STATS_EVERY_MS = 1000;
export const KEEP_ALIVE_EVERY_MS = 15_000;

/** Each `event:` name the stream sends and what its `data:` line carries, as JSON. */
export type StreamEvents = { readonly stats: StatsSnapshot } & { readonly [E in FulcrumEvent as E['type']]: E };

/** Every control plane event type, once: `satisfies` fails the type check when the union gains one not listed. */
const CONTROL_EVENTS = {
  'backend-state': true,
  'config-reloaded': true,
  'config-rejected': true,
  'cache-purge': true,
  'runtime-change': true,
} as const satisfies Record<FulcrumEvent['type'], true>;

/** The control plane's event names on the stream: a client of EventSource listens to each by name. */
export const CONTROL_EVENT_TYPES = Object.keys(CONTROL_EVENTS) as ReadonlyArray<FulcrumEvent['type']>;

export function streamEvents(res: ServerResponse, control: ControlPlane): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  // JSON has no raw newlines, so each message's data fits on one `data:` line.
  const send = <K extends keyof StreamEvents>(type: K, data: StreamEvents[K]) => void res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  res.write(': connected\n\n');
  const unsubscribe = control.subscribe((e) => send(e.type, e));
  const stats = setInterval(() => send('stats', control.stats()), STATS_EVERY_MS);
  const keepAlive = setInterval(() => void res.write(': keep-alive\n\n'), KEEP_ALIVE_EVERY_MS);
  // 'close' comes when the client goes away and when the admin server closes its connections.
  res.once('close', () => {
    unsubscribe();
    clearInterval(stats);
    clearInterval(keepAlive);
  });
}
