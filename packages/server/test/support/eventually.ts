/**
 * The one way a test waits for something it cannot be told about: poll the observable condition until it holds.
 * A test never sleeps a fixed time to let something happen (a busy machine makes any fixed time too short, an idle
 * one makes it waste time); where the code under test takes injected time, the test moves a FakeTime instead.
 */

/** Polling starts fast (the condition is often true at once) and backs off to this. */
const MAX_POLL_MS = 20;

/**
 * Resolves once `check` returns true; rejects, naming `what`, when it has not within `timeoutMs`. An exception
 * from `check` is not retried: it ends the wait.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const started = performance.now();
  for (let pause = 1; ; pause = Math.min(MAX_POLL_MS, pause * 2)) {
    if (await check()) return;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
