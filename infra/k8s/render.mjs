#!/usr/bin/env node
// Renders the Kubernetes manifests of a Handoff deployment from infra/k8s/values.json into
// infra/k8s/base/ (a kustomize base): per agent a worker Deployment, a KEDA ScaledObject on the
// agent's hop-lane wait list and a PodDisruptionBudget; the gateway Deployment, Service and PDB;
// Redis (StatefulSet with AOF and noeviction); config, KEDA's Redis authentication, and an
// example Secret. No dependencies beyond Node.js (no helm, no npm packages).
//
//   node infra/k8s/render.mjs                     # write infra/k8s/base/
//   node infra/k8s/render.mjs --check             # exit 1 if base/ differs from what values.json gives
//   node infra/k8s/render.mjs --values my.json --out /tmp/k8s   # another deployment
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** "CustomerService" → "customer-service" (a DNS-1123 name part). */
export function kebab(name) {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();
}

/** The list of an agent's waiting hops (its hop lane's wait list): `<prefix>:{agent.<Agent>}:agent.<Agent>:wait` (see @handoff/redis HopLane: each lane has its own hash-tagged prefix). */
export function waitList(prefix, agent) {
  return `${prefix}:{agent.${agent}}:agent.${agent}:wait`;
}

/** The objects of the deployment, one entry per file: `{ file, docs: [object, …] }`. */
export function renderManifests(values) {
  const v = values;
  const ns = v.namespace;
  const redisHost = v.redis.host || `redis.${ns}.svc.cluster.local`;
  const redisAddress = `${redisHost}:${v.redis.port}`;
  const secret = v.secretName;
  const common = { 'app.kubernetes.io/name': 'handoff', 'app.kubernetes.io/part-of': 'handoff' };
  const meta = (name, labels, extra = {}) => ({ name, namespace: ns, labels: { ...common, ...labels }, ...extra });
  const secretEnv = (name, key = name, optional = false) => ({ name, valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } } });

  // Every handoff container: config from the ConfigMap, secrets from the Secret, Redis URL built
  // from the password ($(VAR) is expanded by the kubelet from variables defined before it).
  const handoffEnv = (extra) => [
    secretEnv('REDIS_PASSWORD'),
    { name: 'REDIS_URL', value: `redis://:$(REDIS_PASSWORD)@${redisAddress}` },
    secretEnv('OPENAI_API_KEY'),
    ...extra,
  ];
  const securityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    capabilities: { drop: ['ALL'] },
  };
  const podSecurity = { seccompProfile: { type: 'RuntimeDefault' } };
  const tmp = { volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] };
  const tmpVolume = [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }];
  const spread = (labels) => [
    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
  ];

  const files = [];

  files.push({
    file: 'namespace.yaml',
    docs: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...common } } }],
  });

  files.push({
    file: 'config.yaml',
    docs: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: meta('handoff-config', { 'app.kubernetes.io/component': 'config' }),
        data: {
          HANDOFF_PREFIX: v.prefix,
          LOG_LEVEL: v.logLevel,
          HANDOFF_DRAIN_TIMEOUT_MS: String(v.drainTimeoutMs),
          ...Object.fromEntries(Object.entries(v.env ?? {}).map(([k, value]) => [k, String(value)])),
        },
      },
    ],
  });

  files.push({
    file: 'secret.example.yaml',
    header: [
      'NOT part of the kustomization: create the real Secret yourself, e.g.',
      `  kubectl -n ${ns} create secret generic ${secret} \\`,
      '    --from-literal=OPENAI_API_KEY=sk-... \\',
      '    --from-literal=HANDOFF_API_KEYS="$(openssl rand -hex 24)" \\',
      '    --from-literal=REDIS_PASSWORD="$(openssl rand -hex 24)"',
      'REDIS_PASSWORD goes into a redis:// URL: use URL-safe characters (hex is).',
    ],
    docs: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(secret, { 'app.kubernetes.io/component': 'config' }),
        type: 'Opaque',
        stringData: { OPENAI_API_KEY: 'sk-replace-me', HANDOFF_API_KEYS: 'replace-me-with-a-long-random-token', REDIS_PASSWORD: 'replace-me-with-hex' },
      },
    ],
  });

  if (v.redis.deploy) {
    const labels = { 'app.kubernetes.io/component': 'redis' };
    const selector = { ...common, ...labels };
    const ping = ['redis-cli', '-p', String(v.redis.port), 'ping'];
    const conf = [
      '# Handoff keeps every conversation in Redis: nothing may be evicted, and writes are persisted.',
      'appendonly yes',
      `appendfsync ${v.redis.appendfsync}`,
      'aof-use-rdb-preamble yes',
      `maxmemory ${v.redis.maxmemory}`,
      'maxmemory-policy noeviction',
      'dir /data',
      'protected-mode no',
      '',
    ].join('\n');
    files.push({
      file: 'redis.yaml',
      header: ['Redis for one Handoff deployment. To use an external Redis instead (>= 6.2, maxmemory-policy noeviction,', 'AOF on), set "redis.deploy": false and "redis.host" in values.json and render again.'],
      docs: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('redis-config', labels), data: { 'redis.conf': conf } },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: meta('redis', labels),
          spec: { type: 'ClusterIP', selector, ports: [{ name: 'redis', port: v.redis.port, targetPort: 'redis' }] },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: meta('redis-headless', labels),
          spec: { clusterIP: 'None', selector, ports: [{ name: 'redis', port: v.redis.port, targetPort: 'redis' }] },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: meta('redis', labels),
          spec: {
            serviceName: 'redis-headless',
            replicas: 1,
            selector: { matchLabels: selector },
            template: {
              metadata: { labels: selector },
              spec: {
                securityContext: { ...podSecurity, runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 },
                terminationGracePeriodSeconds: 60,
                containers: [
                  {
                    name: 'redis',
                    image: v.redis.image,
                    command: ['redis-server', '/etc/redis/redis.conf', '--port', String(v.redis.port), '--requirepass', '$(REDIS_PASSWORD)'],
                    env: [secretEnv('REDIS_PASSWORD'), secretEnv('REDISCLI_AUTH', 'REDIS_PASSWORD')],
                    ports: [{ name: 'redis', containerPort: v.redis.port }],
                    // A large AOF takes a while to load: the startup probe allows 5 minutes.
                    startupProbe: { exec: { command: ping }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 },
                    readinessProbe: { exec: { command: ping }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
                    livenessProbe: { exec: { command: ping }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
                    resources: v.redis.resources,
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                    volumeMounts: [
                      { name: 'data', mountPath: '/data' },
                      { name: 'config', mountPath: '/etc/redis', readOnly: true },
                    ],
                  },
                ],
                volumes: [{ name: 'config', configMap: { name: 'redis-config' } }],
              },
            },
            volumeClaimTemplates: [
              {
                metadata: { name: 'data', labels: selector },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  ...(v.redis.storageClassName ? { storageClassName: v.redis.storageClassName } : {}),
                  resources: { requests: { storage: v.redis.storage } },
                },
              },
            ],
          },
        },
      ],
    });
  }

  {
    const labels = { 'app.kubernetes.io/component': 'gateway' };
    const selector = { ...common, ...labels };
    const port = v.gateway.httpPort;
    files.push({
      file: 'gateway.yaml',
      docs: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: meta('handoff-gateway', labels),
          spec: {
            replicas: v.gateway.replicas,
            selector: { matchLabels: selector },
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: {
              metadata: { labels: selector },
              spec: {
                securityContext: podSecurity,
                terminationGracePeriodSeconds: v.terminationGracePeriodSeconds,
                topologySpreadConstraints: spread(selector),
                containers: [
                  {
                    name: 'gateway',
                    image: v.image,
                    imagePullPolicy: v.imagePullPolicy,
                    args: ['gateway', '--network', v.network, '--http-port', String(port)],
                    envFrom: [{ configMapRef: { name: 'handoff-config' } }],
                    env: handoffEnv([secretEnv('HANDOFF_API_KEYS')]),
                    ports: [{ name: 'http', containerPort: port }],
                    startupProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 30 },
                    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
                    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
                    // Let the Service stop sending requests before the gateway drains and exits.
                    lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
                    resources: v.gateway.resources,
                    securityContext,
                    ...tmp,
                  },
                ],
                volumes: tmpVolume,
              },
            },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: meta('handoff-gateway', labels),
          spec: { type: 'ClusterIP', selector, ports: [{ name: 'http', port, targetPort: 'http' }] },
        },
        {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: meta('handoff-gateway', labels),
          spec: { minAvailable: 1, selector: { matchLabels: selector } },
        },
      ],
    });
  }

  files.push({
    file: 'keda-redis-auth.yaml',
    docs: [
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'TriggerAuthentication',
        metadata: meta('handoff-redis', { 'app.kubernetes.io/component': 'autoscaling' }),
        spec: { secretTargetRef: [{ parameter: 'password', name: secret, key: 'REDIS_PASSWORD' }] },
      },
    ],
  });

  for (const agent of v.agents) {
    const id = kebab(agent.name);
    const labels = { 'app.kubernetes.io/component': 'worker', 'handoff/agent': agent.name };
    const selector = { ...common, ...labels };
    const name = `handoff-agent-${id}`;
    files.push({
      file: `agent-${id}.yaml`,
      header: [
        `Agent ${agent.name}: workers on the hop lane "agent.${agent.name}" (prefix "${v.prefix}:{agent.${agent.name}}"), scaled by KEDA on its wait list.`,
        'The worker has no HTTP port, hence no probes: it exits (and is restarted) when it cannot start, and the',
        'jobs of a worker that hangs or dies are taken over by its replicas once their lock expires.',
      ],
      docs: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: meta(name, labels),
          // No spec.replicas: KEDA (through its HPA) owns the replica count; without KEDA it is 1.
          spec: {
            selector: { matchLabels: selector },
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: {
              metadata: { labels: selector },
              spec: {
                securityContext: podSecurity,
                terminationGracePeriodSeconds: v.terminationGracePeriodSeconds,
                topologySpreadConstraints: spread(selector),
                containers: [
                  {
                    name: 'worker',
                    image: v.image,
                    imagePullPolicy: v.imagePullPolicy,
                    args: ['worker', '--network', v.network, '--agents', agent.name, '--concurrency', String(agent.concurrency ?? v.worker.concurrency)],
                    envFrom: [{ configMapRef: { name: 'handoff-config' } }],
                    env: handoffEnv([]),
                    resources: agent.resources ?? v.worker.resources,
                    securityContext,
                    ...tmp,
                  },
                ],
                volumes: tmpVolume,
              },
            },
          },
        },
        {
          apiVersion: 'keda.sh/v1alpha1',
          kind: 'ScaledObject',
          metadata: meta(name, labels),
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
            minReplicaCount: agent.minReplicas,
            maxReplicaCount: agent.maxReplicas,
            pollingInterval: v.worker.pollingIntervalSeconds,
            cooldownPeriod: v.worker.cooldownPeriodSeconds,
            advanced: {
              horizontalPodAutoscalerConfig: {
                behavior: {
                  scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
                },
              },
            },
            triggers: [
              {
                type: 'redis',
                metadata: {
                  address: redisAddress,
                  listName: waitList(v.prefix, agent.name),
                  listLength: String(agent.listLength),
                  activationListLength: '0',
                  databaseIndex: '0',
                },
                authenticationRef: { name: 'handoff-redis' },
              },
            ],
          },
        },
        {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: meta(name, labels),
          spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        },
      ],
    });
  }

  const resources = files.map((f) => f.file).filter((f) => f !== 'secret.example.yaml');
  files.push({
    file: 'kustomization.yaml',
    header: ['kubectl apply -k infra/k8s/base   (after creating the Secret: see secret.example.yaml)'],
    docs: [
      {
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        namespace: ns,
        resources,
        images: [{ name: 'handoff', newName: v.image.replace(/:[^:/]+$/, ''), newTag: v.image.match(/:([^:/]+)$/)?.[1] ?? 'latest' }],
      },
    ],
  });
  return files;
}

