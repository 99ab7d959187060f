/**
 * The seed's tool-enabled and MCP-enabled handoff agents: TechSupportPro with CheckSystemStatus
 * and SearchKnowledgeBase tools; a database specialist whose tools come from a stdio MCP server
 * (here @modelcontextprotocol/server-everything stands in for a database server: its `get-sum` and
 * `echo`); an email specialist whose tools come from a Streamable HTTP MCP server
 * (EMAIL_MCP_URL, see email-mcp-server.ts). Resetting an account needs a person's approval.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { defineAgent, defineNetwork, defineTool } from '@handoff/core';

const model = process.env.HANDOFF_MODEL ?? 'gpt-4.1-mini';
const require = createRequire(import.meta.url);

export const checkSystemStatus = defineTool({
  name: 'CheckSystemStatus',
  description: 'Check the status of various system components',
  parameters: z.object({ component: z.string().describe('The component, e.g. "database" or "email"') }),
  handler: async ({ component }) => `Status of ${component}: Operational`,
});

export const searchKnowledgeBase = defineTool({
  name: 'SearchKnowledgeBase',
  description: 'Search the knowledge base for information',
  parameters: z.object({ query: z.string() }),
  handler: async ({ query }) => `Knowledge base results for: ${query}`,
});

export const resetAccount = defineTool({
  name: 'ResetAccount',
  description: "Reset a user's account (needs a person's approval)",
  parameters: z.object({ user: z.string() }),
  needsApproval: true,
  handler: async ({ user }, ctx) => {
    ctx.setContext({ lastReset: user });
    return `Account of ${user} reset.`;
  },
});

export default defineNetwork({
  name: 'tech-support-pro',
  entry: 'TechSupportPro',
  agents: [
    defineAgent({
      name: 'TechSupportPro',
      description: 'Technical support with system access and knowledge base',
      model,
      instructions: 'You are a technical support specialist with access to system monitoring and knowledge base tools. Use these tools to provide accurate support.',
      tools: [checkSystemStatus, searchKnowledgeBase, resetAccount],
      handoffs: [
        { agent: 'DatabaseSpecialist', description: 'Database questions and queries.' },
        { agent: 'EmailSpecialist', description: 'Sending or checking emails.' },
      ],
    }),
    defineAgent({
      name: 'DatabaseSpecialist',
      description: 'Database specialist with direct database access',
      model,
      instructions: 'You are a database administrator with direct database access.',
      mcpServers: [
        {
          name: 'database',
          transport: 'stdio',
          command: process.execPath,
          args: [require.resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
          allowTools: ['get-sum', 'echo'],
        },
      ],
    }),
    defineAgent({
      name: 'EmailSpecialist',
      description: 'Email specialist with email system access',
      model,
      instructions: 'You are an email administrator with email system access.',
      mcpServers: [{ name: 'email', transport: 'http', url: process.env.EMAIL_MCP_URL ?? 'http://127.0.0.1:8931/mcp' }],
    }),
  ],
});
