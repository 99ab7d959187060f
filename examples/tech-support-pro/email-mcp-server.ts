/**
 * A small Streamable HTTP MCP server for the example's email specialist: `send_email` and
 * `list_outbox` over an in-memory outbox. Stateless: every request gets a fresh server.
 *
 *   node examples/dist/tech-support-pro/email-mcp-server.js [port]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** A running email MCP server. */
export interface EmailMcpServer {
  url: string;
  outbox: { to: string; subject: string; body: string }[];
  close(): Promise<void>;
}

/** Starts the server on `port` (0: any free one). */
export async function startEmailMcpServer(port = 0): Promise<EmailMcpServer> {
  const outbox: EmailMcpServer['outbox'] = [];
  const mcpFor = () => {
    const mcp = new McpServer({ name: 'email', version: '1.0.0' });
    mcp.registerTool(
      'send_email',
      { description: 'Send an email', inputSchema: { to: z.string(), subject: z.string(), body: z.string() } },
      async ({ to, subject, body }) => {
        outbox.push({ to, subject, body });
        return { content: [{ type: 'text', text: `Email to ${to} sent (subject: ${subject}).` }] };
      },
    );
    mcp.registerTool('list_outbox', { description: 'List the emails sent so far', inputSchema: {} }, async () => ({
      content: [{ type: 'text', text: outbox.map((m) => `${m.to}: ${m.subject}`).join('\n') || '(empty)' }],
    }));
    return mcp;
  };
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'POST only (stateless server)' }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const mcp = mcpFor();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close().then(() => mcp.close()));
      await mcp.connect(transport);
      await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/mcp`,
    outbox,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = await startEmailMcpServer(Number(process.argv[2] ?? 8931));
  console.log(`email MCP server at ${started.url}`);
}
