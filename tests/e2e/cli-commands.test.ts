import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDeadLetter, QueueSet } from '@handoff/redis';
import { ManagedProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { englishSpanishRules } from '@handoff/examples/dist/english-spanish/scripted-model.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

const NETWORK = 'examples/dist/english-spanish/network.js';

/** The `handoff` command's run, inspect and dlq commands, and its config file. */
describe('handoff run, inspect, dlq', () => {
  const prefix = uniquePrefix('cli');
  let model: ScriptedModel;
  let configFile: string;
  let conversationId = '';

  const handoff = async (args: string[], env: Record<string, string> = {}) => {
    const child = await ManagedProcess.start({
      name: `handoff ${args[0]}`,
      command: process.execPath,
      args: [HANDOFF_BIN, ...args],
      cwd: REPO_ROOT,
      env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', LOG_LEVEL: 'warn', ...env },
    });
    const exit = await child.exited;
    return { code: exit.code, out: child.lines.join('\n') };
  };

  beforeAll(async () => {
    model = await startScriptedModel({ rules: englishSpanishRules });
    const dir = await mkdtemp(join(tmpdir(), 'handoff-cli-'));
    configFile = join(dir, 'handoff.json');
    await writeFile(configFile, JSON.stringify({ redisUrl: redisUrl(), prefix, network: NETWORK, concurrency: 4 }));
  });
  afterAll(() => model.close());

  it('runs a conversation with the network in process, printing its events live and its path', async () => {
    const { code, out } = await handoff(['run', '--config', configFile, '¿cuanto es 2+2?']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/⇢ handoff EnglishAgent → SpanishAgent: The user writes in Spanish\./);
    expect(out).toMatch(/SpanishAgent: 2 \+ 2 son 4\./);
    expect(out).toMatch(/path {4}EnglishAgent → SpanishAgent/);
    expect(out).toMatch(/answer {2}2 \+ 2 son 4\./);
    conversationId = /conversation (c_\w+)/.exec(out)![1]!;
  });

  it('inspects a conversation: status, path, context and events, as text or JSON', async () => {
    const text = await handoff(['inspect', conversationId, '--redis-url', redisUrl(), '--prefix', prefix]);
    expect(text.code, text.out).toBe(0);
    expect(text.out).toMatch(/status {3}completed \(final_output\)/);
    expect(text.out).toMatch(/path {5}EnglishAgent → SpanishAgent/);
    expect(text.out).toMatch(/⇢ handoff EnglishAgent → SpanishAgent/);
    const json = await handoff(['inspect', conversationId, '--config', configFile, '--json']);
    const parsed = JSON.parse(json.out) as { conversation: { status: string }; events: { type: string }[] };
    expect(parsed.conversation.status).toBe('completed');
    expect(parsed.events.at(-1)?.type).toBe('conversation.completed');
    const missing = await handoff(['inspect', 'c_nothere', '--config', configFile]);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/CONVERSATION_NOT_FOUND/);
  });

  it('lists and replays dead letters', async () => {
    const empty = await handoff(['dlq', 'list', '--config', configFile]);
    expect(empty.out).toMatch(/no dead letters/);
    const redis = new Redis(redisUrl());
    const queues = new QueueSet(redis, prefix);
    await addDeadLetter(queues, { sourceQueue: 'agent.SpanishAgent', jobId: 'stuck-1', conversationId: 'c_x', error: { code: 'HOP_FAILED', message: 'worker kept dying', retryable: true }, payload: { hello: 'world' } });
    const listed = await handoff(['dlq', 'list', '--config', configFile]);
    expect(listed.out).toMatch(/agent\.SpanishAgent {2}c_x {2}HOP_FAILED: worker kept dying/);
    const id = listed.out.split(/\s+/)[0]!;
    const replayed = await handoff(['dlq', 'replay', id, '--config', configFile]);
    expect(replayed.out).toMatch(new RegExp(`replayed ${id.replace('.', '\\.')} as job stuck-1`));
    expect(JSON.parse((await queues.lane('SpanishAgent').payload('stuck-1'))!)).toEqual({ hello: 'world' });
    expect(await queues.lane('SpanishAgent').remove('stuck-1')).toBe(1);
    await queues.close();
    redis.disconnect();
  });

  it('names the bad field of a config file', async () => {
    const bad = join(configFile, '..', 'bad.json');
    await writeFile(bad, JSON.stringify({ network: NETWORK, concurrency: 'lots', colour: 'blue' }));
    const { code, out } = await handoff(['worker', '--config', bad]);
    expect(code).toBe(2);
    expect(out).toMatch(/--config .*bad\.json: .*concurrency/);
  });
});
