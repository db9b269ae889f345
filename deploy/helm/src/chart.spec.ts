import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureHelm, ensureValidator } from './ensure-helm.js';

const run = promisify(execFile);
const chartDir = resolve(dirname(fileURLToPath(import.meta.url)), '../sms-gateway');
const minimalValues = join(chartDir, 'ci/minimal-values.yaml');
const productionValues = join(chartDir, 'ci/production-values.yaml');

/** The services, their ports and the commands they run (each `node services/<name>/dist/main.js`). */
const expectedPorts: Record<string, number> = {
  ingest: 8080,
  router: 8082,
  'carrier-dispatch': 8083,
  'dlr-processor': 8084,
  notifier: 8085,
};
const services = Object.keys(expectedPorts);

// Just enough of the Kubernetes shapes the assertions read.
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command: string[];
  workingDir?: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: {
    readOnlyRootFilesystem: boolean;
    allowPrivilegeEscalation: boolean;
    capabilities: { drop: string[] };
  };
  volumeMounts: { name: string; mountPath: string; subPath?: string }[];
  args?: string[];
}
interface PodSpec {
  [key: string]: unknown;
  containers: Container[];
  securityContext: { runAsNonRoot: boolean };
  volumes: { name: string; secret?: { secretName: string } }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template?: {
      metadata: { annotations?: Record<string, string>; labels: Record<string, string> };
      spec: PodSpec;
    };
    rules?: { host: string; http: { paths: { path: string; backend: { service: { name: string } } }[] } }[];
    [key: string]: unknown;
  };
  stringData?: Record<string, string>;
}

let helm = '';
let validator = '';

async function helmRun(args: string[]): Promise<string> {
  const { stdout } = await run(helm, args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** Runs a binary with `input` on stdin; rejects (with stdout) on a non-zero exit. */
function runWithInput(binary: string, input: string): Promise<{ stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(binary, [], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(Object.assign(error, { stdout }));
      else resolvePromise({ stdout });
    });
    child.stdin!.end(input);
  });
}

async function template(...valueFiles: string[]): Promise<K8sObject[]> {
  const out = await helmRun([
    'template',
    'gw',
    chartDir,
    '--namespace',
    'sms',
    ...valueFiles.flatMap((f) => ['-f', f]),
  ]);
  return parseAllDocuments(out)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], 'helm template rendered invalid YAML');
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const deploymentOf = (objects: K8sObject[], service: string) => {
  const found = ofKind(objects, 'Deployment').find((d) => d.metadata.name === `gw-sms-gateway-${service}`);
  assert.ok(found, `no Deployment for ${service}`);
  return found;
};
const containerOf = (deployment: K8sObject) => deployment.spec!.template!.spec.containers[0]!;
const envOf = (container: Container, name: string) => container.env.find((e) => e.name === name);

