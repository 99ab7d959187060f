/**
 * The network of the MCP-restart test: `Operator` has the tools of a Streamable HTTP MCP server
 * that keeps sessions (its URL in SESSION_MCP_URL), offered under their bare names.
 */
import { defineAgent, defineNetwork } from '@handoff/core';

const operator = defineAgent({
  name: 'Operator',
  description: 'Asks the MCP server',
  instructions: 'You are Operator.',
  model: { name: 'scripted', maxRetries: 0 },
  mcpServers: [{ name: 'sessions', transport: 'http', url: process.env.SESSION_MCP_URL ?? 'http://127.0.0.1:1/mcp' }],
});

export default defineNetwork({ name: 'session-mcp', agents: [operator] });
