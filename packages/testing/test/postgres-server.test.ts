import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresServerProcess, TcpRelay } from '../dist/index.js';

async function query(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** A private PostgreSQL server process, and a relay that can be closed in front of it. */
describe('PostgresServerProcess and TcpRelay', () => {
  const server = new PostgresServerProcess();
  afterAll(() => server.stop());

  it('runs a private server on a free loopback port (never 5432), stops and starts it again with its data', async () => {
    await server.start();
    expect(server.port).not.toBe(5432);
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    await query(server.url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await server.kill();
    expect(server.running).toBe(false);
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    await server.start();
    expect(await query(server.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
  });

  it('a relay forwards, refuses while closed, and forwards again on the same port', async () => {
    await server.start();
    const relay = await TcpRelay.start({ host: '127.0.0.1', port: server.port });
    const url = relay.rewrite(server.url);
    expect(new URL(url).port).toBe(String(relay.port));
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await relay.close();
    await expect(query(url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
    await relay.open();
    expect(await query(url, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
    await relay.close();
  });

  it('removes its data directory on stop', async () => {
    const other = new PostgresServerProcess();
    await other.start();
    const dir = (await query(other.url, 'SHOW data_directory'))[0] as { data_directory: string };
    expect(existsSync(dir.data_directory)).toBe(true);
    await other.stop();
    expect(existsSync(dir.data_directory)).toBe(false);
  });
});
