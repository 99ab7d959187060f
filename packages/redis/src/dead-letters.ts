import type { Job } from 'bullmq';
import { ErrorCode, HandoffError, newInstanceId } from '@handoff/core';
import { HopLane } from './hop-lane.js';
import type { DeadLetter, QueueSet } from './queues.js';

/** A dead letter with its id in the dead-letter queue. */
export interface StoredDeadLetter extends DeadLetter {
  id: string;
}

/** The dead letters, newest first. */
export async function listDeadLetters(queues: QueueSet, options: { offset?: number; limit?: number } = {}): Promise<StoredDeadLetter[]> {
  const offset = options.offset ?? 0;
  const jobs: Job[] = await queues.deadLetter.getJobs(['waiting'], offset, offset + (options.limit ?? 100) - 1, false);
  return jobs.flatMap((job) => (job.id ? [{ id: job.id, ...(job.data as DeadLetter) }] : []));
}

/**
 * Replays a dead letter: its payload goes back, untouched, onto the queue it came from — under
 * its original job id, so a hop keeps its deterministic id (a hop goes back onto its agent's hop
 * lane) — and the letter is removed. Use it
 * after fixing what made the job fail (a deploy, a model endpoint back up).
 * @returns the id of the job added again.
 */
export async function replayDeadLetter(queues: QueueSet, id: string): Promise<string> {
  const job = await queues.deadLetter.getJob(id);
  if (!job) throw new HandoffError(ErrorCode.VALIDATION_FAILED, `No dead letter with id "${id}".`, { details: { id } });
  const letter = job.data as DeadLetter;
  const target = queues.byName(letter.sourceQueue);
  if (!target) throw new HandoffError(ErrorCode.VALIDATION_FAILED, `Dead letter "${id}" came from an unknown queue "${letter.sourceQueue}".`);
  let added: string;
  if (target instanceof HopLane) {
    // A hop goes back under its hop job id (a new one when the letter has none); what is left of it in the lane goes first.
    added = letter.jobId ?? `replay-${newInstanceId('hop')}`;
    await target.remove(added);
    if (!(await target.push(added, typeof letter.payload === 'string' ? letter.payload : JSON.stringify(letter.payload)))) {
      throw new HandoffError(ErrorCode.VALIDATION_FAILED, `Dead letter "${id}": hop ${added} is held by a worker right now; replay it once that run ends.`, { details: { id } });
    }
  } else {
    const existing = letter.jobId ? await target.getJob(letter.jobId) : undefined;
    if (existing) await existing.remove();
    added = (await target.add('replay', letter.payload, { ...(letter.jobId ? { jobId: letter.jobId } : {}), removeOnComplete: { count: 1_000 }, attempts: 5 })).id ?? '';
  }
  await job.remove();
  return added;
}