// ---- a small YAML writer: maps, lists, strings, numbers, booleans, null --------------------------

const PLAIN = /^[A-Za-z0-9_/.][A-Za-z0-9_/.\-]*$/;
const LOOKS_TYPED = /^(?:[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan|true|false|yes|no|on|off|y|n|null|~)$/i;

function scalar(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  const s = String(value);
  if (PLAIN.test(s) && !LOOKS_TYPED.test(s)) return s;
  return JSON.stringify(s);
}

function isEmptyCollection(value) {
  return (Array.isArray(value) && value.length === 0) || (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
}

function emit(value, indent) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (item !== null && typeof item === 'object' && !isEmptyCollection(item)) {
          const body = emit(item, indent + 2);
          return `${pad}- ${body.slice(indent + 2)}`;
        }
        return `${pad}- ${isEmptyCollection(item) ? JSON.stringify(item) : scalar(item)}`;
      })
      .join('\n');
  }
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => {
      const k = scalar(key);
      if (isEmptyCollection(v)) return `${pad}${k}: ${JSON.stringify(v)}`;
      if (Array.isArray(v)) return `${pad}${k}:\n${emit(v, indent)}`;
      if (v !== null && typeof v === 'object') return `${pad}${k}:\n${emit(v, indent + 2)}`;
      if (typeof v === 'string' && v.includes('\n')) {
        const lines = v.endsWith('\n') ? v.slice(0, -1).split('\n') : v.split('\n');
        return `${pad}${k}: |${v.endsWith('\n') ? '' : '-'}\n${lines.map((l) => (l ? `${pad}  ${l}` : '')).join('\n')}`;
      }
      return `${pad}${k}: ${scalar(v)}`;
    })
    .join('\n');
}

