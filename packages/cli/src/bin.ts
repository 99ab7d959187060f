#!/usr/bin/env node
import { Command } from 'commander';
import { isHandoffError } from '@handoff/core';

// Each command loads only what it runs (a worker process does not load the gateway, and so on).
const program = new Command()
  .name('handoff')
  .description('Run the agents and the coordinator of a Handoff network.\nEnvironment: REDIS_URL, HANDOFF_PREFIX, OPENAI_BASE_URL, OPENAI_API_KEY, HANDOFF_MODEL, LOG_LEVEL.');

const common = (command: Command) =>
  command
    .option('-n, --network <module>', 'module whose default export is the network (.js or .ts); required here or in --config')
    .option('--redis-url <url>', 'Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--prefix <prefix>', 'key prefix of the deployment (default: handoff)')
    .option('--redis-cluster', 'the Redis URL is a node of a Redis Cluster (default: $HANDOFF_REDIS_CLUSTER); keys spread over its shards')
    .option('-c, --concurrency <n>', 'jobs processed at once')
    .option('--lock-duration <ms>', 'lease of a running hop (a worker) or lock of a running coordinator job (a gateway), renewed while it runs ($HANDOFF_LOCK_DURATION_MS; default 60000 for workers)')
    .option('--stalled-interval <ms>', 'how often hops whose lease ran out (a dead worker\'s) are looked for ($HANDOFF_STALLED_INTERVAL_MS; default 30000)')
    .option('--max-stalled-count <n>', 'times a hop may be recovered from a dead worker before it fails ($HANDOFF_MAX_STALLED_COUNT; default 3)')
    .option('--drain-timeout <ms>', 'on SIGTERM, how long running jobs may finish before they are handed back ($HANDOFF_DRAIN_TIMEOUT_MS; default 25000)')
    .option('--connect-timeout <ms>', 'give up when Redis does not answer within this long at start ($HANDOFF_CONNECT_TIMEOUT_MS; default 30000 for worker and gateway, 5000 for run)')
    .option('--allow-eviction', 'run even if Redis maxmemory-policy is not noeviction, with a warning ($HANDOFF_ALLOW_EVICTION=1)')
    .option('--config <file>', 'a JSON config file with these settings in camelCase (flags and HANDOFF_* override it)');

common(program.command('worker').description('run agents of the network as workers on their queues'))
  .option('-a, --agents <names>', 'comma-separated agents to serve (default: all)')
  .option('--no-journal', 'do not journal turns: a hop run again after a crash calls the model and runs its tools again ($HANDOFF_JOURNAL=off)')
  .action(async (options: Record<string, unknown>) => (await import('./commands/worker.js')).workerCommand(options));

common(program.command('gateway').description('run the coordinator of the network, and its HTTP API with --http-port'))
  .option('--http-port <port>', 'serve the HTTP API on this port ($HANDOFF_HTTP_PORT; 0 picks a free one)')
  .option('--http-host <host>', 'address to listen on (default 0.0.0.0)')
  .option('--api-keys <keys>', 'comma-separated bearer tokens the HTTP API accepts ($HANDOFF_API_KEYS)')
  .option('--no-auth', 'turn HTTP authentication off, for local use only ($HANDOFF_AUTH=off)')
  .option('--cors-origin <origins>', 'comma-separated origins allowed by CORS ($HANDOFF_CORS_ORIGINS)')
  .option('--retention <seconds>', 'how long finished conversations are kept ($HANDOFF_RETENTION_SECONDS; default 7 days)')
  .option('--event-retention <seconds>', 'how long the event log of a finished conversation is kept, at most --retention ($HANDOFF_EVENT_RETENTION_SECONDS; default 1 day)')
  .option('--dlq-max-age <ms>', 'dead letters older than this are removed ($HANDOFF_DLQ_MAX_AGE_MS; default 30 days)')
  .option('--dlq-max-count <n>', 'dead letters kept at most, the oldest removed beyond it ($HANDOFF_DLQ_MAX_COUNT; default 10000)')
  .option('--reconcile-after <ms>', 'a conversation without progress this long has its pending hop checked: published again if its job is gone, moved to a fallback if its agent has no live worker ($HANDOFF_RECONCILE_AFTER_MS; default 10000)')
  .option('--coordinator-partitions <n>', 'coordinator queue partitions, each its own queue and Redis Cluster slot; every gateway of a deployment must use the same ($HANDOFF_COORDINATOR_PARTITIONS; default 8)')
  .option('--reconcile-interval <ms>', 'how often the reconciler looks ($HANDOFF_RECONCILE_INTERVAL_MS; default 2000)')
  .option('--archive-url <url>', 'archive finished conversations to this PostgreSQL (postgres://user:password@host:5432/db; $HANDOFF_ARCHIVE_URL); reads fall back to it once they left Redis')
  .option('--archive-table <name>', 'the archive table, name or schema.name, created if missing ($HANDOFF_ARCHIVE_TABLE; default handoff_conversations)')
  .option('--archive-keep <seconds>', 'how long an archived conversation stays in Redis ($HANDOFF_ARCHIVE_KEEP_SECONDS; default 3600)')
  .action(async (options: Record<string, unknown>) => (await import('./commands/gateway.js')).gatewayCommand(options));

