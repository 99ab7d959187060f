/**
 * A scripted model server in a process of its own, so that load runs do not share an event loop
 * with it. Prints `model-server ready <url>` once listening; stops on SIGTERM.
 */
import { startScriptedModel } from '@handoff/testing';
import { CHAIN_RULES } from './chain-script.js';

const model = await startScriptedModel({ rules: CHAIN_RULES, chunkSize: 64 });
console.log(`model-server ready ${model.url}`);
setInterval(() => model.clearRequests(), 2_000).unref(); // keep memory flat: records are not needed here
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void model.close().then(() => process.exit(0)));
