import { ProviderUnavailableError } from '../redis/provisioned-redis.js';
import { startPostgresContainer } from './postgres-container.js';
import { PostgresServerProcess } from './postgres-server-process.js';
import { POSTGRES_PROVIDERS, type PostgresProvider, type ProvisionedPostgres, type StartPostgresOptions } from './provisioned-postgres.js';

const START: Record<PostgresProvider, () => Promise<ProvisionedPostgres>> = {
  testcontainers: startPostgresContainer,
  'postgres-process': async () => {
    const server = new PostgresServerProcess();
    await server.start();
    return { url: server.url, provider: 'postgres-process', stop: () => server.stop() };
  },
  env: async () => {
    const url = process.env['HANDOFF_TEST_POSTGRES_URL'];
    if (!url) throw new ProviderUnavailableError('HANDOFF_TEST_POSTGRES_URL is not set');
    return { url, provider: 'env', stop: async () => undefined };
  },
};

/**
 * Provides a PostgreSQL for tests, the way `startRedis` provides Redis: a testcontainers container
 * when an engine answers with the image at hand, else a private server process
 * ({@link PostgresServerProcess}: Debian's `postgresql` binaries, never the system's server), else
 * `HANDOFF_TEST_POSTGRES_URL`. Logs why each skipped provider failed.
 *
 * @throws when none works, saying what to install
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<ProvisionedPostgres> {
  const log = options.log ?? ((line: string) => console.warn(line));
  const prefer = options.prefer ?? defaultPostgresProviders();
  const failures: string[] = [];
  for (const provider of prefer) {
    try {
      return await START[provider]();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      failures.push(`${provider}: ${reason}`);
      log(`startPostgres: skipped ${provider} (${error instanceof ProviderUnavailableError ? 'unavailable' : 'failed'}: ${reason})`);
    }
  }
  throw new Error([`startPostgres: no PostgreSQL available (tried ${prefer.join(', ')}).`, ...failures.map((f) => `  - ${f}`), 'Install it: `apt-get install postgresql` (the tests start a private server), or set HANDOFF_TEST_POSTGRES_URL.'].join('\n'));
}

/** `HANDOFF_POSTGRES_PROVIDER` (comma-separated) when set, else every provider in order. */
export function defaultPostgresProviders(env: NodeJS.ProcessEnv = process.env): PostgresProvider[] {
  const raw = env['HANDOFF_POSTGRES_PROVIDER']?.trim();
  if (!raw) return [...POSTGRES_PROVIDERS];
  return raw.split(',').map((name) => {
    const trimmed = name.trim();
    if (!(POSTGRES_PROVIDERS as readonly string[]).includes(trimmed)) throw new Error(`HANDOFF_POSTGRES_PROVIDER: unknown provider "${trimmed}" (use ${POSTGRES_PROVIDERS.join(', ')})`);
    return trimmed as PostgresProvider;
  });
}
