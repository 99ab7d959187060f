import { listDeadLetters, replayDeadLetter } from '@handoff/redis';
import { connect } from './connect.js';

/** `handoff dlq list`: the dead letters, newest first. */
export async function dlqListCommand(raw: Record<string, unknown>): Promise<void> {
  const connection = await connect(raw);
  try {
    const letters = await listDeadLetters(connection.queues, { limit: Number(raw.limit ?? 50) });
    if (raw.json) {
      process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
      return;
    }
    if (letters.length === 0) process.stdout.write('no dead letters\n');
    for (const letter of letters) {
      process.stdout.write(`${letter.id}  ${new Date(letter.deadAt).toISOString()}  ${letter.sourceQueue}  ${letter.conversationId ?? '-'}  ${letter.error.code}: ${letter.error.message}\n`);
    }
  } finally {
    await connection.close();
  }
}

/** `handoff dlq replay <id>`: puts a dead letter's job back on its queue. */
export async function dlqReplayCommand(id: string, raw: Record<string, unknown>): Promise<void> {
  const connection = await connect(raw);
  try {
    const jobId = await replayDeadLetter(connection.queues, id);
    process.stdout.write(`replayed ${id} as job ${jobId}\n`);
  } finally {
    await connection.close();
  }
}
