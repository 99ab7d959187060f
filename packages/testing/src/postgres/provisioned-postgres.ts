/** Where a PostgreSQL for tests comes from: a testcontainers container, a private server process, or `HANDOFF_TEST_POSTGRES_URL`. */
export type PostgresProvider = 'testcontainers' | 'postgres-process' | 'env';

/** All providers, in the default order of preference. */
export const POSTGRES_PROVIDERS: readonly PostgresProvider[] = ['testcontainers', 'postgres-process', 'env'];

/** A PostgreSQL that tests can use (a database of their own, trust or URL credentials). */
export interface ProvisionedPostgres {
  /** `postgres://user@host:port/database`. */
  readonly url: string;
  /** Which provider made it. */
  readonly provider: PostgresProvider;
  /** Stops the container or process (a no-op for `env`). Safe to call twice. */
  stop(): Promise<void>;
}

/** Options of `startPostgres`. */
export interface StartPostgresOptions {
  /** Providers to try, in order. Default: `HANDOFF_POSTGRES_PROVIDER` (comma-separated) when set, else all of {@link POSTGRES_PROVIDERS}. */
  prefer?: PostgresProvider[];
  /** Where to report why a provider was skipped; default `console.warn`. */
  log?: (line: string) => void;
}
