import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { EventId, Message, OperationId, type TranscriptQuery, newOperationId, parseBoundary, viewOfRecord } from '@handoff/core';
import type { RedisHandoffClient } from '@handoff/client';
import type { ConversationIndex } from '../conversation-index.js';
import { jsonBody } from './json-body.js';

const MessageRequest = z.object({ message: z.union([z.string().min(1), Message]), agent: z.string().min(1).optional(), operationId: OperationId.optional() });
const CancelRequest = z.object({ reason: z.string().max(1_000).optional(), operationId: OperationId.optional() });
const ApprovalRequest = z.object({ approved: z.boolean(), toolCallId: z.string().min(1).optional(), reason: z.string().max(2_000).optional(), operationId: OperationId.optional() });

/** The operation id of a command request: the body's, else an `Idempotency-Key` header, else a new one. */
function operationIdOf(c: Context, body: { operationId?: string | undefined }): string {
  return body.operationId ?? parseBoundary(OperationId.optional(), c.req.header('idempotency-key'), 'Idempotency-Key header') ?? newOperationId();
}
const KEEPALIVE_MS = 15_000;

/**
 * Where an events stream resumes: the `Last-Event-ID` header (what a browser's EventSource sends
 * when it reconnects), else the `after` query parameter; none (or empty) is from the start.
 * @throws ValidationError (400) when it is not an event id
 */
function resumeAfterOf(c: Context): string | undefined {
  const header = c.req.header('last-event-id');
  if (header) return parseBoundary(EventId, header, 'The Last-Event-ID header');
  const query = c.req.query('after');
  return query ? parseBoundary(EventId, query, 'The after query parameter') : undefined;
}

/**
 * `/v1/conversations`: start, list, read, wait for, stream, answer and cancel conversations. With
 * an `index`, conversations started here or read by id are listed by `GET /v1/conversations`.
 */
export function conversationRoutes(client: RedisHandoffClient, index?: ConversationIndex): Hono {
  const app = new Hono();

  app.get('/', async (c) => {
    const limit = Number(c.req.query('limit') ?? 50) || 50;
    return c.json({ conversations: index ? await index.list(limit) : [] });
  });

  app.post('/', async (c) => {
    // The coordinator adds the conversation to the index when it starts it.
    const handle = await client.start((await jsonBody(c)) as Parameters<RedisHandoffClient['start']>[0]);
    return c.json({ conversationId: handle.id }, 201);
  });

  app.get('/:id', async (c) => {
    const view = viewOfRecord(await client.conversation(c.req.param('id')).status());
    await index?.touch(view.conversationId, view.updatedAt);
    return c.json(view);
  });

  app.get('/:id/result', async (c) => {
    const waitMs = Math.min(Math.max(Number(c.req.query('waitMs') ?? 25_000) || 0, 0), 60_000);
    const afterVersion = c.req.query('afterVersion');
    const result = await client.conversation(c.req.param('id')).result({ timeoutMs: waitMs, ...(afterVersion === undefined ? {} : { afterVersion: Number(afterVersion) }) });
    return c.json(result);
  });

  app.get('/:id/events', async (c) => {
    const after = resumeAfterOf(c);
    const handle = client.conversation(c.req.param('id'));
    await handle.assertExists(); // 404 before the stream starts
    return streamSSE(c, async (stream) => {
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n'), KEEPALIVE_MS);
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      try {
        const events = handle.events(after ? { after } : {});
        for await (const event of events) {
          if (abort.signal.aborted) break;
          const { id, ...payload } = event;
          await stream.writeSSE({ id, event: event.type, data: JSON.stringify(payload) });
        }
      } finally {
        clearInterval(keepalive);
      }
    });
  });

  app.get('/:id/messages', async (c) => {
    // The transcript, a page at a time (?from=&limit=); the same page the clients' messages() return.
    return c.json(await client.conversation(c.req.param('id')).messages({ from: c.req.query('from'), limit: c.req.query('limit') } as TranscriptQuery));
  });

  app.post('/:id/messages', async (c) => {
    const body = parseBoundary(MessageRequest, await jsonBody(c), 'Message request');
    const operationId = operationIdOf(c, body);
    // Answered once the coordinator applied it (or refused it, with the reason).
    const afterVersion = await client.conversation(c.req.param('id')).sendForVersion(body.message, { operationId, ...(body.agent === undefined ? {} : { agent: body.agent }) });
    return c.json({ conversationId: c.req.param('id'), afterVersion, operationId }, 200);
  });

  app.post('/:id/approvals', async (c) => {
    const body = parseBoundary(ApprovalRequest, await jsonBody(c), 'Approval request');
    const operationId = operationIdOf(c, body);
    const afterVersion = await client.conversation(c.req.param('id')).decide(body.approved, { operationId, ...(body.toolCallId ? { toolCallId: body.toolCallId } : {}), ...(body.reason ? { reason: body.reason } : {}) });
    return c.json({ conversationId: c.req.param('id'), afterVersion, operationId }, 200);
  });

  app.post('/:id/cancel', async (c) => {
    const body = parseBoundary(CancelRequest, await jsonBody(c), 'Cancel request');
    const operationId = operationIdOf(c, body);
    const handle = client.conversation(c.req.param('id'));
    await handle.cancel(body.reason, { operationId });
    const { status } = await handle.status();
    return c.json({ conversationId: handle.id, status, operationId }, 200);
  });

  return app;
}
