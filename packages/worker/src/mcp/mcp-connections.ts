import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Logger } from 'pino';
import { DefinitionError, type McpServerSpec } from '@handoff/core';

/** A tool an MCP server offers, as the worker offers it to the model. */
export interface McpTool {
  server: string;
  /** The connection that offers it (one per distinct server spec). */
  connectionKey: string;
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** Longest a call may take (the server spec's timeout). */
  timeoutMs: number;
}

/**
 * The `_meta` key of an MCP `tools/call` request that carries the call's idempotency key
 * (`<hopId>:<toolCallId>`, the same on every run of the hop), for servers that deduplicate.
 */
export const MCP_IDEMPOTENCY_KEY_META = 'handoff/idempotency-key';

/** What an MCP tool call returned. */
export interface McpCallResult {
  text: string;
  isError: boolean;
}

/** The MCP SDK's client parts, loaded once a worker connects to its first MCP server (a worker without MCP servers never carries them: ~25 MB). */
type McpSdk = typeof import('@modelcontextprotocol/sdk/client/index.js') & typeof import('@modelcontextprotocol/sdk/client/stdio.js') & typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js');
let sdk: McpSdk | undefined;
let loadingSdk: Promise<McpSdk> | undefined;
function loadSdk(): Promise<McpSdk> {
  loadingSdk ??= Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]).then(([index, stdio, http]) => (sdk = { ...index, ...stdio, ...http }));
  return loadingSdk;
}

/**
 * True when a Streamable HTTP server answered 404 to a request that named a session: it no longer
 * knows the session (it restarted, or expired it), and the MCP spec says the client must start a
 * new one with a fresh `initialize`.
 */
function isSessionGone(error: unknown, transport: McpServerSpec['transport']): boolean {
  return transport === 'http' && sdk !== undefined && error instanceof sdk.StreamableHTTPError && error.code === 404;
}

/**
 * One live connection to one MCP server; reconnects on the next call when the server went away,
 * and starts a new session (then retries the call once) when an HTTP server forgot its session.
 */
class McpServerConnection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;

  constructor(
    readonly spec: McpServerSpec,
    private readonly logger: Logger,
  ) {}

  async connect(): Promise<Client> {
    if (this.client) return this.client;
    this.connecting ??= (async () => {
      const { Client, StdioClientTransport, StreamableHTTPClientTransport } = await loadSdk();
      const client = new Client({ name: 'handoff-worker', version: '0.1.0' });
      const transport =
        this.spec.transport === 'stdio'
          ? new StdioClientTransport({
              command: this.spec.command,
              args: this.spec.args,
              ...(this.spec.env ? { env: { ...(process.env as Record<string, string>), ...this.spec.env } } : {}),
              ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
              stderr: 'ignore',
            })
          : new StreamableHTTPClientTransport(new URL(this.spec.url), this.spec.headers ? { requestInit: { headers: this.spec.headers } } : undefined);
      transport.onclose = () => {
        if (this.client === client) {
          this.logger.warn({ server: this.spec.name }, 'MCP server connection closed; reconnecting on the next call');
          this.client = undefined;
        }
      };
      await client.connect(transport);
      this.client = client;
      return client;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async tools(connectionKey: string): Promise<McpTool[]> {
    const client = await this.connect();
    const listed = await client.listTools();
    const allow = this.spec.allowTools ? new Set(this.spec.allowTools) : undefined;
    return listed.tools
      .filter((tool) => !allow || allow.has(tool.name))
      .map((tool) => ({ server: this.spec.name, connectionKey, name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema as Record<string, unknown>, timeoutMs: this.spec.timeoutMs }));
  }

  async call(name: string, args: Record<string, unknown>, signal: AbortSignal | undefined, idempotencyKey?: string): Promise<McpCallResult> {
    const client = await this.connect();
    // The request's _meta carries the call's idempotency key, for servers that deduplicate.
    const meta = idempotencyKey === undefined ? {} : { _meta: { [MCP_IDEMPOTENCY_KEY_META]: idempotencyKey } };
    const callOnce = (on: Client) => on.callTool({ name, arguments: args, ...meta }, undefined, { timeout: this.spec.timeoutMs, ...(signal ? { signal } : {}) });
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await callOnce(client);
    } catch (error) {
      if (!isSessionGone(error, this.spec.transport)) throw error;
      this.logger.warn({ server: this.spec.name, tool: name }, 'MCP server session expired; starting a new session and retrying the call');
      await this.dropSession(client);
      result = await callOnce(await this.connect());
    }
    const content = Array.isArray(result.content) ? (result.content as { type: string; text?: string }[]) : [];
    const text = content.map((part) => (part.type === 'text' ? (part.text ?? '') : `[${part.type}]`)).join('\n');
    return { text: text || JSON.stringify(result.structuredContent ?? result.content ?? ''), isError: result.isError === true };
  }

  /** Forgets `client`'s session (the server no longer has it), so that the next connect initializes a new one. */
  private async dropSession(client: Client): Promise<void> {
    if (this.client === client) this.client = undefined;
    // The transport would try to DELETE the dead session on close: it is gone already, so just close.
    await client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close().catch(() => undefined);
  }
}

/**
 * The MCP servers of the agents a worker process serves: each started (stdio) or connected (HTTP)
 * once per process, shared by every turn, and reconnected when it goes away. A server that cannot
 * be reached at start is an error naming the server and the agent.
 */
export class McpConnections {
  private readonly servers = new Map<string, McpServerConnection>();
  private readonly agentTools = new Map<string, McpTool[]>();

  constructor(private readonly logger: Logger) {}

  /** Connects an agent's servers and lists their tools. @throws DefinitionError naming the server and agent. */
  async prepare(agent: string, specs: readonly McpServerSpec[]): Promise<void> {
    const tools: McpTool[] = [];
    for (const spec of specs) {
      const key = JSON.stringify(spec);
      let connection = this.servers.get(key);
      if (!connection) this.servers.set(key, (connection = new McpServerConnection(spec, this.logger)));
      try {
        tools.push(...(await connection.tools(key)));
      } catch (error) {
        throw new DefinitionError(
          `Agent "${agent}": MCP server "${spec.name}" (${spec.transport === 'stdio' ? `${spec.command} ${spec.args.join(' ')}` : spec.url}) could not be started or listed: ${error instanceof Error ? error.message : String(error)}`,
          { details: { agent, server: spec.name }, cause: error },
        );
      }
    }
    this.agentTools.set(agent, tools);
  }

  /** The MCP tools an agent may call. */
  toolsOf(agent: string): readonly McpTool[] {
    return this.agentTools.get(agent) ?? [];
  }

  /** Calls a tool on the server that offers it; `idempotencyKey` goes in the request's `_meta` ({@link MCP_IDEMPOTENCY_KEY_META}). */
  call(agent: string, tool: McpTool, args: Record<string, unknown>, signal: AbortSignal | undefined, idempotencyKey?: string): Promise<McpCallResult> {
    const connection = this.servers.get(tool.connectionKey);
    if (!connection) throw new Error(`MCP server "${tool.server}" of agent "${agent}" is not connected`);
    return connection.call(tool.name, args, signal, idempotencyKey);
  }

  /** Closes every connection (stdio servers are stopped). */
  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((c) => c.close()));
  }
}
