#!/usr/bin/env node
import { Command } from 'commander';
import { isHandoffError } from '@handoff/core';
import { gatewayCommand } from './commands/gateway.js';
import { workerCommand } from './commands/worker.js';

const program = new Command()
  .name('handoff')
  .description('Run the agents and the coordinator of a Handoff network.\nEnvironment: REDIS_URL, OPENAI_BASE_URL, OPENAI_API_KEY, LOG_LEVEL.');

const common = (command: Command) =>
  command
    .requiredOption('-n, --network <module>', 'module whose default export is the network (.js or .ts)')
    .option('--redis-url <url>', 'Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379)')
    .option('--prefix <prefix>', 'key prefix of the deployment (default: handoff)')
    .option('-c, --concurrency <n>', 'jobs processed at once');

common(program.command('worker').description('run agents of the network as workers on their queues'))
  .option('-a, --agents <names>', 'comma-separated agents to serve (default: all)')
  .action(workerCommand);

common(program.command('gateway').description('run the coordinator of the network')).action(gatewayCommand);

program.parseAsync().catch((error: unknown) => {
  if (isHandoffError(error)) {
    process.stderr.write(`handoff: ${error.code}: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`handoff: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
