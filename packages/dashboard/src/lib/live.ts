/**
 * The one live-stream client: GET /api/events/stream on EventSource, `stats` once a second plus control plane
 * events. EventSource retries on its own after a dropped connection, but gives up (readyState CLOSED) when the
 * server answers with an error; then this client reconnects itself, with a growing delay capped at 10 s.
 */
import { CONTROL_EVENT_TYPES } from './server-api.ts';
import type { FulcrumEvent, Sample, StreamEvents } from './types.ts';

export type LiveStatus = 'connecting' | 'connected' | 'disconnected';

export interface LiveHandlers {
  status(status: LiveStatus): void;
  stats(sample: Sample): void;
  event(event: FulcrumEvent): void;
}

export class LiveStream {
  private source: EventSource | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly on: LiveHandlers,
    private readonly now: () => number = Date.now,
  ) {}

  open(): void {
    this.closed = false;
    this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.source?.close();
    this.source = undefined;
  }

  private connect(): void {
    this.on.status('connecting');
    const source = new EventSource(this.url);
    this.source = source;
    source.onopen = () => {
      this.attempts = 0;
      this.on.status('connected');
    };
    source.onerror = () => {
      this.on.status('disconnected');
      if (source.readyState === EventSource.CLOSED && !this.closed) {
        source.close();
        const delay = Math.min(10_000, 500 * 2 ** this.attempts++);
        this.retry = setTimeout(() => this.connect(), delay);
      }
    };
    // Each message's data is the JSON of what the server's StreamEvents says for its name.
    const on = <K extends keyof StreamEvents>(type: K, handle: (data: StreamEvents[K]) => void) =>
      source.addEventListener(type, (m) => handle(JSON.parse((m as MessageEvent<string>).data) as StreamEvents[K]));
    on('stats', (stats) => this.on.stats({ t: this.now(), stats }));
    for (const type of CONTROL_EVENT_TYPES) on(type, (e) => this.on.event(e));
  }
}
