import { createInterface } from 'node:readline/promises';
import { createClient, describeEvent, type ConversationHandle } from '@handoff/client';
import { LOG_REDACTION, ValidationError, type ContextVariables, type ConversationResult } from '@handoff/core';
import { startGateway, type Gateway } from '@handoff/gateway';
import { startWorkers, type WorkerGroup } from '@handoff/worker';
import pino from 'pino';
import { assertRedisReachable, resolveRedisConfig } from '@handoff/redis';
import { loadNetwork } from '../load-network.js';
import { durabilityFromFlags, parseFlags, redisConfigFromFlags } from '../options.js';
import { Spinner } from '../spinner.js';
import { startTracingFromEnv } from '../tracing.js';

/**
 * `handoff run --network <module> [--agent X] "message"`: runs one conversation and prints its
 * events as they happen, then the path and the answer. Without `--attach` it starts the network's
 * gateway and workers inside this process (against the same Redis); with it, it uses the ones
 * running. On a terminal, when the conversation waits for the user, it asks for the reply.
 * Exits 0 when the conversation completed, 1 otherwise.
 */
export async function runCommand(message: string, raw: Record<string, unknown>): Promise<void> {
  const { agent, attach, context: contextFlag, ...rest } = raw;
  const flags = parseFlags(rest);
  const context = contextFlag === undefined ? undefined : parseContextFlag(String(contextFlag));
  const network = await loadNetwork(flags.network);
  const redis = redisConfigFromFlags(flags);
  // One conversation, then exit: an unreachable Redis ends it with a message, not a silent wait.
  await assertRedisReachable(resolveRedisConfig(redis).url, flags.connectTimeout);
  const quiet = pino({ level: process.env.LOG_LEVEL ?? 'warn', redact: LOG_REDACTION }, pino.destination(2));
  const tracing = await startTracingFromEnv('run');
  let gateway: Gateway | undefined;
  let workers: WorkerGroup | undefined;
  if (!attach) {
    // The same lock, stall, drain and eviction flags as `handoff gateway` and `handoff worker`.
    const durability = durabilityFromFlags(flags);
    gateway = await startGateway({ network, redis, logger: quiet, ...durability });
    workers = await startWorkers({ network, redis, logger: quiet, ...durability, ...(flags.agents ? { agents: flags.agents } : {}), ...(flags.concurrency ? { concurrency: flags.concurrency } : {}) });
  }
  const client = createClient({ redis });
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  try {
    const conversation = await client.start({ input: message, ...(typeof agent === 'string' ? { agent } : {}), ...(context === undefined ? {} : { context }) });
    process.stdout.write(`conversation ${conversation.id}\n`);
    const cursor = { after: '0' };
    let result = await follow(conversation, cursor, interactive);
    while (result.status === 'awaiting_user' && interactive) {
      const reply = await ask(result);
      if (reply === '') break;
      if (result.waiting?.kind === 'approval') await (['y', 'yes'].includes(reply.toLowerCase()) ? conversation.approve() : conversation.reject({ reason: reply }));
      else await conversation.send(reply);
      result = await follow(conversation, cursor, interactive);
    }
    process.stdout.write(`\npath    ${result.path.join(' → ')}\nstatus  ${result.status} (${result.reason})\n`);
    if (result.output) process.stdout.write(`answer  ${result.output}\n`);
    if (result.error) process.stdout.write(`error   ${result.error.code}: ${result.error.message}\n`);
    process.exitCode = result.status === 'completed' || result.status === 'awaiting_user' ? 0 : 1;
  } finally {
    await client.close();
    await workers?.close();
    await gateway?.close();
    await tracing?.shutdown();
  }
}

/** Prints the conversation's events from `cursor` on until it stops; returns how it stopped. */
async function follow(handle: ConversationHandle, cursor: { after: string }, interactive: boolean): Promise<ConversationResult> {
  const spinner = new Spinner(interactive);
  const done = handle.result({ timeoutMs: 600_000 });
  let stopped = false;
  void done.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  let streaming = false;
  spinner.start('waiting for the coordinator');
  while (!stopped) {
    try {
      for await (const event of handle.events({ after: cursor.after, timeoutMs: 1_000 })) {
        cursor.after = event.id;
        spinner.clear();
        if (event.type === 'text.delta') {
          process.stdout.write(streaming ? event.text : `  ${event.agent}: ${event.text}`);
          streaming = true;
          continue;
        }
        if (streaming) process.stdout.write('\n');
        streaming = false;
        process.stdout.write(`  ${describeEvent(event)}\n`);
        if (event.type === 'agent.started') spinner.start(`${event.agent} is working`);
      }
    } catch {
      // a second without an event: check whether the conversation stopped
    }
  }
  spinner.clear();
  if (streaming) process.stdout.write('\n');
  return done;
}

async function ask(result: ConversationResult): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const waiting = result.waiting;
    const prompt =
      waiting?.kind === 'approval'
        ? `approve ${waiting.calls.map((c) => `${c.name}(${c.arguments})`).join(', ')}? [y / reason to reject] `
        : waiting?.kind === 'user' && waiting.mode === 'ask'
          ? `${waiting.question ?? 'who continues?'} (${(waiting.choices ?? []).join(', ')}) > `
          : 'you > ';
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

/**
 * The `--context` flag: a JSON object of context variables.
 * @throws ValidationError naming the flag when it is not JSON or not an object
 */
function parseContextFlag(text: string): ContextVariables {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`--context must be a JSON object, e.g. '{"userId":42}': ${error instanceof Error ? error.message : String(error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(`--context must be a JSON object, e.g. '{"userId":42}', not ${JSON.stringify(value)}`);
  return value as ContextVariables;
}
