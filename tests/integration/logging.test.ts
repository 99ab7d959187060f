import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@handoff/cli';
import { defineAgent, defineNetwork } from '@handoff/core';
import { systemIncludes } from '@handoff/testing';
import { startInProcess, type InProcessRuntime } from '../support/in-process.js';

/** Collects every JSON line a logger writes. */
function memoryLog(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('logs', () => {
  it('redact API keys, tokens, passwords and authorization headers', () => {
    const log = memoryLog();
    const logger = createLogger('redaction-test', log.stream);
    logger.info({ apiKey: 'sk-top', model: { apiKey: 'sk-nested', baseURL: 'http://model' }, headers: { authorization: 'Bearer abc' }, redis: { password: 'hunter2' } }, 'config');
    const [line] = log.lines();
    const text = JSON.stringify(line);
    for (const secret of ['sk-top', 'sk-nested', 'Bearer abc', 'hunter2']) expect(text).not.toContain(secret);
    expect(line).toMatchObject({ apiKey: '[redacted]', model: { apiKey: '[redacted]', baseURL: 'http://model' }, headers: { authorization: '[redacted]' }, redis: { password: '[redacted]' } });
  });

  describe('of a running conversation', () => {
    let rt: InProcessRuntime;
    const log = memoryLog();
    beforeAll(async () => {
      const logger = createLogger('logging-test', log.stream);
      logger.level = 'debug';
      rt = await startInProcess({
        label: 'logging',
        logger,
        network: (url) =>
          defineNetwork({ name: 'logging', agents: [defineAgent({ name: 'Echo', instructions: 'You are Echo.', model: { name: 'scripted', baseURL: url, apiKey: 'sk-never-logged' } })] }),
        rules: [{ when: systemIncludes('You are Echo.'), reply: { content: 'echo' } }],
      });
    });
    afterAll(() => rt.close());

    it('carry the conversation and the hop on every worker line about a turn', async () => {
      const handle = await rt.client.start({ agent: 'Echo', input: 'hello' });
      await handle.result();
      const turnLines = log.lines().filter((line) => line.msg === 'turn done');
      expect(turnLines.length).toBeGreaterThan(0);
      expect(turnLines[0]).toMatchObject({ conversationId: handle.id, hopId: expect.stringContaining(handle.id) });
      expect(JSON.stringify(log.lines())).not.toContain('sk-never-logged');
    });
  });
});
