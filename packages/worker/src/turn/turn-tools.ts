import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ContextVariables, FunctionTool } from '@handoff/core';
import type { McpConnections, McpTool } from '../mcp/mcp-connections.js';
import { runToolCall, toolSchema, type ToolCallOutcome, type ToolCallScope } from './function-tools.js';
import { parseToolArguments } from './transfer-tools.js';

/** A tool an agent may call in a turn — a function tool or an MCP server's tool — behind one shape. */
export interface TurnTool {
  readonly name: string;
  readonly schema: ChatCompletionTool;
  /** Runs alone (earlier calls finish first, later calls wait). */
  readonly sequential: boolean;
  /** Longest a call may take (what its claim in the turn journal is sized by). */
  readonly timeoutMs: number;
  /** Whether this call needs a person's approval before it runs. */
  needsApproval(args: Record<string, unknown>, context: Readonly<ContextVariables>): boolean;
  run(rawArguments: string, scope: ToolCallScope): Promise<ToolCallOutcome>;
}

/** A function tool as a {@link TurnTool}. */
export function functionTurnTool(tool: FunctionTool): TurnTool {
  return {
    name: tool.name,
    schema: toolSchema(tool),
    sequential: tool.sequential,
    timeoutMs: tool.timeoutMs,
    needsApproval: (args, context) => (typeof tool.needsApproval === 'function' ? tool.needsApproval(args, context) : tool.needsApproval),
    run: (raw, scope) => runToolCall(tool, raw, scope),
  };
}

/** An MCP server's tool as a {@link TurnTool}: its schema is the server's, the call goes through the SDK. */
export function mcpTurnTool(mcp: McpConnections, agent: string, tool: McpTool): TurnTool {
  return {
    name: tool.name,
    schema: { type: 'function', function: { name: tool.name, description: tool.description || `${tool.name} (MCP server ${tool.server})`, parameters: tool.inputSchema } },
    sequential: false,
    timeoutMs: tool.timeoutMs,
    needsApproval: () => false,
    async run(raw, scope) {
      const args = parseToolArguments(raw);
      if (!args.ok) return { content: `Error: ${args.error}. Call ${tool.name} again with valid JSON arguments.`, isError: true };
      try {
        const result = await mcp.call(agent, tool, args.value, scope.signal, scope.idempotencyKey);
        return { content: result.isError ? `Error: ${result.text}` : result.text, isError: result.isError };
      } catch (error) {
        return { content: `Error: ${tool.name} (MCP server ${tool.server}) failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
      }
    },
  };
}
