import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@handoff/client';
import { ErrorCode, defineAgent, defineNetwork, type NetworkDefinition } from '@handoff/core';
import { startGateway } from '@handoff/gateway';
import { ManagedProcess, RedisServerProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { startWorkers } from '@handoff/worker';
import { uniquePrefix } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

/** What the runtime says about an evicting Redis: the policy, why it matters, and how to fix it. */
const POLICY_MESSAGE =
  /^Redis maxmemory-policy is "allkeys-lru"; Handoff needs "noeviction", or Redis may delete queued hops and conversations when memory runs low\. Fix: run CONFIG SET maxmemory-policy noeviction \(and set it in redis\.conf\), or pass --allow-eviction \/ HANDOFF_ALLOW_EVICTION=1 to run anyway\.$/;

/** A pino logger whose JSON lines the test can read. */
function capturedLogger(): { logger: pino.Logger; lines: () => { level: number; msg: string }[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { level: number; msg: string }),
  };
}

/**
 * Redis configured to evict keys under memory pressure would silently lose queued hops and
 * conversations. Every process refuses to start on such a Redis, saying which policy it found and
 * how to fix it — unless eviction is allowed explicitly, and then it warns.
 */
describe('a Redis that may evict keys', () => {
  const redis = new RedisServerProcess({ args: ['--maxmemory-policy', 'allkeys-lru'] });
  let model: ScriptedModel;
  let network: NetworkDefinition;

  beforeAll(async () => {
    await redis.start();
    model = await startScriptedModel({ rules: [{ reply: { content: 'Still answering.' } }] });
    const settings = { name: 'scripted', baseURL: model.url, apiKey: 'test', maxRetries: 0 };
    network = defineNetwork({ name: 'eviction', agents: [defineAgent({ name: 'Solo', instructions: 'You are Solo.', model: settings })] });
  });
  afterAll(async () => {
    await model?.close();
    await redis.stop();
  });

  it('is really configured with allkeys-lru (so the checks below are about that policy)', async () => {
    const client = new Redis(redis.url);
    try {
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    } finally {
      client.disconnect();
    }
  });

  it('startGateway and startWorkers refuse with UNSAFE_REDIS_CONFIG, naming the policy and the fix', async () => {
    const prefix = uniquePrefix('evict-refuse');
    const { logger, lines } = capturedLogger();
    await expect(startGateway({ network, redis: { url: redis.url, prefix }, logger })).rejects.toMatchObject({
      code: ErrorCode.UNSAFE_REDIS_CONFIG,
      message: expect.stringMatching(POLICY_MESSAGE),
      details: { policy: 'allkeys-lru' },
    });
    await expect(startWorkers({ network, redis: { url: redis.url, prefix }, logger })).rejects.toMatchObject({
      code: ErrorCode.UNSAFE_REDIS_CONFIG,
      message: expect.stringMatching(POLICY_MESSAGE),
      details: { policy: 'allkeys-lru' },
    });
    // Refused before doing anything: no network registered, no queue created, nothing logged as started.
    const client = new Redis(redis.url);
    try {
      expect(await client.keys(`${prefix}:*`)).toEqual([]);
    } finally {
      client.disconnect();
    }
    expect(lines().filter((l) => /started/.test(l.msg))).toEqual([]);
  });

  it('with allowEviction, both start, warn with the same message, and serve a conversation', async () => {
    const prefix = uniquePrefix('evict-allow');
    const gatewayLog = capturedLogger();
    const workersLog = capturedLogger();
    const gateway = await startGateway({ network, redis: { url: redis.url, prefix }, logger: gatewayLog.logger, allowEviction: true });
    const workers = await startWorkers({ network, redis: { url: redis.url, prefix }, logger: workersLog.logger, allowEviction: true });
    const client = createClient({ redis: { url: redis.url, prefix } });
    try {
      await Promise.all([gateway.waitUntilReady(), workers.waitUntilReady()]);
      for (const log of [gatewayLog, workersLog]) {
        const warnings = log.lines().filter((l) => l.level === 40);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]!.msg).toMatch(POLICY_MESSAGE);
        // The warning comes before the process says it started.
        const messages = log.lines().map((l) => l.msg);
        expect(messages.findIndex((m) => POLICY_MESSAGE.test(m))).toBeLessThan(messages.findIndex((m) => /started/.test(m)));
      }
      const result = await (await client.start({ agent: 'Solo', input: 'hello' })).result({ timeoutMs: 10_000 });
      expect(result).toMatchObject({ status: 'completed', output: 'Still answering.' });
    } finally {
      await client.close();
      await Promise.all([workers.close(), gateway.close()]);
    }
  });

  describe('the handoff gateway command', () => {
    const networkModule = 'examples/dist/english-spanish/network.js';
    const env = (prefix: string, extra: Record<string, string | undefined> = {}) => ({
      LOG_LEVEL: 'info', REDIS_URL: redis.url, HANDOFF_PREFIX: prefix, HANDOFF_ALLOW_EVICTION: undefined, ...extra,
    });
    const gatewayArgs = (prefix: string, extra: string[] = []) => [HANDOFF_BIN, 'gateway', '--network', networkModule, '--prefix', prefix, ...extra];

    it('exits with code 2 and prints the same message', async () => {
      const prefix = uniquePrefix('evict-cli');
      const child = await ManagedProcess.start({ name: 'handoff gateway', command: process.execPath, args: gatewayArgs(prefix), env: env(prefix), cwd: REPO_ROOT });
      const exit = await child.exited;
      expect(exit).toEqual({ code: 2, signal: null });
      const printed = child.lines.find((line) => line.startsWith('handoff: '));
      expect(printed).toBeDefined();
      expect(printed!.replace(/^handoff: UNSAFE_REDIS_CONFIG: /, '')).toMatch(POLICY_MESSAGE);
      expect(child.lines.some((line) => /"msg":"ready"/.test(line))).toBe(false);
    });

    for (const [how, args, extraEnv] of [
      ['--allow-eviction', ['--allow-eviction'], {}],
      ['HANDOFF_ALLOW_EVICTION=1', [], { HANDOFF_ALLOW_EVICTION: '1' }],
    ] as const) {
      it(`starts with ${how}, warning first, and stops cleanly`, async () => {
        const prefix = uniquePrefix('evict-cli-allow');
        const child = await ManagedProcess.start({
          name: 'handoff gateway', command: process.execPath, args: gatewayArgs(prefix, [...args]), env: env(prefix, extraEnv), cwd: REPO_ROOT,
          readyPattern: /"msg":"ready"/, readyTimeoutMs: 30_000,
        });
        try {
          const logged = child.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string });
          const warning = logged.findIndex((l) => l.level === 40 && POLICY_MESSAGE.test(l.msg));
          expect(warning).toBeGreaterThanOrEqual(0);
          expect(warning).toBeLessThan(logged.findIndex((l) => l.msg === 'ready'));
        } finally {
          const exit = await child.stop(10_000);
          expect(exit).toEqual({ code: 0, signal: null });
        }
      });
    }
  });
});
