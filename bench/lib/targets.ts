/**
 * A thing being measured: how to start it, how to check that it answers, its URL while it runs, and what
 * happened to it. The machine is shared: a target that stops answering between runs is started again once
 * (and the report says so) rather than spoiling every later round.
 */

export interface Target {
  /** As shown in the table. */
  readonly name: string;
  /** Undefined when the target is skipped or gave up. */
  url: string | undefined;
  /** Why it is skipped, or what to know about it. */
  readonly note: string;
  /** What happened during the run (restarts, failed runs), for the Notes column. */
  readonly events: string[];
  /** Starts it (again) and resolves to its URL. */
  readonly start?: () => Promise<string>;
  /** Rejects unless the target answers as expected. */
  readonly check?: (url: string) => Promise<void>;
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]!;

/**
 * Starts a target and checks it; any failure becomes a skipped row that says why (the first line of the
 * error, and the last line of the process's output when there is one).
 */
export async function prepare(
  name: string,
  start: () => Promise<string>,
  check: (url: string) => Promise<void>,
  note = '',
): Promise<Target> {
  try {
    const url = await start();
    await check(url);
    return { name, url, note, events: [], start, check };
  } catch (err) {
    const message = (err as Error).message;
    process.stderr.write(`${name}: skipped: ${message}\n`);
    const lines = message.split('\n').map((l) => l.trim());
    const last = lines.length > 1 ? ` (${lines.at(-1)!.slice(0, 160)})` : '';
    return { name, url: undefined, note: `skipped: ${lines[0]}${last}`, events: [] };
  }
}

export function skipped(name: string, note: string): Target {
  return { name, url: undefined, note, events: [] };
}

/**
 * Before a run: true when the target answers. If it does not, it is started once more; when that fails too
 * it is given up (url undefined) for the rest of the benchmark. Either way the event is recorded.
 */
export async function ensureAnswering(t: Target, when: string): Promise<boolean> {
  if (t.url === undefined || t.check === undefined) return t.url !== undefined;
  try {
    await t.check(t.url);
    return true;
  } catch (err) {
    const reason = firstLine(err);
    process.stderr.write(`${t.name}: not answering ${when} (${reason}); starting it again\n`);
    try {
      if (t.start === undefined) throw new Error('cannot be restarted', { cause: err });
      t.url = await t.start();
      await t.check(t.url);
      t.events.push(`restarted ${when}: ${reason}`);
      return true;
    } catch (err2) {
      t.url = undefined;
      t.events.push(`gave up ${when}: ${reason}; restart: ${firstLine(err2)}`);
      return false;
    }
  }
}

/** The Notes cell: the target's note and what happened to it. */
export function targetNotes(t: Target, extra: readonly string[] = []): string {
  return [t.note, ...t.events, ...extra].filter(Boolean).join('; ');
}
