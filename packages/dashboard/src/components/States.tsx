import type { ReactNode } from 'react';
import type { LiveStatus } from '../lib/live.ts';

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Loading({ what }: { what: string }) {
  return <p className="loading" role="status">Loading {what}…</p>;
}

export function ErrorNote({ children }: { children: ReactNode }) {
  return <p className="error" role="alert">{children}</p>;
}

const TEXT: Record<LiveStatus, string> = { connecting: 'connecting…', connected: 'live', disconnected: 'disconnected, retrying' };

export function LiveBadge({ status }: { status: LiveStatus }) {
  return (
    <span className={`badge badge-${status}`} data-testid="live-status" aria-live="polite">
      <span className="dot" /> {TEXT[status]}
    </span>
  );
}

/** Shown above live views while the stream is down: what is on screen is no longer current. */
export function StaleBanner({ status }: { status: LiveStatus }) {
  if (status !== 'disconnected') return null;
  return <p className="banner" role="alert">The live stream is disconnected: figures below are stale until it reconnects.</p>;
}
