import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@sms/local-stack';
import { startGateway, type GatewayPorts, type RunningGateway } from '@sms/local-stack/gateway';
import { createTestDatabase, requireEnv, uniqueSuffix } from '@sms/testing';

/** A real HTTP receiver on 127.0.0.1 that records every request. */
export class HttpRecorder {
  readonly requests: { path: string; headers: IncomingHttpHeaders; body: string; receivedAt: number }[] = [];
  private server?: Server;
  port = 0;
  respond: (path: string) => number = () => 200;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
        res.statusCode = this.respond(req.url ?? '/');
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

export interface E2eStack {
  gateway: RunningGateway;
  ports: GatewayPorts;
  apiKey: string;
  webhookSecret: string;
  groupPrefix: string;
  /** The carriers-and-routes file the stack was started with (a test may rewrite it and restart services). */
  gatewayConfigFile: string;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

/** Starts the SMPP simulator and the five services, as `npm start` does, on free ports. */
export async function startE2eStack(env: Record<string, string> = {}): Promise<E2eStack> {
  const apiKey = `sk_test_${randomBytes(24).toString('base64url')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const ports: GatewayPorts = {
    ingest: await freePort(),
    router: await freePort(),
    'carrier-dispatch': await freePort(),
    'dlr-processor': await freePort(),
    notifier: await freePort(),
    smpp: await freePort(),
    simulatorHttp: await freePort(),
  };
  const dir = mkdtempSync(join(tmpdir(), 'sms-e2e-'));
  const groupPrefix = `e2e-${uniqueSuffix()}`;
  // Own database per stack: the services' schemas start empty, like on a fresh install.
  const database = await createTestDatabase('e2e');
  const gateway = await startGateway({
    kafkaBrokers: requireEnv('KAFKA_BROKERS'),
    databaseUrl: database.url,
    ports,
    logDir: join(dir, 'logs'),
    gatewayConfigFile: join(dir, 'gateway.yaml'),
    demo: { tenantId: 'demo', apiKey, webhookSecret },
    mode: 'test',
    groupPrefix,
    receiptDelayMs: 100,
    startAtTopicEnd: true,
    env: { LOG_LEVEL: 'warn', ...env },
    log: (line) => process.stderr.write(`# ${line}\n`),
  });
  const stop = gateway.stop;
  gateway.stop = async () => {
    await stop();
    await database.drop().catch(() => undefined);
  };
  return {
    gateway,
    ports,
    apiKey,
    webhookSecret,
    groupPrefix,
    gatewayConfigFile: join(dir, 'gateway.yaml'),
    api: (path, init = {}) => {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${apiKey}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${gateway.url}${path}`, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
    },
  };
}
