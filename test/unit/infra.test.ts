// The production manifests (infra/k8s, infra/docker) checked offline: they parse, every variable they set is one
// shared/config.ts knows, probes and ports match the services, the processes run the production build (no tsx),
// workers scale on the task queue's backlog, and the autoscalers, jobs, drain times and codec wiring are there.
// (No cluster and no Docker daemon here: `kubectl kustomize infra/k8s` and `docker compose config` are the
// checks to run where those exist — docs/operations.md.)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { temporalCli } from '../../infra/local/binaries';
import { DRAIN_MS } from '../../services/common/listen';
import { variables } from '../../shared/config';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'infra', 'k8s');
const DOCKER = join(ROOT, 'infra', 'docker');
const CONFIG_NAMES = new Set(Object.keys(variables));
/** Variables the manifests set that are Node's own, not the product's. */
const RUNTIME_NAMES = new Set(['NODE_OPTIONS', 'NODE_ENV']);
const SERVICE_PORTS: Record<string, string> = {
  api: 'API_PORT',
  ingest: 'INGEST_PORT',
  worker: 'WORKER_PORT',
};

type Doc = Record<string, any>;

/** The TypeScript source a production command (`node <file>.js`, run from the build output) is compiled from. */
function sourceOf(command: string[]): string {
  expect(command).toHaveLength(2);
  expect(command[0]).toBe('node');
  expect(command[1]).toMatch(/\.js$/);
  return join(ROOT, command[1]!.replace(/\.js$/, '.ts'));
}

function manifests(file: string): Doc[] {
  return yaml.loadAll(readFileSync(join(K8S, file), 'utf8')).filter(Boolean) as Doc[];
}

