import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Sends one inline `PING` over a raw TCP connection and returns the first reply line
 * (`'+PONG'` when ready; `'-LOADING …'` while Redis loads its data; `'-NOAUTH …'` with a password).
 *
 * @param host - Redis host
 * @param port - Redis port
 * @param timeoutMs - give up after this long; default 1000
 * @throws when the connection fails, closes without a reply, or times out
 */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = '';
    const done = (err: Error | undefined, line?: string): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve(line ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', (err) => done(err));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data: Buffer) => {
      buffer += data.toString('utf8');
      const end = buffer.indexOf('\r\n');
      if (end >= 0) done(undefined, buffer.slice(0, end));
    });
    socket.once('close', () => done(new Error(`connection to ${host}:${port} closed without a reply`)));
  });
}

/** Options of {@link waitForRedisPing}. */
export interface WaitForPingOptions {
  /** Give up after this long; default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts; default 50 ms. */
  intervalMs?: number;
  /** Called before each attempt; return a reason to stop waiting (e.g. the process exited). */
  abortReason?: () => string | undefined;
}

/**
 * Pings until Redis answers `+PONG`.
 *
 * @param host - Redis host
 * @param port - Redis port
 * @param options - timeout, interval and early abort
 * @throws with the last failure when Redis is not ready in time, or when `abortReason` gives a reason
 */
export async function waitForRedisPing(host: string, port: number, options: WaitForPingOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  for (;;) {
    const reason = options.abortReason?.();
    if (reason !== undefined) throw new Error(reason);
    try {
      const reply = await redisPing(host, port, Math.max(100, Math.min(1000, deadline - Date.now())));
      if (reply === '+PONG') return;
      last = `replied ${JSON.stringify(reply)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw new Error(`Redis at ${host}:${port} not ready within ${timeoutMs} ms (${last})`);
    await sleep(options.intervalMs ?? 50);
  }
}