/** Mebibytes of a Kubernetes quantity such as 256Mi or 1Gi. */
function mebibytes(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  assert.ok(m, `unexpected memory quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

describe('Helm chart deploy/helm/sms-gateway', () => {
  // Building Helm on a fresh machine takes minutes: far more than a unit test's default timeout.
  before(
    async () => {
      helm = await ensureHelm();
      validator = await ensureValidator();
    },
    { timeout: 20 * 60_000 },
  );

  test('helm lint --strict passes with the minimal and the production values', async () => {
    for (const values of [minimalValues, productionValues]) {
      const out = await helmRun(['lint', '--strict', chartDir, '-f', values]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  test('every rendered object decodes strictly into its Kubernetes API type (k8s.io/api, case-sensitive)', async () => {
    for (const values of [minimalValues, productionValues]) {
      const rendered = await helmRun(['template', 'gw', chartDir, '-f', values]);
      const { stdout } = await runWithInput(validator, rendered);
      assert.match(stdout, /^\d+ documents checked, 0 invalid$/m);
    }
    // The validator itself: a misspelt field and a malformed quantity are refused, with the field's path.
    const good = await helmRun(['template', 'gw', chartDir, '-f', minimalValues]);
    const typo = await runWithInput(
      validator,
      good.replace(/readOnlyRootFilesystem/g, 'readOnlyRootFileSystem'),
    ).catch((e: { stdout: string }) => e);
    assert.match(
      typo.stdout,
      /unknown field "spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFileSystem"/,
    );
    const quantity = await runWithInput(validator, good.replace(/memory: 512Mi/, 'memory: 512MB')).catch(
      (e: { stdout: string }) => e,
    );
    assert.match(quantity.stdout, /quantities must match/);
  });

  test('the chart refuses to render without an image, Kafka brokers or a database, naming the missing value', async () => {
    const render = (...set: string[]) =>
      helmRun(['template', 'gw', chartDir, ...set.flatMap((s) => ['--set', s])]);
    await assert.rejects(render(), /image\.repository is required/);
    await assert.rejects(render('image.repository=r/gw'), /kafka\.brokers is required/);
    await assert.rejects(
      render('image.repository=r/gw', 'kafka.brokers=k:9092'),
      /secret\.existingSecret .*or secret\.databaseUrl/,
    );
    await assert.rejects(
      render('image.repository=r/gw', 'kafka.brokers=k:9092', 'secret.databaseUrl=mysql://x'),
      /must be a postgres:\/\/ URL/,
    );
    await assert.rejects(
      render(
        'image.repository=r/gw',
        'kafka.brokers=k:9092',
        'secret.databaseUrl=postgres://x',
        'otel.enabled=true',
      ),
      /otel\.endpoint is required/,
    );
  });

  test('values.schema.json refuses a misspelt service, a non-integer replica count and a bad broker list', async () => {
    const base = ['template', 'gw', chartDir, '-f', minimalValues];
    await assert.rejects(
      helmRun([...base, '--set', 'services.routr.replicas=2']),
      /additional properties 'routr' not allowed/,
    );
    await assert.rejects(
      helmRun([...base, '--set', 'services.router.replicas=two']),
      /services\/router\/replicas/,
    );
    await assert.rejects(helmRun([...base, '--set', 'kafka.brokers=kafka']), /kafka\/brokers/);
  });

  test('five Deployments run the right command on the right port with probes on the real health paths', async () => {
    const objects = await template(minimalValues);
    assert.equal(ofKind(objects, 'Deployment').length, 5);
    for (const service of services) {
      const deployment = deploymentOf(objects, service);
      const container = containerOf(deployment);
      assert.deepEqual(container.command, ['node', `services/${service}/dist/main.js`]);
      assert.equal(container.image, 'registry.example.com/sms-gateway:0.1.0');
      assert.equal(container.workingDir, '/app');
      assert.deepEqual(container.ports, [
        { name: 'http', containerPort: expectedPorts[service], protocol: 'TCP' },
      ]);
      // The services listen on 127.0.0.1 unless told otherwise: a pod must listen on every interface.
      assert.equal(envOf(container, 'HTTP_HOST')?.value, '0.0.0.0');
      assert.equal(envOf(container, 'HTTP_PORT')?.value, String(expectedPorts[service]));
      assert.equal(
        envOf(container, 'KAFKA_BROKERS')?.value,
        'kafka-0.kafka:9092,kafka-1.kafka:9092,kafka-2.kafka:9092',
      );
      assert.equal(envOf(container, 'GATEWAY_MODE')?.value, 'production');
      assert.equal(envOf(container, 'OTEL_SERVICE_NAME')?.value, service);
      assert.equal(envOf(container, 'OTEL_TRACES_EXPORTER')?.value, 'none');
      assert.equal(container.livenessProbe.httpGet.path, '/health/live');
      assert.equal(container.startupProbe.httpGet.path, '/health/live');
      assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
      assert.equal(container.readinessProbe.httpGet.port, 'http');
      // Requests at the < 300 MB steady-state target; a limit above it for a draining backlog.
      assert.ok(
        mebibytes(container.resources.requests['memory']!) * 1.048576 < 300,
        `${service} memory request`,
      );
      assert.ok(
        mebibytes(container.resources.limits['memory']!) >=
          mebibytes(container.resources.requests['memory']!),
      );
      assert.ok(container.resources.requests['cpu'], `${service} has a CPU request`);
      // Non-root, read-only root filesystem, no capabilities; /tmp writable.
      assert.equal(deployment.spec!.template!.spec.securityContext.runAsNonRoot, true);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      assert.ok(container.volumeMounts.some((m) => m.mountPath === '/tmp'));
      // Prometheus scrape annotations point at the service's own port and /metrics.
      const annotations = deployment.spec!.template!.metadata.annotations!;
      assert.equal(annotations['prometheus.io/path'], '/metrics');
      assert.equal(annotations['prometheus.io/port'], String(expectedPorts[service]));
      assert.equal(deployment.spec!.replicas, 2);
      // Replicas of one service prefer different nodes and zones (soft: a one-node cluster still schedules).
      const spread = deployment.spec!.template!.spec['topologySpreadConstraints'] as {
        topologyKey: string;
        whenUnsatisfiable: string;
        labelSelector: { matchLabels: Record<string, string> };
      }[];
      assert.deepEqual(
        spread.map((c) => [
          c.topologyKey,
          c.whenUnsatisfiable,
          c.labelSelector.matchLabels['app.kubernetes.io/component'],
        ]),
        [
          ['kubernetes.io/hostname', 'ScheduleAnyway', service],
          ['topology.kubernetes.io/zone', 'ScheduleAnyway', service],
        ],
      );
    }
    const svcs = ofKind(objects, 'Service');
    assert.deepEqual(
      svcs.map((s) => [s.metadata.name, (s.spec!['ports'] as { port: number }[])[0]!.port]).sort(),
      services.map((s) => [`gw-sms-gateway-${s}`, expectedPorts[s]]).sort(),
    );
    assert.equal(ofKind(objects, 'PodDisruptionBudget').length, 5);
    // The router routes with a 64 MB V8 semi-space (fewer scavenges: 69-70 vs 81-91 us a message) and the
    // memory that costs; every other service keeps the chart-wide NODE_OPTIONS and limit.
    for (const service of services) {
      const container = containerOf(deploymentOf(objects, service));
      const router = service === 'router';
      assert.equal(envOf(container, 'NODE_OPTIONS')?.value, router ? '--max-old-space-size=384 --max-semi-space-size=64' : '--max-old-space-size=384', service);
      assert.equal(container.resources.limits['memory'], router ? '640Mi' : '512Mi', service);
    }
    assert.equal(ofKind(objects, 'Ingress').length, 0, 'Ingress is off by default');
    assert.equal(ofKind(objects, 'ServiceMonitor').length, 0, 'ServiceMonitor is off by default');
  });

  test('the gateway file is mounted as a directory where router and carrier-dispatch read GATEWAY_CONFIG_FILE', async () => {
    const objects = await template(minimalValues);
    const configSecret = ofKind(objects, 'Secret').find(
      (s) => s.metadata.name === 'gw-sms-gateway-gateway-config',
    );
    assert.ok(configSecret?.stringData?.['gateway.yaml']?.includes('carriers:'));
    for (const service of services) {
      const deployment = deploymentOf(objects, service);
      const container = containerOf(deployment);
      const mount = container.volumeMounts.find((m) => m.name === 'gateway-config');
      const file = envOf(container, 'GATEWAY_CONFIG_FILE')?.value;
      if (service === 'router' || service === 'carrier-dispatch') {
        assert.equal(file, '/etc/sms-gateway/gateway.yaml');
        assert.equal(mount?.mountPath, '/etc/sms-gateway');
        // A subPath mount never sees Secret updates, and the router reloads the file when it changes.
        assert.equal(mount?.subPath, undefined);
        const volume = deployment.spec!.template!.spec.volumes.find((v) => v.name === 'gateway-config');
        assert.equal(volume?.secret?.secretName, 'gw-sms-gateway-gateway-config');
      } else {
        assert.equal(file, undefined, `${service} gets no carrier credentials`);
        assert.equal(mount, undefined);
      }
    }
    // carrier-dispatch reads the file once, so a changed file rolls it; the router reloads by itself.
    assert.ok(
      deploymentOf(objects, 'carrier-dispatch').spec!.template!.metadata.annotations![
        'checksum/gateway-config'
      ],
    );
    assert.equal(
      deploymentOf(objects, 'router').spec!.template!.metadata.annotations!['checksum/gateway-config'],
      undefined,
    );
  });

  test('credentials reach the pods only through secretKeyRef, never as plain env', async () => {
    const minimal = await template(minimalValues);
    const secret = ofKind(minimal, 'Secret').find((s) => s.metadata.name === 'gw-sms-gateway-env');
    assert.equal(
      secret?.stringData?.['DATABASE_URL'],
      'postgres://gateway:change-me@postgres:5432/sms_gateway',
    );
    const secretValues = Object.values(secret!.stringData!);
    for (const service of services) {
      const container = containerOf(deploymentOf(minimal, service));
      for (const env of container.env) {
        for (const value of secretValues)
          assert.ok(!env.value?.includes(value), `${service} ${env.name} carries a secret in plain text`);
      }
      assert.deepEqual(envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef, {
        name: 'gw-sms-gateway-env',
        key: 'DATABASE_URL',
      });
    }
    const router = containerOf(deploymentOf(minimal, 'router'));
    assert.deepEqual(envOf(router, 'ROUTER_ADMIN_TOKEN')?.valueFrom?.secretKeyRef, {
      name: 'gw-sms-gateway-env',
      key: 'ROUTER_ADMIN_TOKEN',
      optional: true,
    });
    const dlr = containerOf(deploymentOf(minimal, 'dlr-processor'));
    assert.equal(envOf(dlr, 'DLR_HTTP_CARRIER_SECRETS')?.valueFrom?.secretKeyRef?.optional, true);
    // Nothing secret in the whole rendered output outside the Secret objects.
    const rendered = await helmRun(['template', 'gw', chartDir, '-f', minimalValues]);
    const outsideSecrets = rendered
      .split(/^---$/m)
      .filter((doc) => !/^kind: Secret$/m.test(doc))
      .join('\n');
    for (const value of secretValues)
      assert.ok(!outsideSecrets.includes(value), 'a credential leaked outside the Secrets');
  });

  test('production values: existingSecret, replicas, ingress, tracing, ServiceMonitor, per-service env and resources', async () => {
    const objects = await template(productionValues);
    assert.equal(ofKind(objects, 'Secret').length, 0, 'with existingSecret the chart renders no Secret');
    const replicas = Object.fromEntries(services.map((s) => [s, deploymentOf(objects, s).spec!.replicas]));
    // ingest is autoscaled: its Deployment leaves the count to the HPA (an upgrade must not reset it).
    assert.deepEqual(replicas, {
      ingest: undefined,
      router: 3,
      'carrier-dispatch': 3,
      'dlr-processor': 3,
      notifier: 1,
    });
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
    assert.deepEqual(
      hpas.map((h) => [h.metadata.name, h.spec!['minReplicas'], h.spec!['maxReplicas']]),
      [['gw-sms-gateway-ingest', 4, 12]],
    );
    assert.equal(
      ofKind(await template(minimalValues), 'HorizontalPodAutoscaler').length,
      0,
      'no HPA by default',
    );
    // A single replica gets no PodDisruptionBudget (it would block every node drain).
    assert.deepEqual(
      ofKind(objects, 'PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .sort(),
      ['carrier-dispatch', 'dlr-processor', 'ingest', 'router'].map((s) => `gw-sms-gateway-${s}`),
    );
    for (const service of services) {
      const deployment = deploymentOf(objects, service);
      const container = containerOf(deployment);
      assert.deepEqual(envOf(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef, {
        name: 'sms-gateway-credentials',
        key: 'DATABASE_URL',
      });
      assert.equal(envOf(container, 'OTEL_TRACES_EXPORTER')?.value, 'otlp');
      assert.equal(
        envOf(container, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value,
        'http://otel-collector.observability:4318',
      );
      assert.equal(envOf(container, 'KAFKA_GROUP_PREFIX')?.value, 'sms-prod');
      assert.equal(envOf(container, 'TZ')?.value, 'UTC');
      assert.equal(
        envOf(container, 'OTEL_RESOURCE_ATTRIBUTES')?.value,
        'k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),deployment.environment=prod',
      );
      // Referenced with $(...) above, so they must come first in the list.
      const names = container.env.map((e) => e.name);
      assert.ok(names.indexOf('POD_NAME') < names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
      assert.ok(names.indexOf('POD_NAMESPACE') < names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));
      assert.ok(names.includes('NODE_NAME'), 'extraEnv reaches every service');
      // The chart cannot checksum Secrets it does not render.
      assert.equal(deployment.spec!.template!.metadata.annotations!['checksum/secret'], undefined);
    }
    const dispatch = deploymentOf(objects, 'carrier-dispatch');
    assert.equal(
      dispatch.spec!.template!.spec.volumes.find((v) => v.name === 'gateway-config')?.secret?.secretName,
      'sms-gateway-carriers',
    );
    assert.equal(containerOf(dispatch).resources.limits['memory'], '768Mi');
    assert.equal(containerOf(dispatch).resources.requests['memory'], '256Mi');
    assert.equal(envOf(containerOf(deploymentOf(objects, 'ingest')), 'RATE_LIMIT_PER_SECOND')?.value, '2000');
    assert.equal(
      envOf(containerOf(deploymentOf(objects, 'router')), 'ROUTER_QUIET_HOURS')?.value,
      '21:00-08:00',
    );
    assert.equal(envOf(containerOf(deploymentOf(objects, 'notifier')), 'ROUTER_QUIET_HOURS'), undefined);

    const [ingress] = ofKind(objects, 'Ingress');
    assert.ok(ingress, 'Ingress rendered');
    // The public API of ingest, notifier (webhook settings) and dlr-processor (HTTP receipts); never the
    // router's admin API.
    const paths = ingress.spec!.rules![0]!.http.paths.map((p) => [p.path, p.backend.service.name]);
    assert.equal(ingress.spec!.rules![0]!.host, 'sms.example.com');
    assert.deepEqual(paths, [
      ['/', 'gw-sms-gateway-ingest'],
      ['/v1/webhook-endpoints', 'gw-sms-gateway-notifier'],
      ['/v1/webhook-secret', 'gw-sms-gateway-notifier'],
      ['/v1/webhook-settings', 'gw-sms-gateway-notifier'],
      ['/v1/webhook-dead-letters', 'gw-sms-gateway-notifier'],
      ['/v1/carriers', 'gw-sms-gateway-dlr-processor'],
    ]);
    assert.ok(!paths.some(([, service]) => service === 'gw-sms-gateway-router'));
    const [monitor] = ofKind(objects, 'ServiceMonitor');
    assert.ok(monitor, 'ServiceMonitor rendered');
    assert.deepEqual(monitor.spec!['endpoints'], [{ port: 'http', path: '/metrics', interval: '30s' }]);
  });

  test('NOTES.txt lists the services and the PostgreSQL connection budget of the chosen replicas', async () => {
    // helm template never renders NOTES.txt (only install does, against a cluster): render it through a copy
    // of the chart where a ConfigMap carries it through `tpl`.
    const copy = join(mkdtempSync(join(tmpdir(), 'helm-notes-')), 'sms-gateway');
    cpSync(chartDir, copy, { recursive: true });
    cpSync(join(copy, 'templates/NOTES.txt'), join(copy, 'files/notes.txt'));
    writeFileSync(
      join(copy, 'templates/notes-test.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "files/notes.txt") . | quote }}\n',
    );
    const notes = async (values: string) => {
      const out = await helmRun([
        'template',
        'gw',
        copy,
        '-f',
        values,
        '--show-only',
        'templates/notes-test.yaml',
      ]);
      return (parseAllDocuments(out)[0]!.toJS() as { data: { notes: string } }).data.notes;
    };
    const minimal = await notes(minimalValues);
    for (const service of services)
      assert.match(minimal, new RegExp(`gw-sms-gateway-${service}:${expectedPorts[service]}  replicas 2`));
    // ingest 2 x 20 + four services x 2 x 10
    assert.match(minimal, /hold up to 120 connections/);
    // ingest autoscaled to at most 12 x 20 + router, carrier-dispatch, dlr-processor 3 x 10 each + notifier 1 x 10
    const production = await notes(productionValues);
    assert.match(production, /hold up to 340 connections/);
    assert.match(production, /gw-sms-gateway-ingest:8080  autoscaled 4-12 replicas/);
  });

  test('the topics hook Job runs the chart script with the configured replication factor before install and upgrade', async () => {
    const objects = await template(productionValues);
    const [job] = ofKind(objects, 'Job');
    assert.ok(job, 'topics Job rendered');
    assert.equal(job.metadata.annotations!['helm.sh/hook'], 'pre-install,pre-upgrade');
    const container = job.spec!.template!.spec.containers[0]!;
    assert.deepEqual(container.command, ['node', '--input-type=module', '-e']);
    assert.equal(container.args![0], readFileSync(join(chartDir, 'files/ensure-topics.mjs'), 'utf8'));
    assert.equal(envOf(container, 'TOPIC_REPLICATION_FACTOR')?.value, '3');
    // It runs before the release's own objects exist, so it must not need them.
    assert.equal(
      container.env.some((e) => e.valueFrom),
      false,
    );

    const dir = mkdtempSync(join(tmpdir(), 'helm-values-'));
    const off = join(dir, 'off.yaml');
    writeFileSync(off, 'kafka:\n  topics:\n    create: false\n');
    assert.equal(ofKind(await template(minimalValues, off), 'Job').length, 0);
  });
});
