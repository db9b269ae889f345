import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AttemptResult } from '../domain/delivery-policy.js';
import type { ResolvedAddress, Resolver } from '../domain/ssrf-guard.js';

/** Resolves every address of a name, in the resolver's order, as the SSRF guard needs. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface WebhookRequest {
  url: URL;
  /** The host name as written in the URL (brackets stripped): Host header and TLS SNI. */
  hostname: string;
  /** The address the SSRF guard checked: the only one this request may connect to. */
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  /** Absolute deadline (ms since epoch) for the status line to arrive. */
  deadline: number;
  signal?: AbortSignal;
}

/**
 * Abort callbacks per signal, behind one listener each. The dispatcher passes one shutdown signal to every
 * attempt: an EventTarget listener per request made each addEventListener walk hundreds of listeners.
 */
const onAbort = new WeakMap<AbortSignal, Set<() => void>>();

function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = onAbort.get(signal);
  if (!callbacks) {
    const set = new Set<() => void>();
    callbacks = set;
    onAbort.set(signal, set);
    signal.addEventListener('abort', () => {
      for (const cb of [...set]) cb();
      set.clear();
    }, { once: true });
  }
  callbacks.add(callback);
  const own = callbacks;
  return () => own.delete(callback);
}

export class WebhookTimeoutError extends Error {
  constructor() {
    super('webhook timed out');
    this.name = 'WebhookTimeoutError';
  }
}

/**
 * Plain node:http(s) on purpose: no redirect following, no proxy from the environment, and a `lookup` that
 * returns the pre-checked address whatever the name resolves to now (DNS rebinding), while the Host header
 * and SNI keep the name so virtual hosts and certificates work as usual.
 */
export class WebhookHttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  /**
   * `maxFreeSockets` is per host:port: keep as many idle connections as the endpoint may have requests in
   * flight (WEBHOOK_ENDPOINT_CONCURRENCY), or a busy endpoint pays a new TCP (and TLS) handshake per webhook.
   */
  constructor(maxFreeSockets = 16) {
    this.httpAgent = new http.Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxFreeSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxFreeSockets });
  }

  post(request: WebhookRequest): Promise<AttemptResult> {
    const { url, address } = request;
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if (options.all) callback(null, [{ address: address.address, family: address.family }]);
      else callback(null, address.address, address.family);
    };
    const secure = url.protocol === 'https:';
    const auth = url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
    const body = Buffer.from(request.body, 'utf8');

    return new Promise<AttemptResult>((resolve) => {
      if (request.signal?.aborted) {
        resolve({ kind: 'network_error', code: 'aborted' });
        return;
      }
      // Listeners are attached right after the request is created; node emits its events asynchronously.
      const req = (secure ? https : http).request({
        method: 'POST',
        protocol: url.protocol,
        hostname: request.hostname,
        port: url.port || (secure ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        auth,
        lookup: pinned,
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: { ...request.headers, 'content-length': String(body.length) },
      });
      const timer = setTimeout(() => req.destroy(new WebhookTimeoutError()), Math.max(0, request.deadline - Date.now()));
      const forget = request.signal ? whenAborted(request.signal, () => req.destroy(new Error('aborted'))) : undefined;
      let settled = false;
      const settle = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        forget?.();
        resolve(result);
      };
      req.on('response', (res) => {
        settle({ kind: 'response', statusCode: res.statusCode ?? 0 });
        // The body is the receiver's and is not kept; drain it so the socket can be reused, but never
        // past the deadline (a receiver that streams forever must not pin a socket).
        res.resume();
        const drainTimer = setTimeout(() => res.destroy(), Math.max(1000, request.deadline - Date.now()));
        drainTimer.unref();
        res.on('close', () => clearTimeout(drainTimer));
        res.on('error', () => undefined);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof WebhookTimeoutError) settle({ kind: 'timeout' });
        else settle({ kind: 'network_error', code: error.code ?? error.message.slice(0, 60) });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
