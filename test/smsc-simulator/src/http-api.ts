// HTTP control API: lets tests and the load harness inspect what the "carrier" received and turn
// the knobs while the gateway runs, without being in the same process.
import http from 'node:http';
import { KnobError, parseKnobsPatch } from './knobs.js';
import type { MoMessage, SmscSimulator } from './simulator.js';

const MAX_BODY_BYTES = 1_000_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function parseMo(body: unknown): MoMessage {
  if (typeof body !== 'object' || body === null) throw new HttpError(400, 'expected {from, to, text}');
  const { from, to, text, systemId } = body as Record<string, unknown>;
  if (
    typeof from !== 'string' ||
    typeof to !== 'string' ||
    typeof text !== 'string' ||
    from === '' ||
    to === ''
  ) {
    throw new HttpError(400, 'from, to and text must be strings (from/to non-empty)');
  }
  if (systemId !== undefined && typeof systemId !== 'string')
    throw new HttpError(400, 'systemId must be a string');
  return systemId === undefined ? { from, to, text } : { from, to, text, systemId };
}

function optionalInt(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `${name} must be a non-negative integer`);
  return n;
}

async function route(sim: SmscSimulator, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const method = req.method ?? 'GET';
  const allow = (...methods: string[]): void => {
    if (!methods.includes(method)) throw new HttpError(405, `${method} not allowed on ${url.pathname}`);
  };
  switch (url.pathname) {
    case '/health':
      allow('GET');
      send(res, 200, { status: 'ok', smppPort: sim.port, binds: sim.binds().length });
      return;
    case '/submits': {
      allow('GET', 'DELETE');
      if (method === 'DELETE') {
        const cleared = sim.submits().length;
        sim.clearSubmits();
        send(res, 200, { cleared });
        return;
      }
      const filter: { destination?: string; messageId?: string; systemId?: string } = {};
      const destination = url.searchParams.get('destination');
      const messageId = url.searchParams.get('messageId');
      const systemId = url.searchParams.get('systemId');
      if (destination !== null) filter.destination = destination;
      if (messageId !== null) filter.messageId = messageId;
      if (systemId !== null) filter.systemId = systemId;
      const all = sim.submits(filter);
      const offset = optionalInt(url.searchParams.get('offset'), 'offset') ?? 0;
      const limit = optionalInt(url.searchParams.get('limit'), 'limit');
      const page = all.slice(offset, limit === undefined ? undefined : offset + limit);
      send(res, 200, { count: all.length, offset, submits: page });
      return;
    }
    case '/stats':
      allow('GET');
      send(res, 200, sim.stats());
      return;
    case '/duplicates': {
      allow('GET');
      const groups = sim.duplicates();
      send(res, 200, { count: groups.reduce((n, g) => n + g.count - 1, 0), groups });
      return;
    }
    case '/binds':
      allow('GET');
      send(res, 200, sim.binds());
      return;
    case '/knobs':
      allow('GET', 'PATCH');
      if (method === 'GET') {
        send(res, 200, sim.knobs());
        return;
      }
      send(res, 200, sim.setKnobs(parseKnobsPatch(await readJson(req))));
      return;
    case '/mo':
      allow('POST');
      send(res, 202, sim.injectMo(parseMo(await readJson(req))));
      return;
    case '/malformed-receipt': {
      allow('POST');
      const body = await readJson(req);
      const systemId = typeof body === 'object' && body !== null && 'systemId' in body ? body.systemId : undefined;
      if (systemId !== undefined && typeof systemId !== 'string') throw new HttpError(400, 'systemId must be a string');
      send(res, 202, { sent: sim.injectMalformedReceipt({ systemId }) });
      return;
    }
    default:
      throw new HttpError(404, `no route ${url.pathname}`);
  }
}

export async function startHttpApi(sim: SmscSimulator, port: number, host: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    route(sim, req, res).catch((err: unknown) => {
      if (err instanceof HttpError) send(res, err.status, { error: err.message });
      else if (err instanceof KnobError) send(res, 400, { error: err.message });
      else send(res, 500, { error: err instanceof Error ? err.message : 'internal error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
