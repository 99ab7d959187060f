import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { ManagedProcess, findFreePort, startScriptedModel, type RecordedRequest, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { REPO_ROOT, startHandoff } from '../support/processes.js';

const NETWORK = 'tests/e2e/networks/session-mcp.ts';
const toolResults = (req: RecordedRequest) => req.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));

/** Starts the session-keeping MCP server on `port`, as a process of its own. */
function startSessionServer(port: number): Promise<ManagedProcess> {
  return ManagedProcess.start({ name: 'mcp', command: process.execPath, args: ['tests/e2e/fixtures/session-mcp-server.mjs', String(port)], cwd: REPO_ROOT, readyPattern: /^listening \d+/ });
}

/**
 * A Streamable HTTP MCP server restarted while a worker uses it forgets the worker's session and
 * answers 404; the worker starts a new session and retries the call once, as the MCP spec says.
 */
describe('an HTTP MCP server restarted mid-conversation', () => {
  const prefix = uniquePrefix('mcp-restart');
  let model: ScriptedModel;
  let server: ManagedProcess;
  let port: number;
  let processes: ManagedProcess[] = [];
  let client: RedisHandoffClient;

  beforeAll(async () => {
    port = await findFreePort();
    server = await startSessionServer(port);
    model = await startScriptedModel({
      rules: [
        {
          reply: (req) =>
            toolResults(req).length > 0
              ? { content: `MCP: ${toolResults(req).at(-1)}` }
              : { toolCalls: [{ name: JSON.stringify(req.body.messages).includes('which key?') ? 'idempotency_key' : 'whoami', arguments: {} }] },
        },
      ],
    });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', SESSION_MCP_URL: `http://127.0.0.1:${port}/mcp` };
    processes = await Promise.all([startHandoff('gateway', ['gateway', '--network', NETWORK], env), startHandoff('worker', ['worker', '--network', NETWORK], env)]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await server?.stop();
    await model?.close();
  });

  it('opens a new session after the restart and answers the call, with no worker restart', async () => {
    const first = await (await client.start({ input: 'who answers?' })).result({ timeoutMs: 15_000 });
    expect(first).toMatchObject({ status: 'completed', output: `MCP: answered by process ${server.pid}` });

    await server.stop();
    server = await startSessionServer(port);
    const second = await (await client.start({ input: 'and now?' })).result({ timeoutMs: 15_000 });
    // The call reached the new process, not an error the model was told about.
    expect(second).toMatchObject({ status: 'completed', output: `MCP: answered by process ${server.pid}` });
    const worker = processes[1]!.lines.join('\n');
    expect(worker).toMatch(/MCP server session expired; starting a new session and retrying the call/);
    // And it stays recovered.
    expect(await (await client.start({ input: 'once more' })).result({ timeoutMs: 15_000 })).toMatchObject({ output: `MCP: answered by process ${server.pid}` });
  });

  it("sends the call's idempotency key in the request's _meta", async () => {
    const conversation = await client.start({ input: 'which key?' });
    const result = await conversation.result({ timeoutMs: 15_000 });
    expect(result.output).toMatch(new RegExp(`^MCP: key ${conversation.id}\\.h1:call_\\d+$`));
  });
});
