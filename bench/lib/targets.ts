/** A thing being measured: a URL, or the reason it is not measured. */

export interface Target {
  /** As shown in the table. */
  readonly name: string;
  /** Undefined when the target is skipped. */
  readonly url: string | undefined;
  /** Why it is skipped, or what to know about it. */
  readonly note: string;
}

/** Starts a target with `start` (which resolves to its URL) and turns any failure into a skipped row. */
export async function prepare(name: string, start: () => Promise<string>, note = ''): Promise<Target> {
  try {
    return { name, url: await start(), note };
  } catch (err) {
    const message = (err as Error).message;
    process.stderr.write(`${name}: skipped: ${message}\n`);
    // The first line says what failed; the last is the process's last words (its output tail), if any.
    const lines = message.split('\n').map((l) => l.trim());
    const last = lines.length > 1 ? ` (${lines.at(-1)!.slice(0, 160)})` : '';
    return { name, url: undefined, note: `skipped: ${lines[0]}${last}` };
  }
}

export function skipped(name: string, note: string): Target {
  return { name, url: undefined, note };
}
