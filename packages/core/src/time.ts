/**
 * High-resolution wall-clock milliseconds (`performance.timeOrigin + performance.now()`), with
 * microsecond precision and comparable across processes of one machine. Timings that travel in
 * turn results and events use it.
 */
export function hrNow(): number {
  return performance.timeOrigin + performance.now();
}
