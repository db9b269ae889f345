#!/usr/bin/env node
// Runs the simulator as a process: the default "carrier" for local runs, sandbox tenants and benchmarks.
// Flags win over SMSC_SIM_* environment variables, which win over defaults.
import { parseArgs } from 'node:util';
import { startHttpCarrier, type HttpCarrierSimulator } from './http-carrier.js';
import { KnobError, type KnobsPatch, type OutcomeMix } from './knobs.js';
import { startSimulator, type Credential, type SimulatorEvent } from './simulator.js';

const USAGE = `Usage: node dist/cli.js [options]

  --host <addr>                     SMPP/HTTP bind address        (SMSC_SIM_HOST, default 127.0.0.1)
  --port <n>                        SMPP port, 0 = ephemeral      (SMSC_SIM_PORT, default 2775)
  --http-port <n>                   HTTP control API port         (SMSC_SIM_HTTP_PORT, default none)
  --system-id <id>                  accepted system_id            (SMSC_SIM_SYSTEM_ID, default gateway)
  --password <pw>                   its password                  (SMSC_SIM_PASSWORD, default secret)
  --credentials id:pw,id2:pw2       several accounts              (SMSC_SIM_CREDENTIALS; "*" accepts any)
  --receipt-delay-ms <n>            (SMSC_SIM_RECEIPT_DELAY_MS, default 500)
  --latency-ms <n>                  (SMSC_SIM_LATENCY_MS, default 0)
  --throttle-above-mps <n>          (SMSC_SIM_THROTTLE_ABOVE_MPS)
  --transient-error-rate <0..1>     (SMSC_SIM_TRANSIENT_ERROR_RATE)
  --drop-response-rate <0..1>       (SMSC_SIM_DROP_RESPONSE_RATE)
  --disconnect-after-submits <n>    (SMSC_SIM_DISCONNECT_AFTER_SUBMITS)
  --window-limit <n>                (SMSC_SIM_WINDOW_LIMIT)
  --outcome-mix delivered=0.9,undeliverable=0.05,expired=0.05,rejected=0   (SMSC_SIM_OUTCOME_MIX)
  --seed <n>                        reproducible random draws     (SMSC_SIM_SEED)
  --record-limit <n>                submits kept for GET /submits (SMSC_SIM_RECORD_LIMIT, default 200000)

HTTP carrier mode (besides SMPP; same knobs, its own /knobs, /submits, /duplicates on its port):
  --http-carrier-port <n>           POST /sms submit API, 0 = ephemeral (SMSC_SIM_HTTP_CARRIER_PORT, default off)
  --http-carrier-token <t>          required bearer token         (SMSC_SIM_HTTP_CARRIER_TOKEN, default none)
  --http-carrier-receipt-url <url>  where signed receipts go, e.g. http://127.0.0.1:8084/v1/carriers/<id>/receipts
                                                                  (SMSC_SIM_HTTP_CARRIER_RECEIPT_URL)
  --http-carrier-receipt-secret <s> HMAC secret of X-Carrier-Signature (SMSC_SIM_HTTP_CARRIER_RECEIPT_SECRET)
`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'http-port': { type: 'string' },
  'system-id': { type: 'string' },
  password: { type: 'string' },
  credentials: { type: 'string' },
  'receipt-delay-ms': { type: 'string' },
  'latency-ms': { type: 'string' },
  'throttle-above-mps': { type: 'string' },
  'transient-error-rate': { type: 'string' },
  'drop-response-rate': { type: 'string' },
  'disconnect-after-submits': { type: 'string' },
  'window-limit': { type: 'string' },
  'outcome-mix': { type: 'string' },
  seed: { type: 'string' },
  'record-limit': { type: 'string' },
  'http-carrier-port': { type: 'string' },
  'http-carrier-token': { type: 'string' },
  'http-carrier-receipt-url': { type: 'string' },
  'http-carrier-receipt-secret': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = Exclude<keyof typeof OPTIONS, 'help'>;

function log(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
}

