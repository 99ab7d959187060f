import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '@handoff/testing';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The built `handoff` command. */
export const HANDOFF_BIN = `${REPO_ROOT}packages/cli/dist/bin.js`;

/** Starts `handoff <args>` as a child process and waits until it logs that it is ready. */
export function startHandoff(name: string, args: string[], env: Record<string, string>): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name,
    command: process.execPath,
    args: [HANDOFF_BIN, ...args],
    env: { LOG_LEVEL: 'info', ...env },
    cwd: REPO_ROOT,
    readyPattern: /"msg":"ready"/,
    readyTimeoutMs: 30_000,
  });
}
