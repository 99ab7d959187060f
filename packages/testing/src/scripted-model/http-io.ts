import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Sends a JSON response.
 *
 * @param res - the response
 * @param status - HTTP status
 * @param body - value to `JSON.stringify`
 * @param headers - extra headers
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/**
 * Sends a complete server-sent-events body in one go (chunked, so the client still reads it as a
 * stream of events).
 *
 * @param res - the response
 * @param body - the encoded events
 * @param headers - extra headers
 */
export function sendEventStream(res: ServerResponse, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  res.end(body);
}

/**
 * Flattens Node's request headers: names are already lower-case; repeated values are joined with
 * `', '`.
 *
 * @param headers - `req.headers`
 */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/**
 * Sends server-sent events one at a time, `delayMs` apart, stopping early when `gone` aborts
 * (the client went away or the server is closing).
 *
 * @param res - the response
 * @param chunks - the chunks, each sent as one `data:` line
 * @param delayMs - pause between events
 * @param gone - aborts the stream
 * @param headers - extra headers
 */
export async function sendPacedEventStream(
  res: ServerResponse,
  chunks: readonly unknown[],
  delayMs: number,
  gone: AbortSignal,
  headers: Record<string, string> = {},
): Promise<void> {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const chunk of chunks) {
    if (gone.aborted || res.destroyed) return;
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  if (!gone.aborted && !res.destroyed) res.end('data: [DONE]\n\n');
}
