import { memo } from 'react';

/** One figure and its label; re-rendered only when they change (memo: its page re-renders on every tick). */
export const Stat = memo(function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
});
