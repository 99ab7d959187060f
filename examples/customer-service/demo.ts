/**
 * The demo: the seed's customer-service network run as separate processes — one gateway and two
 * worker processes — driven through the client, with every event printed as it happens.
 *
 * Offline by default: a scripted OpenAI-compatible model stands in unless OPENAI_API_KEY is set.
 * A private Redis is started unless REDIS_URL is set.
 *
 *   node examples/dist/customer-service/demo.js ["your question" …]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, describeEvent } from '@handoff/client';
import { ManagedProcess, startRedis, startScriptedModel, type ProvisionedRedis, type ScriptedModel } from '@handoff/testing';
import { customerServiceRules } from './scripted-model.js';

const QUESTIONS = [
  'I was charged twice on my last invoice, can I get a refund?',
  'How much does the Team plan cost if I buy 10 seats?',
  'The desktop app crashes with an error on startup.',
];

const here = dirname(fileURLToPath(import.meta.url));
const networkModule = join(here, 'network.js');
const cliBin = join(dirname(createRequire(import.meta.url).resolve('@handoff/cli/package.json')), 'dist', 'bin.js');

async function main(): Promise<void> {
  const questions = process.argv.slice(2).length > 0 ? process.argv.slice(2) : QUESTIONS;
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    let redis: ProvisionedRedis | undefined;
    if (!process.env.REDIS_URL) {
      redis = await startRedis({ prefer: ['redis-server', 'testcontainers'] });
      cleanup.push(() => redis!.stop());
    }
    const redisUrl = process.env.REDIS_URL ?? redis!.url;
    let model: ScriptedModel | undefined;
    if (!process.env.OPENAI_API_KEY) {
      model = await startScriptedModel({ rules: customerServiceRules, latencyMs: 30 });
      cleanup.push(() => model!.close());
    }
    const prefix = `demo-${process.pid}`;
    const env = {
      REDIS_URL: redisUrl,
      HANDOFF_PREFIX: prefix,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(model ? { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'offline-demo' } : {}),
    };
    console.log(`Redis: ${redis ? `private ${redis.provider} at ${redisUrl}` : redisUrl}`);
    console.log(`Model: ${model ? `scripted OpenAI-compatible server at ${model.url} (set OPENAI_API_KEY to use a real model)` : process.env.OPENAI_BASE_URL ?? 'api.openai.com'}`);

    const start = (name: string, args: string[]) =>
      ManagedProcess.start({ name, command: process.execPath, args: [cliBin, ...args, '--network', networkModule], env: { ...env, LOG_LEVEL: 'info' }, readyPattern: /"msg":"ready"/ });
    const processes = await Promise.all([
      start('gateway', ['gateway']),
      start('router worker', ['worker', '--agents', 'CustomerService']),
      start('specialist worker', ['worker', '--agents', 'TechSupport,Sales,Billing']),
    ]);
    cleanup.push(() => Promise.all(processes.map((p) => p.stop())));
    console.log(`Processes: gateway pid ${processes[0]!.pid}, workers pid ${processes[1]!.pid} (CustomerService) and ${processes[2]!.pid} (TechSupport, Sales, Billing)\n`);

    const client = createClient({ redis: { url: redisUrl, prefix } });
    cleanup.push(() => client.close());
    for (const question of questions) {
      console.log(`\nCustomer: ${question}`);
      const conversation = await client.start({ agent: 'CustomerService', input: question });
      let streaming = false;
      for await (const event of conversation.events({ timeoutMs: 120_000 })) {
        if (event.type === 'text.delta') {
          process.stdout.write(streaming ? event.text : `  ${event.agent}: ${event.text}`);
          streaming = true;
          continue;
        }
        if (streaming) process.stdout.write('\n');
        streaming = false;
        console.log(`  ${describeEvent(event)}`);
      }
      const result = await conversation.result();
      console.log(`  result: ${result.status} by ${result.agent}, path ${result.path.join(' → ')}`);
    }
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