/** YAML text of one file: a header comment, then its documents separated by `---`. */
export function toYaml(file) {
  const header = ['Generated by infra/k8s/render.mjs from infra/k8s/values.json: edit those and run `node infra/k8s/render.mjs`.', ...(file.header ?? [])]
    .map((line) => `# ${line}`.trimEnd())
    .join('\n');
  return `${header}\n${file.docs.map((doc) => `---\n${emit(doc, 0)}\n`).join('')}`;
}

/** Renders the files: `{ [file]: text }`. */
export function renderFiles(values) {
  return Object.fromEntries(renderManifests(values).map((f) => [f.file, toYaml(f)]));
}

function main(argv) {
  const arg = (flag) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const valuesPath = resolve(arg('--values') ?? join(HERE, 'values.json'));
  const out = resolve(arg('--out') ?? join(HERE, 'base'));
  const files = renderFiles(JSON.parse(readFileSync(valuesPath, 'utf8')));
  const existing = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.yaml')) : [];
  if (argv.includes('--check')) {
    const stale = [
      ...Object.entries(files).filter(([f, text]) => !existing.includes(f) || readFileSync(join(out, f), 'utf8') !== text).map(([f]) => f),
      ...existing.filter((f) => !(f in files)),
    ];
    if (stale.length) {
      process.stderr.write(`render: ${out} is not what ${valuesPath} gives (${stale.join(', ')}); run node infra/k8s/render.mjs\n`);
      process.exit(1);
    }
    process.stdout.write(`render: ${Object.keys(files).length} files up to date\n`);
    return;
  }
  mkdirSync(out, { recursive: true });
  for (const f of existing) if (!(f in files)) rmSync(join(out, f));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(out, f), text);
  process.stdout.write(`render: wrote ${Object.keys(files).length} files to ${out}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
