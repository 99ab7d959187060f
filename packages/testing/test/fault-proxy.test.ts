import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl, uniquePrefix } from '../../../tests/support/env.js';
import { startRedisFaultProxy, type RedisFaultProxy } from '../dist/index.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxy(): Promise<RedisFaultProxy> {
  const started = await startRedisFaultProxy(redisUrl());
  cleanups.push(() => started.close());
  return started;
}

/** An ioredis client (default options unless given), connected and ready. */
async function client(url: string, options: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, ...options });
  redis.on('error', () => {}); // cut connections are expected here
  cleanups.push(() => redis.disconnect());
  await redis.connect();
  return redis;
}

/** A raw TCP socket that collects everything it receives. */
async function rawSocket(url: string): Promise<{ socket: Socket; received: () => string }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.setNoDelay(true);
  cleanups.push(() => {
    socket.destroy();
  });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => received };
}

/** RESP encoding of one command, as clients send it. */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

const TIMED_OUT = Symbol('timed out');
/** The promise's value, or {@link TIMED_OUT} when it has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return Promise.race([promise, sleep(ms).then((): typeof TIMED_OUT => TIMED_OUT)]);
}

describe('startRedisFaultProxy', () => {
  it('keeps the credentials and database of the target URL', async () => {
    const p = await startRedisFaultProxy('redis://user:secret@10.1.2.3:7000/3');
    cleanups.push(() => p.close());
    expect(p.url).toMatch(/^redis:\/\/user:secret@127\.0\.0\.1:\d+\/3$/);
    await expect(startRedisFaultProxy('rediss://127.0.0.1:6380')).rejects.toThrow(/redis:\/\//);
    expect(() => p.injectAfter(0, 'cut')).toThrow(RangeError);
  });

  it('counts every command exactly, pipelined and in transactions included', async () => {
    const p = await proxy();
    const key = uniquePrefix('count');
    const redis = await client(p.url);
    expect(p.commandCount).toBeGreaterThan(0); // ioredis' own connect-time commands
    p.resetCount();

    await redis.set(`${key}:a`, '1');
    await redis.get(`${key}:a`);
    await redis.pipeline().incr(`${key}:b`).incr(`${key}:b`).get(`${key}:b`).exec();
    await redis.multi().set(`${key}:c`, 'x').del(`${key}:c`).exec();

    expect(p.commands).toEqual(['SET', 'GET', 'INCR', 'INCR', 'GET', 'MULTI', 'SET', 'DEL', 'EXEC']);
    expect(p.commandCount).toBe(9);
    p.resetCount();
    expect(p.commandCount).toBe(0);
    expect(p.commands).toEqual([]);
  });

  it('splits frames across arbitrary chunk boundaries, inline commands included', async () => {
    const p = await proxy();
    const key = uniquePrefix('chunks');
    const { socket, received } = await rawSocket(p.url);
    const payload = Buffer.from(
      `${resp('SET', key, 'a\r\nb')}PING\r\n\r\n${resp('APPEND', key, '€')}${resp('GET', key)}echo hi\n`,
    );
    for (let i = 0; i < payload.length; i += 3) {
      socket.write(payload.subarray(i, i + 3));
      await sleep(1);
    }
    await until(() => received().endsWith('$2\r\nhi\r\n'));
    expect(p.commands).toEqual(['SET', 'PING', 'APPEND', 'GET', 'ECHO']);
    expect(received()).toBe(`+OK\r\n+PONG\r\n:7\r\n$7\r\na\r\nb€\r\n$2\r\nhi\r\n`);
  });

  it("'cut' lets Redis run command k, loses its reply, and ioredis re-sends it", async () => {
    const p = await proxy();
    const key = uniquePrefix('cut');
    const direct = await client(redisUrl());
    const redis = await client(p.url);
    p.resetCount();

    const fired = p.injectAfter(1, 'cut');
    const reply = redis.incr(key);
    expect(await fired).toBe(true);
    expect(p.fired).toBe(true);
    expect(await direct.get(key)).toBe('1'); // INCR ran once; its reply never reached the client

    // autoResendUnfulfilledCommands (default true): ioredis reconnects and sends the INCR again.
    expect(await reply).toBe(2);
    expect(await direct.get(key)).toBe('2');
    expect(p.commands[0]).toBe('INCR');
    expect(p.commands.at(-1)).toBe('INCR');

    // Later commands and connections work normally.
    expect(await redis.incr(key)).toBe(3);
  });

  it("'cut' inside an ioredis pipeline: the whole unanswered pipeline is re-sent", async () => {
    const p = await proxy();
    const key = uniquePrefix('cut-ioredis-pipe');
    const direct = await client(redisUrl());
    const redis = await client(p.url);
    p.resetCount();

    const fired = p.injectAfter(2, 'cut');
    const results = redis.pipeline().incr(`${key}:1`).incr(`${key}:2`).incr(`${key}:3`).exec();
    expect(await fired).toBe(true);
    expect(await direct.mget(`${key}:1`, `${key}:2`, `${key}:3`)).toEqual(['1', '1', null]);
    // No reply of the pipeline arrived, so ioredis re-sends all three: the first two run twice.
    expect(await results).toEqual([
      [null, 2],
      [null, 2],
      [null, 1],
    ]);
    expect(p.commands.slice(0, 2)).toEqual(['INCR', 'INCR']);
    expect(p.commands.slice(-3)).toEqual(['INCR', 'INCR', 'INCR']);
  });

  it("'cut' drops the commands pipelined after command k in the same chunk", async () => {
    const p = await proxy();
    const key = uniquePrefix('cut-pipe');
    const direct = await client(redisUrl());
    const { socket, received } = await rawSocket(p.url);

    const fired = p.injectAfter(2, 'cut');
    socket.write(resp('INCR', `${key}:1`) + resp('INCR', `${key}:2`) + resp('INCR', `${key}:3`));
    expect(await fired).toBe(true);
    await until(() => socket.destroyed);
    expect(received()).toBe('');
    expect(await direct.mget(`${key}:1`, `${key}:2`, `${key}:3`)).toEqual(['1', '1', null]);
    expect(p.commands).toEqual(['INCR', 'INCR']);
  });

  it("'freeze' forwards command k and its reply, then nothing more reaches Redis", async () => {
    const p = await proxy();
    const key = uniquePrefix('freeze');
    const direct = await client(redisUrl());
    const redis = await client(p.url);
    const other = await client(p.url);
    p.resetCount();

    const fired = p.injectAfter(2, 'freeze');
    await redis.set(key, 'a');
    expect(await redis.incr(`${key}:n`)).toBe(1); // command k and its reply pass
    expect(await fired).toBe(true);

    const blocked = redis.set(key, 'b').catch((err: unknown) => err);
    const blockedOther = other.set(key, 'c').catch((err: unknown) => err);
    expect(await within(blocked, 300)).toBe(TIMED_OUT);
    expect(await within(blockedOther, 10)).toBe(TIMED_OUT);
    const late = await rawSocket(p.url); // accepted, never forwarded
    late.socket.write('PING\r\n');
    await sleep(100);
    expect(late.received()).toBe('');
    expect(await direct.get(key)).toBe('a');
    expect(p.commands).toEqual(['SET', 'INCR']);

    // The "dead process" goes away; after clearFault new connections are forwarded again. (A client
    // left connected would reconnect when its frozen connection is dropped and re-send its commands.)
    redis.disconnect();
    other.disconnect();
    await Promise.all([blocked, blockedOther]);
    p.clearFault();
    const fresh = await client(p.url);
    expect(await fresh.get(key)).toBe('a');
  });
});
