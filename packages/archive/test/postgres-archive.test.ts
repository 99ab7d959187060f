import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ArchivedConversation, keyLayout, type ConversationRecord } from '@handoff/core';
import { PostgresServerProcess } from '@handoff/testing';
import { PostgresArchive, quoteTable } from '../dist/index.js';

/** A finished conversation as the archiver reads it from Redis. */
function finished(id: string, version: number, epoch: string, output: string): ArchivedConversation {
  const now = Date.now();
  const record: ConversationRecord = ArchivedConversation.shape.record.parse({
    conversationId: id, network: 'support', status: 'completed', entryAgent: 'Billing', epoch, version, appliedSeq: 1, currentAgent: 'Billing', path: ['Billing'],
    context: {}, historyLength: 2, maxHops: 10, next: null, waiting: null, output, error: null, terminalReason: 'final_output',
    usage: { promptTokens: 1, completionTokens: 1 }, parent: null, depth: 0, runStartSeq: 0, group: null,
    limits: { maxVisitsPerAgent: null, maxPingPong: null, deadlineAt: null, maxTokens: null }, failures: [], createdAt: now - 1_000, updatedAt: now,
  });
  return {
    conversationId: id,
    record,
    history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: output }],
    events: [
      { id: `${now - 1_000}-0`, type: 'conversation.started', conversationId: id, ts: now - 1_000, entryAgent: 'Billing', context: {} },
      { id: `${now}-0`, type: 'conversation.completed', conversationId: id, ts: now, result: { conversationId: id, status: 'completed', reason: 'final_output', agent: 'Billing', output, path: ['Billing'], context: {}, usage: { promptTokens: 1, completionTokens: 1 } } },
    ],
    endedAt: now,
    archivedAt: now,
  } as ArchivedConversation;
}

/** PostgresArchive against a private PostgreSQL server process (never the system's). */
describe('PostgresArchive', () => {
  const server = new PostgresServerProcess();
  let archive: PostgresArchive;

  beforeAll(async () => {
    await server.start();
    const sql = new pg.Client({ connectionString: server.url });
    await sql.connect();
    await sql.query('CREATE SCHEMA archive_unit');
    await sql.end();
    archive = new PostgresArchive({ url: server.url, table: 'archive_unit.conversations', poolSize: 2 });
  });
  afterAll(async () => {
    await archive?.close();
    await server.stop();
  });

  it('creates its table in the named schema on first use, from several callers at once', async () => {
    const others = Array.from({ length: 3 }, () => new PostgresArchive({ url: server.url, table: 'archive_unit.conversations' }));
    await Promise.all([archive.ensureTable(), ...others.map((other) => other.ensureTable())]);
    await Promise.all(others.map((other) => other.close()));
    expect(await archive.load('c_none')).toBeNull();
  });

  it('saves and loads a conversation whole, and an upsert replaces it unless the row is a later version of the same incarnation', async () => {
    await archive.save(finished('c_one', 3, 'e1', 'first end'));
    expect(await archive.load('c_one')).toMatchObject({ conversationId: 'c_one', record: { version: 3, output: 'first end' }, history: [{ role: 'user' }, { content: 'first end' }] });
    await archive.save(finished('c_one', 3, 'e1', 'first end')); // again: harmless
    await archive.save(finished('c_one', 7, 'e1', 'second end')); // revived and ended again
    expect((await archive.load('c_one'))?.record).toMatchObject({ version: 7, output: 'second end' });
    await archive.save(finished('c_one', 5, 'e1', 'a stale copy')); // an older version of the same incarnation: ignored
    expect((await archive.load('c_one'))?.record).toMatchObject({ version: 7, output: 'second end' });
    await archive.save(finished('c_one', 2, 'e2', 'a new conversation under the same id'));
    expect((await archive.load('c_one'))?.record).toMatchObject({ version: 2, epoch: 'e2' });
    const loaded = await archive.load('c_one');
    expect(loaded?.events.map((e) => e.type)).toEqual(['conversation.started', 'conversation.completed']);
  });

  it('reads with a user that may only SELECT, writes with one that may not CREATE, and finds nothing (not an error) before the table exists', async () => {
    const sql = new pg.Client({ connectionString: server.url });
    await sql.connect();
    await sql.query(`CREATE ROLE archive_reader LOGIN; GRANT USAGE ON SCHEMA archive_unit TO archive_reader; GRANT SELECT ON archive_unit.conversations TO archive_reader`);
    await sql.query(`CREATE ROLE archive_writer LOGIN; GRANT USAGE ON SCHEMA archive_unit TO archive_writer; GRANT SELECT, INSERT, UPDATE ON archive_unit.conversations TO archive_writer`);
    await sql.end();
    const reader = new PostgresArchive({ url: server.url.replace('postgres@', 'archive_reader@'), table: 'archive_unit.conversations' });
    expect((await reader.load('c_one'))?.conversationId).toBe('c_one');
    await reader.close();
    // A gateway's user with only SELECT, INSERT, UPDATE on a table made beforehand writes as well.
    const writer = new PostgresArchive({ url: server.url.replace('postgres@', 'archive_writer@'), table: 'archive_unit.conversations' });
    await writer.save(finished('c_written', 1, 'e1', 'by the writer'));
    expect((await writer.load('c_written'))?.record.output).toBe('by the writer');
    await writer.close();
    const fresh = new PostgresArchive({ url: server.url, table: 'archive_unit.not_created_yet' });
    expect(await fresh.load('c_one')).toBeNull();
    await fresh.close();
  });

  it('keeps text PostgreSQL jsonb would refuse (a NUL character) exactly', async () => {
    await archive.save(finished('c_nul', 1, 'e1', 'before\u0000after'));
    expect((await archive.load('c_nul'))?.record.output).toBe('before\u0000after');
  });

  it('refuses invalid options and table names, naming the field', () => {
    expect(() => new PostgresArchive({ url: 'mysql://x' })).toThrow(/url.*postgres:\/\//);
    expect(() => new PostgresArchive({ url: server.url, table: 'x"; DROP TABLE y; --' })).toThrow(/table/);
    expect(() => new PostgresArchive({ url: server.url, poolSize: 0 })).toThrow(/poolSize/);
    expect(() => quoteTable('Upper')).toThrow();
    expect(quoteTable('s.t')).toMatchObject({ sql: '"s"."t"', endedAtIndex: '"t_ended_at_idx"' });
    expect(keyLayout('handoff').archivePending).toBe('handoff:archive:pending');
  });

  it('says ARCHIVE_UNAVAILABLE, retryable, when PostgreSQL cannot be reached', async () => {
    const down = new PostgresArchive({ url: 'postgres://postgres:secret@127.0.0.1:1/postgres', connectTimeoutMs: 500 });
    await expect(down.load('c_one')).rejects.toMatchObject({ code: 'ARCHIVE_UNAVAILABLE', retryable: true });
    await expect(down.save(finished('c_two', 1, 'e1', 'x'))).rejects.toMatchObject({ code: 'ARCHIVE_UNAVAILABLE' });
    await down.close();
  });
});
