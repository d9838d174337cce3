/** "Reload config": POST /api/reload. A rejected file (422) lists every problem by path; the running config stays. */
import { useState } from 'react';
import { ApiError, type Api, type Problem } from '../../lib/api.ts';

type Outcome = { kind: 'ok' } | { kind: 'rejected'; message: string; problems: readonly Problem[] } | { kind: 'failed'; message: string };

export function ReloadConfig({ api }: { api: Api }) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();

  async function reload() {
    setBusy(true);
    setOutcome(undefined);
    try {
      await api.reloadConfig();
      setOutcome({ kind: 'ok' });
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) setOutcome({ kind: 'rejected', message: e.message, problems: e.details });
      else setOutcome({ kind: 'failed', message: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="reload">
      <button type="button" onClick={() => void reload()} disabled={busy}>
        Reload config
      </button>
      {outcome?.kind === 'ok' && (
        <p className="ok" role="status">
          Config reloaded from the file.
        </p>
      )}
      {outcome?.kind === 'rejected' && (
        <div className="error reload-panel" role="alert">
          {/* The server's message restates the first problem: the list says them all. */}
          <strong>Config rejected</strong>:{' '}
          {outcome.problems.length === 0
            ? outcome.message
            : `${outcome.problems.length} problem${outcome.problems.length === 1 ? '' : 's'} in the file.`}{' '}
          The running config stays.
          <Dismiss onClick={() => setOutcome(undefined)} />
          <ul>
            {outcome.problems.map((p, i) => (
              <li key={i}>
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {outcome?.kind === 'failed' && (
        <div className="error reload-panel" role="alert">
          Reload failed: {outcome.message}
          <Dismiss onClick={() => setOutcome(undefined)} />
        </div>
      )}
    </div>
  );
}

function Dismiss({ onClick }: { onClick(): void }) {
  return (
    <button type="button" className="dismiss" onClick={onClick} aria-label="Dismiss">
      ×
    </button>
  );
}
