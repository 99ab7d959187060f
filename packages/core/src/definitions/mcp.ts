import { z } from 'zod';

const ServerName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');

/** An MCP server an agent's worker connects to: a process over stdio, or a Streamable HTTP endpoint. */
export const McpServerSpec = z.discriminatedUnion('transport', [
  z.object({
    name: ServerName,
    transport: z.literal('stdio'),
    /** The program to start (once per worker process, restarted if it dies). */
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
    /** Offer only these tools of the server. @defaultValue all */
    allowTools: z.array(z.string()).optional(),
    /** Longest a call may take. @defaultValue 60 000 */
    timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
  }),
  z.object({
    name: ServerName,
    transport: z.literal('http'),
    /** The server's Streamable HTTP endpoint. */
    url: z.url(),
    headers: z.record(z.string(), z.string()).optional(),
    allowTools: z.array(z.string()).optional(),
    timeoutMs: z.number().int().min(1).max(3_600_000).default(60_000),
  }),
]);
/** An MCP server an agent's worker connects to. */
export type McpServerSpec = z.output<typeof McpServerSpec>;
/** What {@link McpServerSpec} takes as input. */
export type McpServerConfig = z.input<typeof McpServerSpec>;
