// The production manifests (infra/k8s, infra/docker) checked offline: they parse, every variable they set is one
// shared/config.ts knows, probes and ports match the services, and the HPAs, jobs and codec wiring are there.
// (No cluster and no Docker daemon here: `kubectl kustomize infra/k8s` and `docker compose config` are the
// checks to run where those exist — docs/operations.md.)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
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
      expect(container.command).toEqual(['node', '--import', 'tsx', `services/${service}/main.ts`]);
      expect(existsSync(join(ROOT, 'services', service, 'main.ts'))).toBe(true);
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

  test('the worker and ingest scale horizontally on an HPA targeting their Deployments', () => {
    const targets = byKind('HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name);
    expect(targets.sort()).toEqual(['leadrelay-ingest', 'leadrelay-worker']);
    for (const hpa of byKind('HorizontalPodAutoscaler')) {
      expect(named('Deployment', hpa.spec.scaleTargetRef.name)).toBeDefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
  });

  test('the migration and Temporal setup Jobs run files that exist, with variables that exist', () => {
    const commands = byKind('Job').map((job) => job.spec.template.spec.containers[0].command.join(' '));
    expect(commands).toEqual([
      'node --import tsx infra/db/migrate.ts',
      'node --import tsx infra/docker/setup-temporal.ts',
    ]);
    for (const job of byKind('Job')) {
      const container = job.spec.template.spec.containers[0];
      const script = container.command[3];
      expect(existsSync(join(ROOT, script))).toBe(true);
      for (const env of container.env) {
        expect(CONFIG_NAMES).toContain(env.name);
        const secretRef = env.valueFrom?.secretKeyRef;
        const configRef = env.valueFrom?.configMapKeyRef;
        if (secretRef) expect(secretKeys).toContain(secretRef.key);
        if (configRef) expect(Object.keys(configMap.data)).toContain(configRef.key);
      }
    }
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
      expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', ...ours]),
    );
    expect(services.temporal!.environment.DB).toBe('postgres12');
    expect(services.worker!.deploy.replicas).toMatch(/WORKER_REPLICAS/);
    for (const name of ['api', 'ingest', 'worker'])
      expect(services[name]!.depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        'temporal-setup': { condition: 'service_completed_successfully' },
      });
  });

  test('our services are built from infra/docker/Dockerfile and set only known variables', () => {
    for (const name of ours) {
      const service = services[name]!;
      expect(service.build).toEqual({ context: '../..', dockerfile: 'infra/docker/Dockerfile' });
      expect(existsSync(join(ROOT, service.command[3]))).toBe(true);
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

  test('the Dockerfile builds on node:20-slim and runs as a non-root user', () => {
    const dockerfile = readFileSync(join(DOCKER, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages.every((image) => image === 'node:20-slim')).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
    for (const [, from] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      expect(existsSync(join(ROOT, from!))).toBe(true);
    }
  });
});
