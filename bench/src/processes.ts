import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '@handoff/testing';

const here = dirname(fileURLToPath(import.meta.url));
/** The compiled 10-agent chain network module. */
export const CHAIN10_MODULE = join(here, 'networks', 'chain10.js');
const require = createRequire(import.meta.url);
const cliBin = join(dirname(require.resolve('@handoff/cli/package.json')), 'dist', 'bin.js');

/** Starts `handoff <role>` for the chain network and waits until it is ready. */
export function startRole(role: 'gateway' | 'worker', env: Record<string, string>, extra: string[] = []): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name: `${role} ${extra.join(' ')}`.trim(),
    command: process.execPath,
    // BENCH_<ROLE>_NODE_ARGS passes flags to one role's node, e.g. --cpu-prof for profiling.
    args: [...(process.env[`BENCH_${role.toUpperCase()}_NODE_ARGS`]?.split(' ').filter(Boolean) ?? []), cliBin, role, '--network', CHAIN10_MODULE, ...extra],
    env: { LOG_LEVEL: 'info', ...env },
    readyPattern: /"msg":"ready"/,
    readyTimeoutMs: 30_000,
  });
}

/** Starts the scripted model in its own process; resolves with it and its URL. */
export async function startModelProcess(): Promise<{ process: ManagedProcess; url: string }> {
  const child = await ManagedProcess.start({
    name: 'model-server',
    command: process.execPath,
    args: [join(here, 'model-server.js')],
    readyPattern: /^model-server ready /,
  });
  const line = child.lines.find((l) => l.startsWith('model-server ready ')) ?? '';
  return { process: child, url: line.slice('model-server ready '.length) };
}

/** Resident set size of a process, in MB (Linux /proc). */
export async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc). */
export async function cpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
