// HTTP carrier mode: a carrier with a JSON submit API instead of SMPP, honouring the same knobs, that
// reports the outcome by POSTing a signed receipt to the gateway's HTTP receipt callback
// (dlr-processor: POST /v1/carriers/{carrierId}/receipts, X-Carrier-Timestamp + X-Carrier-Signature).
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { applyKnobs, DEFAULT_KNOBS, KnobError, parseKnobsPatch, pickKnobs, type KnobsPatch, type SimulatorKnobs } from './knobs.js';
import { magicBehaviourOf, RECEIPT_STATES, type MagicBehaviour, type Outcome } from './simulator.js';

export interface HttpCarrierOptions extends KnobsPatch {
  port?: number;
  host?: string;
  /** The submit API requires `Authorization: Bearer <token>`; undefined = no auth. */
  token?: string;
  /** Where receipts are POSTed; undefined = no receipts. */
  receiptUrl?: string;
  /** HMAC secret of the receipt signature (the gateway's DLR_HTTP_CARRIER_SECRETS entry). */
  receiptSecret?: string;
  /** Seed for the rate knobs and outcomeMix draws; default Math.random. */
  random?: () => number;
}

export interface HttpSubmitRecord {
  /** Null when the submit was refused or swallowed. */
  messageId: string | null;
  from: string;
  to: string;
  text: string;
  reference: string | null;
  receivedAt: string;
  /** The HTTP status answered; null while pending or when swallowed. */
  status: number | null;
  outcome: Outcome | null;
  receipt: 'pending' | 'sent' | 'failed' | null;
}

export interface HttpCarrierSimulator {
  readonly port: number;
  /** The submit endpoint: `POST {url}` with `{to, from, text, reference?}`. */
  readonly submitUrl: string;
  readonly baseUrl: string;
  submits(filter?: { to?: string; messageId?: string }): HttpSubmitRecord[];
  /** Accepted submits (with a message id) of the same reference (or the same to + text when none). */
  duplicates(): { key: string; count: number }[];
  knobs(): SimulatorKnobs;
  setKnobs(patch: KnobsPatch): SimulatorKnobs;
  receiptsSent(): number;
  stop(): Promise<void>;
}

const SUBMIT_PATH = '/sms';

/** The carrier's error codes in its answers (`{"error":{"code":...}}`), for the gateway's `errors` map. */
export const HTTP_CARRIER_ERRORS = {
  unauthorized: 'UNAUTHORIZED',
  badRequest: 'BAD_REQUEST',
  invalidNumber: 'INVALID_NUMBER',
  throttled: 'THROTTLED',
  queueFull: 'QUEUE_FULL',
  temporary: 'TEMPORARY',
} as const;

type Answer = { status: 200; outcome: Outcome; code?: undefined } | { status: 400 | 429 | 503; code: string; outcome?: undefined };

class HttpCarrier implements HttpCarrierSimulator {
  port = 0;
  private knobState: SimulatorKnobs;
  private readonly records: HttpSubmitRecord[] = [];
  private readonly rateTimes: number[] = [];
  private inFlight = 0;
  private sent = 0;
  private readonly random: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private readonly server: http.Server;
  private readonly messageIdBase = Math.floor(Math.random() * 2 ** 39);
  private counter = 0;