program
  .command('dev')
  .description('local development in one process: a private redis-server (unless REDIS_URL), the gateway, HTTP API and console, a worker for every agent; reloads the network when its file changes')
  .requiredOption('-n, --network <module>', 'module whose default export is the network (.js or .ts); watched for changes')
  .option('--redis-url <url>', 'use this Redis instead of a private redis-server (default: $REDIS_URL)')
  .option('--prefix <prefix>', 'key prefix (default: handoff)')
  .option('--http-port <port>', 'port of the HTTP API and console (default 8080; 0 picks a free one)')
  .option('--http-host <host>', 'address to listen on (default 127.0.0.1)')
  .option('--drain-timeout <ms>', 'how long running turns may finish on a reload or Ctrl-C (default 5000)')
  .action(async (options: Record<string, unknown>) => (await import('./commands/dev.js')).devCommand(options));

common(program.command('run').description('run one conversation and print its events live, then its path (starts the network in this process unless --attach)'))
  .argument('<message>', "the user's message")
  .option('--agent <name>', 'the entry agent or router (default: the network entry)')
  .option('--attach', 'use the gateway and workers already running')
  .option('--context <json>', 'the conversation\'s context variables, a JSON object, e.g. \'{"userId":42}\'')
  .option('-a, --agents <names>', 'agents to run in this process (default: all)')
  .action(async (message: string, options: Record<string, unknown>) => (await import('./commands/run.js')).runCommand(message, options));

const connection = (command: Command) =>
  command
    .option('--redis-url <url>', 'Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--prefix <prefix>', 'key prefix of the deployment (default: handoff)')
    .option('--redis-cluster', 'the Redis URL is a node of a Redis Cluster (default: $HANDOFF_REDIS_CLUSTER); keys spread over its shards')
    .option('--config <file>', 'a JSON config file with the same settings')
    .option('--connect-timeout <ms>', 'give up when Redis does not answer within this long ($HANDOFF_CONNECT_TIMEOUT_MS; default 5000)')
    .option('--json', 'print JSON');

connection(program.command('inspect').description("print a conversation's status, path, context and events (from the archive once it left Redis, with --archive-url)"))
  .argument('<conversation-id>')
  .option('--messages', 'print its transcript (every message, with the agent that wrote it) instead of its events')
  .option('--archive-url <url>', 'the PostgreSQL archive of finished conversations ($HANDOFF_ARCHIVE_URL)')
  .option('--archive-table <name>', 'the archive table ($HANDOFF_ARCHIVE_TABLE; default handoff_conversations)')
  .action(async (id: string, options: Record<string, unknown>) => (await import('./commands/inspect.js')).inspectCommand(id, options));

const dlq = program.command('dlq').description('the dead-letter queue');
connection(dlq.command('list').description('list dead letters, newest first'))
  .option('--limit <n>', 'how many', '50')
  .action(async (options: Record<string, unknown>) => (await import('./commands/dlq.js')).dlqListCommand(options));
connection(dlq.command('replay').description('put a dead letter back on the queue it came from'))
  .argument('<id>')
  .action(async (id: string, options: Record<string, unknown>) => (await import('./commands/dlq.js')).dlqReplayCommand(id, options));

program
  .command('model')
  .description('serve a scripted OpenAI-compatible model for offline runs (rules: see @handoff/testing; stops on SIGINT/SIGTERM)')
  .requiredOption('--rules <file>', 'JSON file: { "rules": [{ "when"?: { "lastUserIncludes"?, "systemIncludes"?, "hasTool"? }, "reply": { "content"?, "toolCalls"?, "delayMs"?, "error"? }, "times"? }] }')
  .option('--port <port>', 'port to listen on (0 picks a free one)', '4010')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .action(async (options: Record<string, unknown>) => (await import('./commands/model.js')).modelCommand(options));

/** A fix for Redis refusing the connection's user, or undefined for other errors. */
function redisAccessHint(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  if (/^(WRONGPASS|NOAUTH)/.test(message)) return `Redis refused the login (${message}). Fix the user and password in the URL: rediss://user:password@host:port.`;
  if (/^NOPERM/.test(message)) return `Redis refused a command (${message}). The ACL user needs ~<prefix>:* keys, &<prefix>:* channels, +@all -@dangerous +info.`;
  return undefined;
}

program.parseAsync().catch((error: unknown) => {
  if (isHandoffError(error)) {
    process.stderr.write(`handoff: ${error.code}: ${error.message}\n`);
    process.exit(2);
  }
  const hint = redisAccessHint(error);
  if (hint) {
    process.stderr.write(`handoff: ${hint}\n`);
    process.exit(2);
  }
  process.stderr.write(`handoff: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
