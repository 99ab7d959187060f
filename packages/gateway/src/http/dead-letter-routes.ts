import { Hono } from 'hono';
import { ErrorCode, HandoffError } from '@handoff/core';
import { listDeadLetters, replayDeadLetter, type QueueSet, type StoredDeadLetter } from '@handoff/redis';

/** How much of a dead letter's payload a list entry shows. */
const PREVIEW_CHARS = 2_000;

function summary(letter: StoredDeadLetter) {
  const { payload, ...rest } = letter;
  const json = JSON.stringify(payload) ?? 'undefined';
  return { ...rest, payloadBytes: Buffer.byteLength(json), payloadPreview: json.length > PREVIEW_CHARS ? `${json.slice(0, PREVIEW_CHARS)}…` : json };
}

/**
 * `/v1/dead-letters`: the jobs that could not be processed (newest first, payloads shortened),
 * one letter in full, and replay — the payload goes back onto the queue it came from.
 */
export function deadLetterRoutes(queues: QueueSet): Hono {
  const app = new Hono();

  app.get('/', async (c) => {
    const offset = Math.max(Math.floor(Number(c.req.query('offset') ?? 0)) || 0, 0);
    const limit = Math.min(Math.max(Math.floor(Number(c.req.query('limit') ?? 100)) || 100, 1), 500);
    const [letters, total] = await Promise.all([listDeadLetters(queues, { offset, limit }), queues.deadLetter.getWaitingCount()]);
    return c.json({ deadLetters: letters.map(summary), total, offset, limit });
  });

  const find = async (id: string) => {
    const job = await queues.deadLetter.getJob(id);
    if (!job) throw new HandoffError(ErrorCode.NOT_FOUND, `No dead letter with id "${id}".`, { details: { id } });
    return job;
  };

  app.get('/:id', async (c) => {
    const job = await find(c.req.param('id'));
    return c.json({ id: job.id, ...(job.data as object) });
  });

  app.post('/:id/replay', async (c) => {
    const id = c.req.param('id');
    await find(id);
    const jobId = await replayDeadLetter(queues, id);
    return c.json({ id, replayed: true, jobId }, 202);
  });

  return app;
}