const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
const kustomization = yaml.load(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as Doc;
const docs = (kustomization.resources as string[]).flatMap(manifests);
const secretExample = manifests('secret.example.yaml')[0]!;
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const named = (kind: string, name: string) => byKind(kind).find((d) => d.metadata.name === name);
const configMap = named('ConfigMap', 'leadrelay-config')!;
const secretKeys = new Set(Object.keys(secretExample.stringData));

describe('Kubernetes manifests', () => {
  test('every manifest parses and kustomization.yaml lists all of them but the Secret example', () => {
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(() => manifests(file)).not.toThrow();
    const listed = new Set(kustomization.resources);
    for (const file of files.filter((f) => !['kustomization.yaml', 'secret.example.yaml'].includes(f)))
      expect(listed).toContain(file);
    expect(listed).not.toContain('secret.example.yaml');
    for (const doc of docs)
      expect(doc).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String) });
  });

  test('the ConfigMap and the Secret hold only variables shared/config.ts knows, secrets in the Secret', () => {
    for (const name of Object.keys(configMap.data)) expect(CONFIG_NAMES).toContain(name);
    for (const name of secretKeys) expect(CONFIG_NAMES).toContain(name);
    for (const name of [
      'DATABASE_URL',
      'LEADRELAY_ENCRYPTION_KEYS',
      'LEADRELAY_ADMIN_TOKEN',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'SLACK_WEBHOOK_URL',
      'SMTP_URL',
    ]) {
      expect(secretKeys).toContain(name);
      expect(Object.keys(configMap.data)).not.toContain(name);
    }
    expect(configMap.data).toMatchObject({ TEMPORAL_ADDRESS: expect.stringMatching(/:\d+$/) });
  });

  test.each(['api', 'ingest', 'worker'])(
    'the %s Deployment runs its main, listens on its configured port and is probed on /healthz and /readyz',
    (service) => {
      const deployment = named('Deployment', `leadrelay-${service}`)!;
      expect(deployment).toBeDefined();
      const pod = deployment.spec.template;
      expect(deployment.spec.selector.matchLabels).toEqual(
        expect.objectContaining({ 'app.kubernetes.io/name': pod.metadata.labels['app.kubernetes.io/name'] }),
      );
      const [container] = pod.spec.containers;
      expect(container.command).toEqual(['node', `services/${service}/main.js`]);
      expect(existsSync(sourceOf(container.command))).toBe(true);
      const http = container.ports.find((p: Doc) => p.name === 'http');
      expect(String(http.containerPort)).toBe(configMap.data[SERVICE_PORTS[service]!]);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.envFrom).toEqual([
        { configMapRef: { name: 'leadrelay-config' } },
        { secretRef: { name: 'leadrelay-secrets' } },
      ]);
      for (const env of container.env ?? []) {
        expect(CONFIG_NAMES.has(env.name) || RUNTIME_NAMES.has(env.name)).toBe(true);
      }
      expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
      expect(container.resources.limits.memory).toBeDefined();
      // A Service reaches the pods by the same label and the named port.
      const serviceDoc = named('Service', `leadrelay-${service}`)!;
      expect(serviceDoc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(serviceDoc.spec.ports.map((p: Doc) => p.targetPort)).toContain('http');
    },
  );

  test('the worker gets longer than its shutdown grace time to drain, and 1.5 GB at most', () => {
    const pod = named('Deployment', 'leadrelay-worker')!.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10);
    expect(pod.containers[0].resources.limits.memory).toBe('1536Mi');
  });

  test('api and ingest scale on CPU with an HPA each', () => {
    const hpas = byKind('HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['leadrelay-api', 'leadrelay-ingest']);
    for (const hpa of hpas) {
      expect(named('Deployment', hpa.spec.scaleTargetRef.name)).toBeDefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics.map((m: Doc) => m.resource.name)).toEqual(['cpu']);
    }
  });

  test("workers scale on the task queue's backlog (KEDA's Temporal scaler), never on memory", () => {
    const [scaler, ...others] = byKind('ScaledObject');
    expect(others).toEqual([]);
    expect(scaler!.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaler!.spec.scaleTargetRef.name).toBe('leadrelay-worker');
    expect(named('Deployment', 'leadrelay-worker')).toBeDefined();
    expect(scaler!.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    expect(scaler!.spec.maxReplicaCount).toBeGreaterThan(scaler!.spec.minReplicaCount);
    const [trigger, ...more] = scaler!.spec.triggers;
    expect(more).toEqual([]);
    expect(trigger.type).toBe('temporal');
    // The same frontend, namespace and task queue the worker itself uses.
    expect(trigger.metadata).toMatchObject({
      endpointFromEnv: 'TEMPORAL_ADDRESS',
      namespace: configMap.data.TEMPORAL_NAMESPACE,
      taskQueue: configMap.data.TEMPORAL_TASK_QUEUE,
    });
    expect(trigger.metadata.queueTypes.split(',').sort()).toEqual(['activity', 'workflow']);
    expect(Number(trigger.metadata.targetQueueSize)).toBeGreaterThan(0);
    const scaled = byKind('HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name);
    expect(scaled).not.toContain('leadrelay-worker');
    expect(JSON.stringify(docs)).not.toMatch(/"name":"memory","target"/);
  });

  test.each(['api', 'ingest'])(
    'the %s pod keeps serving while it leaves the Service, then has time to drain requests in flight',
    (service) => {
      const pod = named('Deployment', `leadrelay-${service}`)!.spec.template.spec;
      const preStop = pod.containers[0].lifecycle.preStop.sleep.seconds;
      expect(preStop).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + DRAIN_MS / 1000);
    },
  );

  test('the migration and Temporal setup Jobs run compiled files of sources that exist, with variables that exist', () => {
    const commands = byKind('Job').map((job) => job.spec.template.spec.containers[0].command.join(' '));
    expect(commands).toEqual(['node infra/db/migrate.js', 'node infra/docker/setup-temporal.js']);
    for (const job of byKind('Job')) {
      const container = job.spec.template.spec.containers[0];
      expect(existsSync(sourceOf(container.command))).toBe(true);
      for (const env of container.env) {
        expect(CONFIG_NAMES).toContain(env.name);
        const secretRef = env.valueFrom?.secretKeyRef;
        const configRef = env.valueFrom?.configMapKeyRef;
        if (secretRef) expect(secretKeys).toContain(secretRef.key);
        if (configRef) expect(Object.keys(configMap.data)).toContain(configRef.key);
      }
    }
  });

  test('workers may reach only DNS, Temporal, Postgres and the public internet (no private ranges)', () => {
    const worker = named('Deployment', 'leadrelay-worker')!;
    const policies = byKind('NetworkPolicy').filter((policy) =>
      Object.entries(policy.spec.podSelector.matchLabels).every(
        ([label, value]) => worker.spec.template.metadata.labels[label] === value,
      ),
    );
    expect(policies).toHaveLength(1);
    const { spec } = policies[0]!;
    expect(spec.policyTypes).toEqual(['Egress']);
    const rules = spec.egress as Doc[];
    const ports = (rule: Doc) => (rule.ports ?? []).map((p: Doc) => `${p.protocol}/${p.port}`).sort();
    const dns = rules.filter((rule) => ports(rule).includes('UDP/53'));
    expect(dns.map(ports)).toEqual([['TCP/53', 'UDP/53']]);
    expect(rules.filter((rule) => ports(rule).join() === 'TCP/7233')).toHaveLength(1);
    const postgres = rules.filter((rule) => ports(rule).join() === 'TCP/5432');
    expect(postgres).toHaveLength(1);
    expect(postgres[0]!.to.every((peer: Doc) => /\/32$/.test(peer.ipBlock?.cidr ?? ''))).toBe(true);
    // Every other rule is the internet without the private, link-local and CGNAT ranges, on any port.
    const open = rules.filter((rule) => !rule.ports);
    expect(open).toHaveLength(1);
    expect(open[0]!.to).toEqual([
      {
        ipBlock: {
          cidr: '0.0.0.0/0',
          except: expect.arrayContaining([
            '10.0.0.0/8',
            '172.16.0.0/12',
            '192.168.0.0/16',
            '169.254.0.0/16',
            '100.64.0.0/10',
          ]),
        },
      },
    ]);
    expect(rules).toHaveLength(4);
  });

  test('the Ingress sends /webhooks to ingest and everything else to the api', () => {
    const paths = named('Ingress', 'leadrelay')!.spec.rules[0].http.paths;
    expect(paths.map((p: Doc) => [p.path, p.backend.service.name])).toEqual([
      ['/webhooks', 'leadrelay-ingest'],
      ['/', 'leadrelay-api'],
    ]);
  });
});

