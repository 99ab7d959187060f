import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort, ManagedProcess, RedisServerProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { englishSpanishRules } from '@handoff/examples/dist/english-spanish/scripted-model.js';
import { HANDOFF_BIN, REPO_ROOT } from '../support/processes.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls-certificates.js';

const NETWORK = 'examples/dist/english-spanish/network.js';
const PREFIX = 'hf-acl';
const PASSWORD = 's3cret-acl-pass';

/**
 * Handoff over a Redis that only speaks TLS to it and only lets its ACL user touch keys and
 * channels under the deployment's prefix: the `rediss://user:password@host:port` URL is all the
 * configuration, and the CA comes from NODE_EXTRA_CA_CERTS.
 */
describe('Redis with TLS and an ACL user limited to the prefix', () => {
  let certs: TestCertificates;
  let redis: RedisServerProcess;
  let tlsPort: number;
  let model: ScriptedModel;

  beforeAll(async () => {
    certs = makeTestCertificates();
    tlsPort = await findFreePort();
    redis = new RedisServerProcess({
      args: [
        '--tls-port', String(tlsPort),
        '--tls-cert-file', certs.serverCert,
        '--tls-key-file', certs.serverKey,
        '--tls-ca-cert-file', certs.caCert,
        '--tls-auth-clients', 'no',
        // The plain port only answers PING (for the start-up check); everything else needs the user.
        '--user', 'default', 'on', 'nopass', '-@all', '+ping',
        '--user', 'handoff', 'on', `>${PASSWORD}`, `~${PREFIX}:*`, `&${PREFIX}:*`, '+@all', '-@dangerous', '+info',
      ],
    });
    await redis.start();
    model = await startScriptedModel({ rules: englishSpanishRules });
  });
  afterAll(async () => {
    await model?.close();
    await redis?.stop();
  });

  const handoff = async (args: string[], redisUrl: string) => {
    const child = await ManagedProcess.start({
      name: `handoff ${args[0]}`,
      command: process.execPath,
      args: [HANDOFF_BIN, ...args],
      cwd: REPO_ROOT,
      env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test', LOG_LEVEL: 'warn', REDIS_URL: redisUrl, HANDOFF_PREFIX: PREFIX, NODE_EXTRA_CA_CERTS: certs.caCert },
    });
    const exit = await child.exited;
    return { code: exit.code, out: child.lines.join('\n') };
  };

  it('runs a conversation end to end and keeps every key under the prefix', async () => {
    const url = `rediss://handoff:${PASSWORD}@127.0.0.1:${tlsPort}`;
    const { code, out } = await handoff(['run', '--network', NETWORK, '¿cuanto es 2+2?'], url);
    expect(code, out).toBe(0);
    expect(out).toMatch(/answer {2}2 \+ 2 son 4\./);

    const sameUser = new Redis(url, { tls: { ca: readFileSync(certs.caCert) } });
    try {
      const [, keys] = await sameUser.scan('0', 'MATCH', `${PREFIX}:*`, 'COUNT', 10_000);
      expect(keys.length).toBeGreaterThan(0);
      // The ACL is really in force: the same user may not write outside the prefix.
      await expect(sameUser.set('outside-the-prefix', '1')).rejects.toThrow(/NOPERM/);
    } finally {
      sameUser.disconnect();
    }
  });

  it('stops with a clear error on a wrong password', async () => {
    const { code, out } = await handoff(['run', '--network', NETWORK, 'hello'], `rediss://handoff:wrong@127.0.0.1:${tlsPort}`);
    expect(code).toBe(2);
    expect(out).toMatch(/Redis refused the login \(WRONGPASS .*\)\. Fix the user and password in the URL/);
  });
});
