import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { createClient, createHttpClient } from '@handoff/client';
import { ConversationNotStartedError, ErrorCode, GatewayUnreachableError } from '@handoff/core';
import { startGateway } from '@handoff/gateway';
import { ManagedProcess } from '@handoff/testing';
import pino from 'pino';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { triageBillingNetwork } from '../support/network-builders.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';

/**
 * A conversation started while no gateway runs exists — its start waits on its coordinator partition's inbox —
 * so `status()` and `handoff inspect` say that, with CONVERSATION_NOT_STARTED and what to check,
 * not CONVERSATION_NOT_FOUND ("does not exist or has expired").
 */
describe('a conversation started while the gateway is stopped', () => {
  it('status() and handoff inspect say its start waits for a gateway', async () => {
    const prefix = uniquePrefix('no-gateway');
    const redis = { url: redisUrl(), prefix };
    // A gateway registers the network, then stops: the registration stays, nothing applies starts.
    const gateway = await startGateway({ network: triageBillingNetwork('http://127.0.0.1:1/v1'), redis, logger: pino({ level: 'silent' }) });
    await gateway.waitUntilReady();
    await gateway.close();

    const client = createClient({ redis });
    try {
      const conversation = await client.start({ input: 'hello' });
      const error = await conversation.status().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConversationNotStartedError);
      expect((error as ConversationNotStartedError).code).toBe(ErrorCode.CONVERSATION_NOT_STARTED);
      expect((error as Error).message).toBe(
        `Conversation "${conversation.id}" waits for a gateway: its start is queued on its coordinator partition's inbox, and no gateway applied it within 5000 ms. ` +
          `Is a gateway running (handoff gateway --network <module>) with the same REDIS_URL and prefix "${prefix}"? It starts as soon as one does.`,
      );

      const inspect = await ManagedProcess.start({ name: 'inspect', command: process.execPath, args: [HANDOFF_BIN, 'inspect', conversation.id], cwd: REPO_ROOT, env: { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix } });
      const exit = await inspect.exited;
      const output = inspect.lines.join('\n');
      expect(exit.code, output).toBe(2);
      expect(output).toContain(`handoff: CONVERSATION_NOT_STARTED: Conversation "${conversation.id}" waits for a gateway: its start is queued on its coordinator partition's inbox`);
      expect(output).not.toContain('CONVERSATION_NOT_FOUND');
    } finally {
      await client.close();
    }
  }, 40_000);

  it('the HTTP client names the gateway URL it cannot reach, with GATEWAY_UNREACHABLE', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await createHttpClient({ baseUrl: `http://127.0.0.1:${port}` }).start({ input: 'hello' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayUnreachableError);
    expect((error as GatewayUnreachableError).code).toBe(ErrorCode.GATEWAY_UNREACHABLE);
    expect((error as Error).message).toBe(
      `The gateway's HTTP API at http://127.0.0.1:${port}/ could not be reached (ECONNREFUSED). Check that a gateway runs with --http-port there ` +
        '(handoff gateway --network <module> --http-port <port>) and that baseUrl names its host and port.',
    );
  });
});
