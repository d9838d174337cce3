/** A backend's weight: a number input (1..1000) and Set, which POSTs the weight; bad input is refused inline. */
import { memo, useRef, useState, type FormEvent } from 'react';
import { WEIGHT_MAX, WEIGHT_MIN } from '../../lib/types.ts';

export interface WeightControlProps {
  backend: string;
  weight: number;
  busy: boolean;
  onSet(weight: number): void;
}

/** The weight typed, when it is a whole number in 1..1000; otherwise why not. */
export function parseWeight(text: string): { weight: number } | { problem: string } {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < WEIGHT_MIN || n > WEIGHT_MAX) {
    return { problem: `The weight must be a whole number from ${WEIGHT_MIN} to ${WEIGHT_MAX}.` };
  }
  return { weight: n };
}

/** Memo: its row re-renders with each tick's figures; the weight and the draft do not change with them. */
export const WeightControl = memo(function WeightControl({ backend, weight, busy, onSet }: WeightControlProps) {
  const [draft, setDraft] = useState(String(weight));
  const [problem, setProblem] = useState<string | undefined>();
  const input = useRef<HTMLInputElement>(null);
  // The pools are fetched again after every change to them: follow the server's weight when it changes, not on
  // every fetch. Done while rendering (React's "adjusting state when a prop changes"): an effect would also run
  // after mounting, and could overwrite what was typed in between.
  const [shownWeight, setShownWeight] = useState(weight);
  if (weight !== shownWeight) {
    setShownWeight(weight);
    setDraft(String(weight));
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    // What the field shows now: a fetch may have re-rendered since the last keystroke.
    const parsed = parseWeight(input.current?.value ?? draft);
    if ('problem' in parsed) return setProblem(parsed.problem);
    setProblem(undefined);
    onSet(parsed.weight);
  }

  return (
    <form className="weight" onSubmit={submit} noValidate>
      <input
        ref={input}
        type="number"
        min={WEIGHT_MIN}
        max={WEIGHT_MAX}
        step={1}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        aria-label={`Weight of ${backend}`}
        aria-invalid={problem !== undefined}
      />
      <button type="submit" disabled={busy} aria-label={`Set weight of ${backend}`}>
        Set
      </button>
      {problem && (
        <span className="error inline" role="alert">
          {problem}
        </span>
      )}
    </form>
  );
});