  constructor(private readonly options: HttpCarrierOptions) {
    this.knobState = applyKnobs({ ...DEFAULT_KNOBS, outcomeMix: { ...DEFAULT_KNOBS.outcomeMix } }, pickKnobs(options));
    this.random = options.random ?? Math.random;
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        const status = error instanceof KnobError ? 400 : 500;
        if (!res.headersSent) this.json(res, status, { error: { code: status === 400 ? HTTP_CARRIER_ERRORS.badRequest : 'INTERNAL', message: (error as Error).message } });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get submitUrl(): string {
    return `${this.baseUrl}${SUBMIT_PATH}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://carrier');
    const method = req.method ?? 'GET';
    if (url.pathname === SUBMIT_PATH && method === 'POST') return this.onSubmit(req, res);
    if (url.pathname === '/submits' && method === 'GET') {
      const to = url.searchParams.get('to') ?? undefined;
      const messageId = url.searchParams.get('messageId') ?? undefined;
      const submits = this.submits({ to, messageId });
      return this.json(res, 200, { count: submits.length, submits });
    }
    if (url.pathname === '/duplicates' && method === 'GET') {
      const groups = this.duplicates();
      return this.json(res, 200, { count: groups.reduce((n, g) => n + g.count - 1, 0), groups });
    }
    if (url.pathname === '/knobs' && method === 'GET') return this.json(res, 200, this.knobs());
    if (url.pathname === '/knobs' && method === 'PATCH') return this.json(res, 200, this.setKnobs(parseKnobsPatch(JSON.parse(await readBody(req)) as unknown)));
    this.json(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${url.pathname}` } });
  }

  private async onSubmit(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.options.token !== undefined && req.headers.authorization !== `Bearer ${this.options.token}`) {
      return this.json(res, 401, { error: { code: HTTP_CARRIER_ERRORS.unauthorized, message: 'bad or missing bearer token' } });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return this.json(res, 400, { error: { code: HTTP_CARRIER_ERRORS.badRequest, message: 'body is not JSON' } });
    }
    const { to, from, text, reference } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (typeof to !== 'string' || typeof from !== 'string' || typeof text !== 'string' || to === '' || from === '') {
      return this.json(res, 400, { error: { code: HTTP_CARRIER_ERRORS.badRequest, message: 'to, from and text are required strings' } });
    }
    const record: HttpSubmitRecord = {
      messageId: null,
      from,
      to,
      text,
      reference: typeof reference === 'string' ? reference : null,
      receivedAt: new Date().toISOString(),
      status: null,
      outcome: null,
      receipt: null,
    };
    this.records.push(record);
    const now = Date.now();
    const magic = magicBehaviourOf(to.replace(/^\+/, ''));
    const answer = this.decide(magic, now);
    this.rateTimes.push(now);
    if (answer === null) return; // swallowed: the socket stays open until the client gives up
    this.inFlight++;
    const respond = () => {
      this.inFlight--;
      record.status = answer.status;
      if (answer.outcome !== undefined) {
        record.messageId = this.nextMessageId();
        record.outcome = answer.outcome;
        this.json(res, 200, { messageId: record.messageId });
        if (magic !== 'NO_RECEIPT') this.scheduleReceipt(record);
      } else {
        this.json(res, answer.status, { error: { code: answer.code, message: answer.code.toLowerCase() } }, answer.status === 429 ? { 'retry-after': '1' } : {});
      }
    };
    if (this.knobState.latencyMs > 0) this.later(respond, this.knobState.latencyMs);
    else respond();
  }

  /** The answer to a submit, or null to swallow it (dropResponseRate, NO_RESPONSE). */
  private decide(magic: MagicBehaviour | null, now: number): Answer | null {
    const knobs = this.knobState;
    if (knobs.throttleAboveMps !== null) {
      while (this.rateTimes.length > 0 && this.rateTimes[0]! <= now - 1000) this.rateTimes.shift();
      if (this.rateTimes.length >= knobs.throttleAboveMps) return { status: 429, code: HTTP_CARRIER_ERRORS.throttled };
    } else if (this.rateTimes.length > 10_000) {
      this.rateTimes.splice(0, this.rateTimes.length - 1000);
    }
    if (knobs.windowLimit !== null && this.inFlight >= knobs.windowLimit) return { status: 503, code: HTTP_CARRIER_ERRORS.queueFull };
    switch (magic) {
      case 'INVALID_DESTINATION':
        return { status: 400, code: HTTP_CARRIER_ERRORS.invalidNumber };
      case 'THROTTLED':
        return { status: 429, code: HTTP_CARRIER_ERRORS.throttled };
      case 'NO_RESPONSE':
        return null;
      case 'TRANSIENT_ERROR':
        return { status: 503, code: HTTP_CARRIER_ERRORS.temporary };
      default:
    }
    if (knobs.dropResponseRate > 0 && this.random() < knobs.dropResponseRate) return null;
    if (knobs.transientErrorRate > 0 && this.random() < knobs.transientErrorRate) return { status: 503, code: HTTP_CARRIER_ERRORS.temporary };
    return { status: 200, outcome: this.outcomeFor(magic) };
  }

  private outcomeFor(magic: MagicBehaviour | null): Outcome {
    if (magic === 'UNDELIVERABLE') return 'undeliverable';
    if (magic === 'REJECTED') return 'rejected';
    if (magic === 'EXPIRED') return 'expired';
    if (magic === 'DELIVERED' || magic === 'NO_RECEIPT') return 'delivered';
    const mix = this.knobState.outcomeMix;
    let pick = this.random() * (mix.delivered + mix.undeliverable + mix.expired + mix.rejected);
    for (const outcome of ['delivered', 'undeliverable', 'expired', 'rejected'] as const) {
      pick -= mix[outcome];
      if (pick < 0) return outcome;
    }
    return 'delivered';
  }

  private nextMessageId(): string {
    // Upper-case hex with leading zeros, so the gateway's id normalisation is exercised.
    this.counter++;
    return ((this.messageIdBase + this.counter) % 2 ** 40).toString(16).toUpperCase().padStart(12, '0');
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** POSTs the signed receipt; a non-2xx or unreachable callback is retried a few times, as carriers do. */
  private scheduleReceipt(record: HttpSubmitRecord, attempt = 1, resend?: string): void {
    const { receiptUrl, receiptSecret } = this.options;
    if (!receiptUrl) return;
    record.receipt = 'pending';
    this.later(() => {
      const state = RECEIPT_STATES[record.outcome ?? 'delivered'];
      // A resend carries the same receipt; only the timestamp and signature are fresh.
      const body =
        resend ??
        JSON.stringify({
          carrierMessageId: record.messageId,
          status: state.stat,
          errorCode: String(state.err).padStart(3, '0'),
          doneAt: new Date().toISOString(),
        });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-carrier-timestamp': timestamp };
      if (receiptSecret) headers['x-carrier-signature'] = `sha256=${createHmac('sha256', receiptSecret).update(`${timestamp}.${body}`).digest('hex')}`;
      fetch(receiptUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) })
        .then(async (response) => {
          await response.arrayBuffer();
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          record.receipt = 'sent';
          this.sent++;
        })
        .catch(() => {
          if (attempt < 5) this.scheduleReceipt(record, attempt + 1, body);
          else record.receipt = 'failed';
        });
    }, attempt === 1 ? this.knobState.receiptDelayMs : 500 * attempt);
  }

  submits(filter: { to?: string; messageId?: string } = {}): HttpSubmitRecord[] {
    return this.records.filter(
      (r) => (filter.to === undefined || r.to.replace(/^\+/, '') === filter.to.replace(/^\+/, '')) && (filter.messageId === undefined || r.messageId === filter.messageId),
    );
  }

  duplicates(): { key: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const r of this.records) {
      if (r.messageId === null) continue;
      const key = r.reference ?? `${r.to}|${r.text}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].filter(([, count]) => count > 1).map(([key, count]) => ({ key, count }));
  }

  knobs(): SimulatorKnobs {
    return { ...this.knobState, outcomeMix: { ...this.knobState.outcomeMix } };
  }

  setKnobs(patch: KnobsPatch): SimulatorKnobs {
    this.knobState = applyKnobs(this.knobState, patch);
    return this.knobs();
  }

  receiptsSent(): number {
    return this.sent;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_000_000) throw new KnobError('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts an HTTP carrier on 127.0.0.1 (port 0 = a free one). */
export async function startHttpCarrier(options: HttpCarrierOptions = {}): Promise<HttpCarrierSimulator> {
  const carrier = new HttpCarrier(options);
  await carrier.listen();
  return carrier;
}
