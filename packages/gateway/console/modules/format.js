// Text formatting for display: clipping long strings, durations, relative ages and clock times.

/** `text`, cut to `max` characters with an ellipsis when longer. */
export const clip = (text, max) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A duration in milliseconds, in the most readable unit ('–' when unknown). */
export function ms(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value === 0) return '0 ms';
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 1_000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1_000).toFixed(value < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(value / 60_000)} min ${Math.round((value % 60_000) / 1_000)} s`;
}

/** How long ago a timestamp was ("12s ago", "3h ago", or the date past a day). */
export function ago(ts) {
  if (!ts) return '';
  const seconds = Math.max(0, Math.round((Date.now() - ts) / 1_000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3_600)}h ago`;
  return new Date(ts).toLocaleDateString();
}

/** A timestamp's local time of day, to the millisecond (24-hour clock). */
export const clock = (ts) => new Date(ts).toLocaleTimeString([], { hour12: false }) + `.${String(Math.floor(ts % 1_000)).padStart(3, '0')}`;
