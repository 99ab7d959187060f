import { describeEvent } from '@handoff/client';
import { viewOfRecord, type StoredEvent } from '@handoff/core';
import { connect } from './connect.js';

/** `handoff inspect <conversation-id>`: its status, path, context, output, and every event so far. */
export async function inspectCommand(conversationId: string, raw: Record<string, unknown>): Promise<void> {
  const connection = await connect(raw);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const record = await connection.client.conversation(conversationId).status();
    const events: StoredEvent[] = [];
    for (let after = '0'; ; ) {
      const batch = await connection.events.read(conversationId, { after, count: 1_000 });
      if (batch.length === 0) break;
      events.push(...batch);
      after = batch.at(-1)!.id;
    }
    if (raw.json) {
      out(JSON.stringify({ conversation: viewOfRecord(record), events }, null, 2));
      return;
    }
    out(`conversation ${record.conversationId} (network ${record.network})`);
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
  }
}