function fail(message: string): never {
  process.stderr.write(`smsc-simulator: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function toNumber(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) fail(`--${name} must be a number, got "${value}"`);
  return n;
}

function parseCredentials(value: string): Credential[] {
  if (value === '*') return [];
  return value.split(',').map((pair) => {
    const colon = pair.indexOf(':');
    if (colon <= 0) fail(`--credentials expects id:password pairs, got "${pair}"`);
    return { systemId: pair.slice(0, colon), password: pair.slice(colon + 1) };
  });
}

function parseMix(value: string): Partial<OutcomeMix> {
  const mix: Record<string, number> = {};
  for (const pair of value.split(',')) {
    const [key, weight] = pair.split('=');
    if (key === undefined || weight === undefined)
      fail(`--outcome-mix expects name=weight pairs, got "${pair}"`);
    mix[key.trim()] = toNumber('outcome-mix', weight);
  }
  return mix;
}

async function main(): Promise<void> {
  // A closed stdout (piped into `head`, parent gone) must not take the carrier down with it.
  process.stdout.on('error', () => undefined);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ options: OPTIONS, allowPositionals: false });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const value = (name: OptionName): string | undefined => {
    const flag = parsed.values[name];
    if (typeof flag === 'string') return flag;
    return process.env[`SMSC_SIM_${name.toUpperCase().replaceAll('-', '_')}`];
  };
  const num = (name: OptionName): number | undefined => {
    const raw = value(name);
    return raw === undefined ? undefined : toNumber(name, raw);
  };

  const credentialsFlag = value('credentials');
  const credentials =
    credentialsFlag !== undefined
      ? parseCredentials(credentialsFlag)
      : [{ systemId: value('system-id') ?? 'gateway', password: value('password') ?? 'secret' }];

  const knobs: KnobsPatch = {};
  const set = <K extends keyof KnobsPatch>(key: K, v: KnobsPatch[K] | undefined): void => {
    if (v !== undefined) knobs[key] = v;
  };
  set('receiptDelayMs', num('receipt-delay-ms'));
  set('latencyMs', num('latency-ms'));
  set('throttleAboveMps', num('throttle-above-mps'));
  set('transientErrorRate', num('transient-error-rate'));
  set('dropResponseRate', num('drop-response-rate'));
  set('disconnectAfterSubmits', num('disconnect-after-submits'));
  set('windowLimit', num('window-limit'));
  const mix = value('outcome-mix');
  if (mix !== undefined) knobs.outcomeMix = parseMix(mix);

  const httpPort = num('http-port');
  const seed = num('seed');
  const recordLimit = num('record-limit');
  const simulator = await startSimulator({
    ...knobs,
    host: value('host') ?? '127.0.0.1',
    port: num('port') ?? 2775,
    credentials,
    ...(httpPort === undefined ? {} : { httpPort }),
    ...(seed === undefined ? {} : { seed }),
    ...(recordLimit === undefined ? {} : { recordLimit }),
    // Binds and unbinds only: never addresses or message bodies.
    onEvent: ({ type, ...details }: SimulatorEvent) => {
      if (type !== 'stopped') log({ event: type, ...details });
    },
  }).catch((err: unknown) => {
    if (err instanceof KnobError) fail(err.message);
    throw err;
  });
  log({ event: 'config', accounts: credentials.map((c) => c.systemId), knobs: simulator.knobs() });

  const httpCarrierPort = num('http-carrier-port');
  let httpCarrier: HttpCarrierSimulator | undefined;
  if (httpCarrierPort !== undefined) {
    const token = value('http-carrier-token');
    const receiptUrl = value('http-carrier-receipt-url');
    const receiptSecret = value('http-carrier-receipt-secret');
    httpCarrier = await startHttpCarrier({
      ...knobs,
      host: value('host') ?? '127.0.0.1',
      port: httpCarrierPort,
      ...(token === undefined ? {} : { token }),
      ...(receiptUrl === undefined ? {} : { receiptUrl }),
      ...(receiptSecret === undefined ? {} : { receiptSecret }),
    });
    // The URL only: never the token or the secret.
    log({ event: 'http-carrier', submitUrl: httpCarrier.submitUrl, port: httpCarrier.port, receipts: receiptUrl !== undefined });
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log({ event: 'shutdown', signal });
    Promise.all([simulator.stop(), httpCarrier?.stop()]).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`smsc-simulator: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `smsc-simulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
