import { useEffect, useState } from 'react';
import { LiveStream, type LiveStatus } from './live.ts';
import type { FulcrumEvent, Sample } from './types.ts';

/** Five minutes of one-second samples. */
export const MAX_SAMPLES = 300;
export const MAX_EVENTS = 500;

export interface LiveState {
  status: LiveStatus;
  samples: Sample[];
  /** Newest first. */
  events: FulcrumEvent[];
}

/** Opens the live stream for as long as the component is mounted. */
export function useLive(url: string): LiveState {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [samples, setSamples] = useState<Sample[]>([]);
  const [events, setEvents] = useState<FulcrumEvent[]>([]);
  useEffect(() => {
    const stream = new LiveStream(url, {
      status: setStatus,
      stats: (s) => setSamples((prev) => [...prev.slice(-(MAX_SAMPLES - 1)), s]),
      event: (e) => setEvents((prev) => [e, ...prev.slice(0, MAX_EVENTS - 1)]),
    });
    stream.open();
    return () => stream.close();
  }, [url]);
  return { status, samples, events };
}
