import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A RESP-aware TCP proxy in front of Redis that counts the commands passing through it and can
 * inject a fault right after the k-th one, for crash-point tests ("what if the process died right
 * after command k?").
 *
 * @module
 */

/**
 * What happens once the k-th counted command has been forwarded:
 *
 * - `'cut'`: Redis executes command k, then (after ~30 ms) the proxy destroys both sockets of that
 *   connection without forwarding any further reply bytes. The reply of command k (and of any
 *   command pipelined before it whose reply was still in flight) is lost. ioredis, with its default
 *   `autoResendUnfulfilledCommands: true`, reconnects through the proxy and re-sends the unanswered
 *   commands, so a non-idempotent command k (e.g. `INCR`) runs twice. That is the "lost reply,
 *   client retried" case crash tests need to reproduce.
 * - `'freeze'`: command k and its reply pass, then every connection is black-holed: no command
 *   reaches Redis any more, and new connections are accepted but never forwarded. That is the
 *   "process died right after command k" case.
 */
export type RedisFaultMode = 'cut' | 'freeze';

/** A running fault-injection proxy; see {@link startRedisFaultProxy}. */
export interface RedisFaultProxy {
  /** `redis://127.0.0.1:<port>`, keeping the credentials, database path and query of the target URL. */
  readonly url: string;
  /**
   * Commands (RESP request frames, client→server, all connections) forwarded to Redis since the
   * last {@link RedisFaultProxy.resetCount}. Frames dropped by a fault are not counted.
   */
  readonly commandCount: number;
  /** Names (upper-case first word) of the counted commands, in order, for diagnostics. */
  readonly commands: readonly string[];
  /** Sets {@link RedisFaultProxy.commandCount} to 0 and empties {@link RedisFaultProxy.commands}. */
  resetCount(): void;
  /**
   * Arms a fault that fires once the k-th counted command (1-based, counted from the last reset)
   * has been forwarded to Redis; see {@link RedisFaultMode}. Replaces any pending or active fault.
   * The fault fires only when the count reaches k exactly, so arm it (or reset) before command k.
   *
   * @param k - the command after which to fail, ≥ 1
   * @param mode - `'cut'` or `'freeze'`
   * @returns resolves `true` when the fault fired (for `'cut'`: once the sockets are destroyed),
   *   `false` when it was cleared, replaced or the proxy closed first
   * @throws RangeError when k is not a positive integer
   */
  injectAfter(k: number, mode: RedisFaultMode): Promise<boolean>;
  /** Whether the fault armed by the latest {@link RedisFaultProxy.injectAfter} has fired. */
  readonly fired: boolean;
  /**
   * Clears any pending or active fault. After a `'freeze'`, the black-holed connections (whose
   * request streams have lost bytes) are destroyed and later connections are forwarded again; an
   * ioredis client still using the proxy then reconnects and re-sends the commands the freeze
   * swallowed, so disconnect the "dead" clients first when that matters.
   */
  clearFault(): void;
  /** Stops listening and destroys every connection. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a {@link RedisFaultProxy} on a free loopback port in front of `targetUrl`.
 *
 * @example
 * ```ts
 * const proxy = await startRedisFaultProxy(redisUrl());
 * const redis = new Redis(proxy.url);
 * await redis.ping();
 * proxy.resetCount();
 * const fired = proxy.injectAfter(2, 'freeze'); // the 3rd command will never reach Redis
 * // … run the code under test against proxy.url …
 * await fired;
 * await proxy.close();
 * ```
 * @param targetUrl - `redis://[user:pass@]host[:port][/db]` (TLS `rediss://` is not supported)
 * @throws when the URL is not a `redis://` URL
 */
export async function startRedisFaultProxy(targetUrl: string): Promise<RedisFaultProxy> {
  const target = parseTarget(targetUrl);
  const proxy = new FaultProxy(target);
  await proxy.listen();
  return proxy;
}

/** How long a `'cut'` waits after forwarding command k, so that Redis has executed it. */
const CUT_DELAY_MS = 30;
/** Redis rejects inline commands longer than this; so does the splitter (then it passes bytes through). */
const MAX_INLINE_BYTES = 64 * 1024;

const STAR = 0x2a; // '*'
const DOLLAR = 0x24; // '$'
const CR = 0x0d;
const LF = 0x0a;

/** Where the proxy connects to, and the target URL it rewrites into its own. */
interface Target {
  readonly host: string;
  readonly port: number;
  readonly url: URL;
}

/** Parses and checks the target URL. */
function parseTarget(targetUrl: string): Target {
  const url = new URL(targetUrl);
  if (url.protocol !== 'redis:') {
    throw new Error(`startRedisFaultProxy: only redis:// URLs are supported, got ${url.protocol}//`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return { host, port: url.port === '' ? 6379 : Number(url.port), url };
}

/** The target URL with host and port replaced by the proxy's. */
function proxyUrl(target: URL, port: number): string {
  const url = new URL(target.href);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.href.replace(/\/$/, '');
}

// ---------------------------------------------------------------------------------------------
// Request framing
// ---------------------------------------------------------------------------------------------

/** One client→server request frame. */
interface RequestFrame {
  readonly bytes: Buffer;
  /**
   * Upper-case command name; `undefined` for bytes that are not a command (an empty inline line,
   * `*0`, or bytes passed through after a protocol error), which are forwarded but not counted.
   */
  readonly name: string | undefined;
}

/** A frame read from a buffer, with the offset just after it. */
interface ReadFrame {
  readonly frame: RequestFrame;
  readonly end: number;
}

/** `undefined`: the frame is not complete yet; `'malformed'`: not RESP Redis would accept. */
type ReadResult = ReadFrame | undefined | 'malformed';

/**
 * Splits a client→server byte stream into request frames across TCP chunk boundaries: RESP arrays
 * of bulk strings (`*N\r\n$len\r\n…\r\n`) and inline commands (`PING\r\n`). After a protocol error
 * it stops parsing and passes the remaining bytes through uncounted (Redis answers with an error
 * and closes the connection).
 */
class RequestSplitter {
  #pending: Buffer = Buffer.alloc(0);
  #passThrough = false;

  /** Adds a chunk and returns the frames it completes, in order. */
  push(chunk: Buffer): RequestFrame[] {
    if (this.#passThrough) return [{ bytes: chunk, name: undefined }];
    const buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: RequestFrame[] = [];
    let offset = 0;
    for (;;) {
      const read = readRequestFrame(buffer, offset);
      if (read === undefined) break;
      if (read === 'malformed') {
        this.#passThrough = true;
        frames.push({ bytes: buffer.subarray(offset), name: undefined });
        offset = buffer.length;
        break;
      }
      frames.push(read.frame);
      offset = read.end;
    }
    this.#pending = Buffer.from(buffer.subarray(offset));
    return frames;
  }
}

/** Reads the request frame starting at `start`. */
function readRequestFrame(buffer: Buffer, start: number): ReadResult {
  if (start >= buffer.length) return undefined;
  return buffer[start] === STAR ? readArrayFrame(buffer, start) : readInlineFrame(buffer, start);
}

/** Reads `*N\r\n` followed by N bulk strings; the first one names the command. */
function readArrayFrame(buffer: Buffer, start: number): ReadResult {
  const header = readLength(buffer, start);
  if (header === undefined || header === 'malformed') return header;
  let offset = header.next;
  let name: string | undefined;
  for (let i = 0; i < header.length; i++) {
    const bulk = readBulkString(buffer, offset);
    if (bulk === undefined || bulk === 'malformed') return bulk;
    if (i === 0) name = buffer.toString('utf8', bulk.dataStart, bulk.dataEnd).toUpperCase();
    offset = bulk.next;
  }
  return { frame: { bytes: buffer.subarray(start, offset), name }, end: offset };
}

/** Reads `$len\r\n<len bytes>\r\n`. */
function readBulkString(
  buffer: Buffer,
  start: number,
): { dataStart: number; dataEnd: number; next: number } | undefined | 'malformed' {
  if (start >= buffer.length) return undefined;
  if (buffer[start] !== DOLLAR) return 'malformed';
  const header = readLength(buffer, start);
  if (header === undefined || header === 'malformed') return header;
  if (header.length < 0) return 'malformed';
  const dataEnd = header.next + header.length;
  if (buffer.length < dataEnd + 2) return undefined;
  if (buffer[dataEnd] !== CR || buffer[dataEnd + 1] !== LF) return 'malformed';
  return { dataStart: header.next, dataEnd, next: dataEnd + 2 };
}

/** Reads a `<type-byte><integer>\r\n` line (`*3\r\n`, `$5\r\n`). */
function readLength(buffer: Buffer, start: number): { length: number; next: number } | undefined | 'malformed' {
  const lineEnd = buffer.indexOf('\r\n', start + 1);
  if (lineEnd < 0) return buffer.length - start > 32 ? 'malformed' : undefined;
  const digits = buffer.toString('latin1', start + 1, lineEnd);
  if (!/^-?\d+$/.test(digits)) return 'malformed';
  return { length: Number(digits), next: lineEnd + 2 };
}

/** Reads an inline command: one line ended by `\n` (or `\r\n`), words separated by spaces. */
function readInlineFrame(buffer: Buffer, start: number): ReadResult {
  const lineEnd = buffer.indexOf(LF, start);
  if (lineEnd < 0) return buffer.length - start > MAX_INLINE_BYTES ? 'malformed' : undefined;
  const firstWord = buffer.toString('utf8', start, lineEnd).trim().split(/\s+/)[0] ?? '';
  const name = firstWord === '' ? undefined : firstWord.toUpperCase();
  return { frame: { bytes: buffer.subarray(start, lineEnd + 1), name }, end: lineEnd + 1 };
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

/**
 * A proxied connection's state:
 * - `open`: forwarded both ways;
 * - `cut`: being cut, nothing forwarded, both sockets destroyed shortly;
 * - `replies-only`: carried the command after which a freeze fired; only Redis→client bytes
 *   (replies of commands already sent) still pass;
 * - `frozen`: black-holed both ways.
 */
type ConnectionState = 'open' | 'cut' | 'replies-only' | 'frozen';

/** What a connection asks of the proxy it belongs to. */
interface ConnectionOwner {
  /** Counts a forwarded command; returns the fault to fire right after it, if any. */
  countCommand(name: string): RedisFaultMode | undefined;
  /** Called when a `'cut'` has destroyed the sockets. */
  cutDone(): void;
  /** Forgets a closed connection. */
  closed(connection: ProxiedConnection): void;
}

/** One client socket and, unless accepted while frozen, its socket to Redis. */
class ProxiedConnection {
  readonly #owner: ConnectionOwner;
  readonly #client: Socket;
  readonly #upstream: Socket | undefined;
  readonly #splitter = new RequestSplitter();
  #state: ConnectionState;

  /**
   * @param client - the accepted socket
   * @param target - where Redis is; `undefined` to black-hole the connection (accepted while frozen)
   * @param owner - the proxy
   */
  constructor(client: Socket, target: Target | undefined, owner: ConnectionOwner) {
    this.#owner = owner;
    this.#client = client;
    this.#state = target === undefined ? 'frozen' : 'open';
    this.#upstream = target === undefined ? undefined : connect({ host: target.host, port: target.port });
    this.#wireClient();
    this.#wireUpstream();
  }

  /** Black-holes this connection (a freeze fired elsewhere). */
  freeze(): void {
    if (this.#state === 'open') this.#state = 'frozen';
  }

  /** Whether a freeze has black-holed this connection. */
  get frozen(): boolean {
    return this.#state === 'frozen' || this.#state === 'replies-only';
  }

  /** Destroys both sockets. */
  destroy(): void {
    this.#upstream?.destroy();
    this.#client.destroy();
  }

  #wireClient(): void {
    this.#client.setNoDelay(true);
    this.#client.on('data', (chunk: Buffer) => this.#onClientData(chunk));
    this.#client.on('error', () => this.destroy());
    this.#client.on('close', () => {
      this.#upstream?.destroy();
      this.#owner.closed(this);
    });
  }

  #wireUpstream(): void {
    const upstream = this.#upstream;
    if (upstream === undefined) return;
    upstream.setNoDelay(true);
    upstream.on('data', (chunk: Buffer) => this.#onUpstreamData(chunk));
    upstream.on('error', () => {
      if (this.#repliesPass()) this.#client.destroy();
    });
    upstream.on('close', () => {
      if (this.#repliesPass()) this.#client.end();
    });
  }

  #repliesPass(): boolean {
    return this.#state === 'open' || this.#state === 'replies-only';
  }

  #onUpstreamData(chunk: Buffer): void {
    if (this.#repliesPass()) forward(chunk, this.#client, this.#upstream);
  }

  /** Forwards the complete frames of a chunk, stopping right after a frame that fires a fault. */
  #onClientData(chunk: Buffer): void {
    const upstream = this.#upstream;
    if (this.#state !== 'open' || upstream === undefined) return;
    upstream.cork();
    try {
      for (const frame of this.#splitter.push(chunk)) {
        const fault = frame.name === undefined ? undefined : this.#owner.countCommand(frame.name);
        if (fault === 'cut') {
          this.#state = 'cut';
          upstream.write(frame.bytes, () => this.#destroySoon());
          return;
        }
        forward(frame.bytes, upstream, this.#client);
        if (fault === 'freeze') {
          // The owner has just frozen every connection, this one included; its replies still pass.
          this.#state = 'replies-only';
          return;
        }
      }
    } finally {
      upstream.uncork();
    }
  }

  /** Ends a `'cut'`: gives Redis time to execute command k, then drops both sockets. */
  #destroySoon(): void {
    setTimeout(() => {
      this.destroy();
      this.#owner.cutDone();
    }, CUT_DELAY_MS);
  }
}

/** Writes `chunk` to `to`, pausing `from` until `to` drains when its buffer is full. */
function forward(chunk: Buffer, to: Socket, from: Socket | undefined): void {
  if (to.write(chunk) || from === undefined || from.isPaused()) return;
  from.pause();
  to.once('drain', () => from.resume());
}

// ---------------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------------

/** An armed fault that has not fired yet. */
interface PendingFault {
  readonly k: number;
  readonly mode: RedisFaultMode;
  readonly settle: (fired: boolean) => void;
}

/** The implementation behind {@link startRedisFaultProxy}. */
class FaultProxy implements RedisFaultProxy, ConnectionOwner {
  readonly #target: Target;
  readonly #server: Server;
  readonly #connections = new Set<ProxiedConnection>();
  #commands: string[] = [];
  #pending: PendingFault | undefined;
  /** The `'cut'` that fired and waits for its sockets to be destroyed. */
  #cutting: PendingFault | undefined;
  #frozen = false;
  #fired = false;
  #url = '';
  #closed: Promise<void> | undefined;

  constructor(target: Target) {
    this.#target = target;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Listens on a free loopback port. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#url = proxyUrl(this.#target.url, (this.#server.address() as AddressInfo).port);
        resolve();
      });
    });
  }

  get url(): string {
    return this.#url;
  }

  get commandCount(): number {
    return this.#commands.length;
  }

  get commands(): readonly string[] {
    return [...this.#commands];
  }

  get fired(): boolean {
    return this.#fired;
  }

  resetCount(): void {
    this.#commands = [];
  }

  injectAfter(k: number, mode: RedisFaultMode): Promise<boolean> {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`injectAfter: k must be a positive integer, got ${k}`);
    this.clearFault();
    this.#fired = false;
    return new Promise((settle) => {
      this.#pending = { k, mode, settle };
    });
  }

  clearFault(): void {
    this.#settle('pending', false);
    this.#settle('cutting', false);
    if (!this.#frozen) return;
    this.#frozen = false;
    for (const connection of this.#connections) if (connection.frozen) connection.destroy();
  }

  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      this.clearFault();
      this.#server.close(() => resolve());
      for (const connection of this.#connections) connection.destroy();
    });
    return this.#closed;
  }

  countCommand(name: string): RedisFaultMode | undefined {
    this.#commands.push(name);
    const fault = this.#pending;
    if (fault === undefined || this.#commands.length !== fault.k) return undefined;
    this.#pending = undefined;
    if (fault.mode === 'cut') this.#cutting = fault;
    else this.#freeze(fault);
    return fault.mode;
  }

  cutDone(): void {
    const fault = this.#cutting;
    if (fault === undefined) return;
    this.#cutting = undefined;
    this.#fired = true;
    fault.settle(true);
  }

  closed(connection: ProxiedConnection): void {
    this.#connections.delete(connection);
  }

  /** Black-holes every connection but the one that carried command k (it still gets replies). */
  #freeze(fault: PendingFault): void {
    this.#frozen = true;
    for (const connection of this.#connections) connection.freeze();
    this.#fired = true;
    fault.settle(true);
  }

  #accept(socket: Socket): void {
    const connection = new ProxiedConnection(socket, this.#frozen ? undefined : this.#target, this);
    this.#connections.add(connection);
  }

  #settle(which: 'pending' | 'cutting', fired: boolean): void {
    const fault = which === 'pending' ? this.#pending : this.#cutting;
    if (which === 'pending') this.#pending = undefined;
    else this.#cutting = undefined;
    fault?.settle(fired);
  }
}
