import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

/** The Docker socket paths tried when `DOCKER_HOST` is not set, in order. */
export function defaultEngineSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const sockets = ['/var/run/docker.sock', '/run/podman/podman.sock'];
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) sockets.push(join(runtimeDir, 'podman', 'podman.sock'));
  return sockets;
}

/** A reachable container engine. */
export interface ContainerEngine {
  /** The value `DOCKER_HOST` should have, e.g. `unix:///run/podman/podman.sock`. */
  readonly dockerHost: string;
  /** The unix socket, when the engine is local. */
  readonly socketPath?: string;
}

/** The result of {@link findContainerEngine}: the engine, or why there is none. */
export type ContainerEngineProbe = { ok: true; engine: ContainerEngine } | { ok: false; reason: string };

/**
 * Asks a Docker-API endpoint `GET /_ping`. Never throws.
 *
 * @param target - `{socketPath}` for a unix socket, or `{host, port}` for TCP
 * @param timeoutMs - give up after this long; default 2000
 * @returns `undefined` when it answered 200, else why not
 */
export function pingDockerApi(
  target: { socketPath: string } | { host: string; port: number },
  timeoutMs = 2000,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (reason: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(reason);
    };
    const req = request({ ...target, path: '/_ping', method: 'GET', headers: { host: 'docker' } }, (res) => {
      res.resume();
      finish(res.statusCode === 200 ? undefined : `GET /_ping answered HTTP ${res.statusCode ?? '?'}`);
    });
    const timer = setTimeout(() => finish(`no answer to GET /_ping within ${timeoutMs} ms`), timeoutMs);
    req.on('error', (err) => finish(err.message));
    req.end();
  });
}

/**
 * Finds a container engine that answers the Docker API: `DOCKER_HOST` when set (unix or tcp),
 * else the first of {@link defaultEngineSockets} that exists and answers `GET /_ping` within 2 s.
 * Never throws.
 *
 * @param env - the environment to read; default `process.env`
 */
export async function findContainerEngine(env: NodeJS.ProcessEnv = process.env): Promise<ContainerEngineProbe> {
  const dockerHost = env['DOCKER_HOST'];
  if (dockerHost) {
    if (dockerHost.startsWith('unix://')) {
      const socketPath = dockerHost.slice('unix://'.length);
      if (!existsSync(socketPath)) return { ok: false, reason: `DOCKER_HOST=${dockerHost}: ${socketPath} does not exist` };
      const failure = await pingDockerApi({ socketPath });
      return failure === undefined
        ? { ok: true, engine: { dockerHost, socketPath } }
        : { ok: false, reason: `DOCKER_HOST=${dockerHost}: ${failure}` };
    }
    if (/^(tcp|http):\/\//.test(dockerHost) && !env['DOCKER_TLS_VERIFY']) {
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      const failure = await pingDockerApi({ host: url.hostname, port: Number(url.port || 2375) });
      return failure === undefined ? { ok: true, engine: { dockerHost } } : { ok: false, reason: `DOCKER_HOST=${dockerHost}: ${failure}` };
    }
    return { ok: true, engine: { dockerHost } }; // TLS, ssh:// …: let testcontainers try it
  }
  const reasons: string[] = [];
  for (const socketPath of defaultEngineSockets(env)) {
    if (!existsSync(socketPath)) {
      reasons.push(`${socketPath} missing`);
      continue;
    }
    const failure = await pingDockerApi({ socketPath });
    if (failure === undefined) return { ok: true, engine: { dockerHost: `unix://${socketPath}`, socketPath } };
    reasons.push(`${socketPath}: ${failure}`);
  }
  return { ok: false, reason: `no container engine (DOCKER_HOST unset; ${reasons.join('; ')})` };
}
