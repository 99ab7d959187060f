import { describeEvent } from '@handoff/client';
import { MAX_TRANSCRIPT_PAGE, messageText, viewOfRecord, type ArchivedConversation, type StoredEvent, type TranscriptEntry, type TranscriptPage } from '@handoff/core';
import { openArchive } from '../archive.js';
import { parseArchiveFlags } from '../options.js';
import { connect, type Connection } from './connect.js';
import { ConversationStore } from '@handoff/redis';

/**
 * `handoff inspect <conversation-id>`: its status, path, context, output, and every event so far.
 * With `--archive-url`, a finished conversation that left Redis is read from the archive.
 */
export async function inspectCommand(conversationId: string, raw: Record<string, unknown>): Promise<void> {
  const archive = await openArchive(parseArchiveFlags(raw));
  const connection = await connect(raw, archive);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (raw.messages) {
      await printTranscript(connection, conversationId, Boolean(raw.json), out);
      return;
    }
    const inRedis = await new ConversationStore(connection.redis, connection.keys).existsOrStarting(conversationId);
    const archived: ArchivedConversation | null = !inRedis && archive ? await archive.load(conversationId) : null;
    const record = archived?.record ?? (await connection.client.conversation(conversationId).status());
    const events: StoredEvent[] = archived ? (archived.events as StoredEvent[]) : await connection.events.readAll(conversationId);
    if (raw.json) {
      out(JSON.stringify({ conversation: viewOfRecord(record), ...(archived ? { archivedAt: archived.archivedAt } : {}), events }, null, 2));
      return;
    }
    out(`conversation ${record.conversationId} (network ${record.network})`);
    if (archived) out(`  source   archive (archived ${new Date(archived.archivedAt).toISOString()}; no longer in Redis)`);
    out(`  status   ${record.status}${record.terminalReason ? ` (${record.terminalReason})` : ''}`);
    out(`  path     ${record.path.join(' → ')}`);
    out(`  context  ${JSON.stringify(record.context)}`);
    out(`  usage    ${record.usage.promptTokens} prompt + ${record.usage.completionTokens} completion tokens`);
    if (record.output !== null) out(`  output   ${record.output}`);
    if (record.error) out(`  error    ${record.error.code}: ${record.error.message}`);
    if (record.waiting) out(`  waiting  ${JSON.stringify(record.waiting)}`);
    out(`events (${events.length})`);
    let text = '';
    for (const event of events) {
      if (event.type === 'text.delta') {
        text += event.text;
        continue;
      }
      if (text) out(`  ${' '.repeat(15)} ${text.replace(/\s+/g, ' ')}`);
      text = '';
      out(`  ${event.id.padEnd(15)} ${describeEvent(event)}`);
    }
    if (text) out(`  ${' '.repeat(15)} ${text.replace(/\s+/g, ' ')}`);
  } finally {
    await connection.close();
    await archive?.close();
  }
}

/** The whole transcript, page by page: one line per message (`[index] role (agent): text`), or JSON. */
async function printTranscript(connection: Connection, conversationId: string, json: boolean, out: (line: string) => void): Promise<void> {
  const handle = connection.client.conversation(conversationId);
  const entries: TranscriptEntry[] = [];
  for (let from: number | null = 0; from !== null; ) {
    const page: TranscriptPage = await handle.messages({ from, limit: MAX_TRANSCRIPT_PAGE });
    entries.push(...page.entries);
    from = page.next;
  }
  if (json) {
    out(JSON.stringify({ conversationId, total: entries.length, entries }, null, 2));
    return;
  }
  out(`transcript of ${conversationId} (${entries.length} messages)`);
  for (const { index, agent, message } of entries) {
    const who = `${message.role}${agent ? ` (${agent})` : ''}`;
    const calls = message.role === 'assistant' && message.tool_calls?.length ? ` → ${message.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`).join(', ')}` : '';
    const text = message.role === 'tool' ? `[${message.tool_call_id}] ${message.content}` : messageText(message);
    out(`  [${index}] ${who}: ${text.replace(/\s+/g, ' ')}${calls}`);
  }
}
