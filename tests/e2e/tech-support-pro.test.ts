import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RedisHandoffClient } from '@handoff/client';
import { findFreePort, ManagedProcess, lastUserText, startScriptedModel, systemIncludes, toolNames, type RecordedRequest, type ScriptedModel } from '@handoff/testing';
import { startEmailMcpServer, type EmailMcpServer } from '@handoff/examples/dist/tech-support-pro/email-mcp-server.js';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { HANDOFF_BIN, REPO_ROOT, startHandoff } from '../support/processes.js';

const NETWORK = 'examples/dist/tech-support-pro/network.js';
const results = (req: RecordedRequest) => req.body.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));

/**
 * The seed's TechSupportPro with its tools, and its MCP-enabled specialists — a real stdio MCP
 * server nobody here wrote (@modelcontextprotocol/server-everything) and a Streamable HTTP MCP
 * server started by the test — as gateway and worker processes; an approval is granted from a
 * different process than the one that started the conversation.
 */
describe('TechSupportPro with MCP servers and approvals, across processes', () => {
  const prefix = uniquePrefix('mcp');
  let model: ScriptedModel;
  let email: EmailMcpServer;
  let processes: ManagedProcess[] = [];
  let client: RedisHandoffClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    email = await startEmailMcpServer();
    model = await startScriptedModel({
      rules: [
        {
          when: systemIncludes('technical support specialist'),
          reply: (req) => {
            const text = lastUserText(req) ?? '';
            if (results(req).length > 0) return { content: `Done: ${results(req).join(' / ')}` };
            if (text.includes('status')) return { toolCalls: [{ name: 'CheckSystemStatus', arguments: { component: 'database' } }, { name: 'SearchKnowledgeBase', arguments: { query: 'slow queries' } }] };
            if (text.includes('reset')) return { toolCalls: [{ name: 'ResetAccount', arguments: { user: 'bob' } }] };
            if (text.includes('sum')) return { toolCalls: [{ name: 'transfer_to_DatabaseSpecialist', arguments: { reason: 'database' } }] };
            return { toolCalls: [{ name: 'transfer_to_EmailSpecialist', arguments: { reason: 'email' } }] };
          },
        },
        { when: systemIncludes('database administrator'), reply: (req) => (results(req).length > 0 ? { content: `DB: ${results(req).at(-1)}` } : { toolCalls: [{ name: 'get-sum', arguments: { a: 2, b: 3 } }] }) },
        { when: systemIncludes('email administrator'), reply: (req) => (results(req).length > 0 ? { content: `Mail: ${results(req).at(-1)}` } : { toolCalls: [{ name: 'send_email', arguments: { to: 'ops@example.com', subject: 'Outage', body: 'The database is slow.' } }] }) },
      ],
    });
    env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', EMAIL_MCP_URL: email.url };
    processes = await Promise.all([startHandoff('gateway', ['gateway', '--network', NETWORK], env), startHandoff('worker', ['worker', '--network', NETWORK], env)]);
    client = createClient({ redis: { url: redisUrl(), prefix } });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await model?.close();
    await email?.close();
  });

  it('calls both of its tools in one turn and answers with their results in order', async () => {
    const result = await (await client.start({ input: 'check the status please' })).result({ timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'TechSupportPro', output: 'Done: Status of database: Operational / Knowledge base results for: slow queries' });
  });

  it('hands off to the database specialist, whose tools come from a stdio MCP server, filtered by allowTools', async () => {
    const result = await (await client.start({ input: 'what is the sum in the database?' })).result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'DatabaseSpecialist', output: 'DB: The sum of 2 and 3 is 5.' });
    const request = model.requests.find(systemIncludes('database administrator'))!;
    expect(toolNames(request).sort()).toEqual(['echo', 'get-sum']);
  });

  it('hands off to the email specialist, whose tools come from a Streamable HTTP MCP server', async () => {
    const result = await (await client.start({ input: 'tell the ops team by email' })).result({ timeoutMs: 20_000 });
    expect(result).toMatchObject({ status: 'completed', agent: 'EmailSpecialist', output: 'Mail: Email to ops@example.com sent (subject: Outage).' });
    expect(email.outbox).toEqual([{ to: 'ops@example.com', subject: 'Outage', body: 'The database is slow.' }]);
  });

  it('pauses a reset for approval, granted from another process', async () => {
    const conversation = await client.start({ input: 'reset bob please' });
    expect(await conversation.result({ timeoutMs: 15_000 })).toMatchObject({ status: 'awaiting_user', waiting: { kind: 'approval', calls: [{ name: 'ResetAccount' }] } });
    const approver = await ManagedProcess.start({ name: 'approver', command: process.execPath, args: ['tests/e2e/fixtures/approve.mjs', redisUrl(), prefix, conversation.id], cwd: REPO_ROOT });
    expect((await approver.exited).code).toBe(0);
    const printed = JSON.parse(approver.lines.at(-1)!) as { pid: number; result: { status: string; output: string; context: Record<string, unknown> } };
    expect(printed.pid).not.toBe(process.pid);
    expect(printed.result).toMatchObject({ status: 'completed', output: 'Done: Account of bob reset.', context: { lastReset: 'bob' } });
  });

  it('refuses to start a worker whose MCP server cannot be reached, naming the server and the agent', async () => {
    const port = await findFreePort();
    const worker = await ManagedProcess.start({
      name: 'worker with a dead MCP server',
      command: process.execPath,
      args: [HANDOFF_BIN, 'worker', '--network', NETWORK, '--agents', 'EmailSpecialist'],
      cwd: REPO_ROOT,
      env: { ...env, EMAIL_MCP_URL: `http://127.0.0.1:${port}/mcp` },
    });
    const exit = await worker.exited;
    expect(exit.code).toBe(2);
    expect(worker.lines.join('\n')).toMatch(/Agent "EmailSpecialist": MCP server "email" \(http:\/\/127\.0\.0\.1:\d+\/mcp\) could not be started or listed/);
  });
});