describe('docker-compose stack', () => {
  const compose = yaml.load(readFileSync(join(DOCKER, 'docker-compose.yml'), 'utf8')) as Doc;
  const services = compose.services as Record<string, Doc>;
  const ours = ['api', 'ingest', 'worker', 'migrate', 'temporal-setup'];

  test('has Postgres, Temporal on Postgres, the UI, the one-shot jobs, api, ingest and scalable workers', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'temporal-schema', 'temporal', 'temporal-ui', ...ours]),
    );
    expect(services.temporal!.environment.DB).toBe('postgres12');
    expect(services.worker!.deploy.replicas).toMatch(/WORKER_REPLICAS/);
    for (const name of ['api', 'ingest', 'worker'])
      expect(services[name]!.depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        'temporal-setup': { condition: 'service_completed_successfully' },
      });
  });

  test("Temporal is the server image at development's version, its schema made by the admin tools' SQL tool", () => {
    // The dev server `npm start` and the tests run: `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`.
    const reported = execFileSync(temporalCli(), ['--version']).toString();
    const [, server, ui] = /\(Server ([\d.]+), UI ([\d.]+)\)/.exec(reported)!;
    expect(services.temporal!.image).toBe(`temporalio/server:\${TEMPORAL_VERSION:-${server}}`);
    expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:\${TEMPORAL_VERSION:-${server}}`);
    expect(services['temporal-ui']!.image).toBe(`temporalio/ui:\${TEMPORAL_UI_VERSION:-${ui}}`);
    expect(readFileSync(join(DOCKER, 'docker-compose.yml'), 'utf8')).not.toMatch(/auto-setup/);
    // The schema job runs our script (the one `npm run topology` runs) with Temporal's tool, before the server.
    const schema = services['temporal-schema']!;
    expect(schema.command).toEqual(['/scripts/temporal-schema.sh']);
    expect(schema.volumes).toEqual(['./temporal-schema.sh:/scripts/temporal-schema.sh:ro']);
    expect(readFileSync(join(DOCKER, 'temporal-schema.sh'), 'utf8')).toMatch(/temporal-sql-tool/);
    expect(services.temporal!.depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
  });

  test('api and ingest get longer than their drain to stop, the worker longer than its shutdown grace time', () => {
    for (const name of ['api', 'ingest'])
      expect(parseInt(services[name]!.stop_grace_period, 10)).toBeGreaterThan(DRAIN_MS / 1000);
    expect(parseInt(services.worker!.stop_grace_period, 10)).toBeGreaterThan(10);
  });

  test('every published port is bound to 127.0.0.1', () => {
    const published = Object.values(services).flatMap((service) => (service.ports ?? []) as string[]);
    expect(published.length).toBeGreaterThanOrEqual(5);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  test('our services are built from infra/docker/Dockerfile, run the build with node, set only known variables', () => {
    for (const name of ours) {
      const service = services[name]!;
      expect(service.build).toEqual({ context: '../..', dockerfile: 'infra/docker/Dockerfile' });
      expect(existsSync(sourceOf(service.command))).toBe(true);
      for (const variable of Object.keys(service.environment))
        expect(CONFIG_NAMES.has(variable) || RUNTIME_NAMES.has(variable)).toBe(true);
    }
    for (const [name, port] of [
      ['api', 8080],
      ['ingest', 8081],
      ['worker', 8082],
    ] as const) {
      expect(services[name]!.healthcheck.test.join(' ')).toContain(`127.0.0.1:${port}/readyz`);
    }
  });

  test('the Temporal UI decodes payloads through the api codec endpoint, with credentials', () => {
    const ui = services['temporal-ui']!.environment;
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toMatch(/\/codec\}?$/);
    expect(ui.TEMPORAL_CODEC_INCLUDE_CREDENTIALS).toBe('true');
  });

  test('the Dockerfile builds the production output on the Node that development installs, runs it as non-root', () => {
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages).toEqual(['node:${NODE_VERSION}-slim', 'node:${NODE_VERSION}-slim']);
    const ensure = readFileSync(join(ROOT, 'scripts', 'ensure.mjs'), 'utf8');
    const installed = /const NODE_VERSION = '(24\.[\d.]+)'/.exec(ensure)![1];
    expect(dockerfile).toContain(`ARG NODE_VERSION=${installed}`);
    expect(dockerfile).toMatch(/^RUN npm run build:web && npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "services\/api\/main\.js"\]$/m);
    const instructions = dockerfile.split('\n').filter((line) => !line.startsWith('#'));
    expect(instructions.filter((line) => line.includes('tsx'))).toEqual([]);
    expect(dockerfile).toMatch(/^USER node$/m);
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      expect(existsSync(join(ROOT, from!))).toBe(true);
    }
  });
});
