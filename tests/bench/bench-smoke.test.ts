import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagedProcess } from '@handoff/testing';
import { REPO_ROOT } from '../support/processes.js';

/**
 * The benchmark's smoke run: it runs every scenario briefly and writes its JSON and Markdown
 * reports. It asserts no timing — these machines are shared and noisy — only that every section
 * was measured and reported.
 */
describe('pnpm bench --smoke', () => {
  it('runs every scenario and writes its reports', async () => {
    const out = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
    try {
      const run = await ManagedProcess.start({ name: 'bench', command: process.execPath, args: ['bench/dist/run.js', '--smoke', '--out', out], cwd: REPO_ROOT });
      const exit = await run.exited;
      expect(exit.code, run.lines.slice(-40).join('\n')).toBe(0);
      const report = JSON.parse(await readFile(join(out, 'latest-smoke.json'), 'utf8'));
      expect(report.mode).toBe('smoke');
      expect(report.floor.payload1KB.n).toBeGreaterThan(0);
      expect(report.floor.list1KB.n).toBe(report.floor.payload1KB.n);
      expect(report.runtime['1KB'].handoff.n).toBeGreaterThan(0);
      expect(Object.keys(report.runtime['1KB'].stages)).toEqual(['workerTail', 'coordinator', 'queueWait', 'workerHead']);
      // The deployment shape: separate processes, measured from the client, without and with added load.
      for (const run of [report.deployment.quiet, report.deployment.loaded]) {
        expect(run.chain.n).toBeGreaterThan(0);
        expect(run.single.n).toBe(run.chain.n);
        expect(run.modelToolCall.p50).toBeGreaterThan(0);
        expect(Number.isFinite(run.perHandoffMs)).toBe(true);
      }
      expect(report.deployment.loaded.backgroundBusyProcesses).toBe(1);
      expect(report.sdk['1KB'].handoff.n).toBeGreaterThan(0);
      expect(Object.keys(report.history)).toEqual(['10msg', '100msg', '1000msg']);
      expect(report.throughput[0].handoffsPerSecond).toBeGreaterThan(0);
      expect(report.throughput[0].failed).toBe(0);
      expect(report.memory.idleWorkerRssMb).toBeGreaterThan(0);
      expect(report.memory.redisBytesPerFinishedConversation).toBeGreaterThan(0);
      expect(report.streaming.textDeltaEventsPer1000Tokens).toBeGreaterThan(0);
      // The turn journal, on and off: a tool call per handoff on both sides, and Redis work counted.
      for (const side of ['on', 'off']) {
        expect(report.journal[side].toolCall.n).toBeGreaterThan(0);
        expect(report.journal[side].handoff.n).toBeGreaterThan(0);
        expect(report.journal[side].scriptsPerHandoff).toBeGreaterThan(0);
      }
      // The journal's writes around each tool call are Redis scripts the run without it does not make.
      expect(report.journal.on.scriptsPerHandoff).toBeGreaterThan(report.journal.off.scriptsPerHandoff);
      // Redis's instructions per handoff (valgrind is on every machine of this kind), with the committed "before".
      expect(report.redisCost.instructionsPerHandoff).toBeGreaterThan(0);
      expect(report.redisCostBefore.instructionsPerHandoff).toBeGreaterThan(0);
      expect(report.targets.length).toBeGreaterThanOrEqual(6);
      const markdown = await readFile(join(out, 'latest-smoke.md'), 'utf8');
      expect(markdown).toMatch(/^# Handoff benchmark \(smoke\)/);
      expect(markdown).toMatch(/## Targets/);
      expect(markdown).toMatch(/## Deployment shape/);
      expect(markdown).toMatch(/## Turn journal: its cost, on and off/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 240_000);
});
