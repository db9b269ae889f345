import CircuitBreaker from 'opossum';
import type { HttpCarrierConfig } from '@sms/config';
import type { DispatchPayload, TrafficClass } from '@sms/contracts';
import type { Logger } from '@sms/platform';
import type { FailureClass } from '../domain/error-map.js';
import { buildHttpSubmit, interpretHttpAnswer, type HttpSubmitMessage } from '../domain/http-mapping.js';
import type { AimdRateLimiter } from '../domain/rate-limiter.js';
import { Admission, BreakerOpenError, type BreakerSettings, type BreakerState, type CarrierRoute, type PartRequest, type PlannedMessage } from './route.js';

/** A failed HTTP submit, already classified by the error map (the raw carrier code kept beside it). */
export class HttpCarrierError extends Error {
  constructor(
    readonly failure: FailureClass,
    readonly carrierCode: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One HTTP carrier for one lane. The same limits as an SMPP route: the carrier's shared AIMD limiter (429
 * lowers it like ESME_RTHROTTLED), its own opossum breaker with explicit thresholds, and a bound on requests
 * in flight (the config's `lanes`, the counterpart of binds x window) with back-pressure beyond it.
 * An HTTP carrier takes the whole text, so a message is one part with one carrier message id.
 */
export class HttpCarrierRoute implements CarrierRoute {
  readonly name: string;
  state: BreakerState = 'closed';
  onStateChange?: (route: CarrierRoute) => void;
  private readonly breaker: CircuitBreaker<[HttpSubmitMessage], { messageId: string }>;
  private readonly admission: Admission;
  /** Why the endpoint cannot be used (network error, refused credentials); undefined while it answers. */
  private down: string | undefined;
  private transportFailures = 0;

  constructor(
    readonly carrier: HttpCarrierConfig,
    readonly lane: TrafficClass,
    concurrency: number,
    breaker: BreakerSettings,
    private readonly logger: Logger,
    private readonly limiter?: AimdRateLimiter,
  ) {
    this.name = `${carrier.id}/${lane}`;
    this.admission = new Admission(Math.max(1, concurrency));
    this.breaker = new CircuitBreaker((message: HttpSubmitMessage) => this.send(message), {
      timeout: false, // each request has its own timeout (timeoutMs)
      errorThresholdPercentage: breaker.errorThresholdPercentage,
      volumeThreshold: breaker.volumeThreshold,
      resetTimeout: breaker.resetTimeout,
      rollingCountTimeout: 10000,
      rollingCountBuckets: 10,
      // As for SMPP: a verdict about one message and throttling say nothing about the carrier being down.
      errorFilter: (error: unknown) =>
        error instanceof HttpCarrierError && (error.failure.disposition === 'permanent' || error.failure.reason === 'carrier_throttled'),
    });
    const transition = (state: BreakerState) => () => {
      this.state = state;
      this.logger.warn({ route: this.name, breaker: state }, 'carrier route breaker changed state');
      this.onStateChange?.(this);
    };
    this.breaker.on('open', transition('open'));
    this.breaker.on('halfOpen', transition('half_open'));
    this.breaker.on('close', transition('closed'));
  }

  start(): void {
    // Nothing to connect: the first request shows whether the endpoint and credentials work.
  }

  async stop(): Promise<void> {
    this.breaker.shutdown();
    await Promise.resolve();
  }

  get bindsUp(): number {
    return this.down === undefined ? 1 : 0;
  }

  get bindsTotal(): number {
    return 1;
  }

  get reconnects(): number {
    return this.transportFailures;
  }

  describeDown(): string {
    return `${this.name}: HTTP endpoint unusable (${this.down ?? 'up'}; ${this.transportFailures} failed requests)`;
  }

  plan(messageId: string, p: DispatchPayload): PlannedMessage {
    return {
      total: 1,
      parts: [{ index: 0, request: { kind: 'http', message: { from: p.from, to: p.to, text: p.body, reference: messageId, validUntil: p.validUntil } } }],
    };
  }

  async submit(part: PartRequest): Promise<{ messageId: string }> {
    if (part.kind !== 'http') throw new TypeError(`${this.name} is an HTTP route, given a ${part.kind} request`);
    if (this.breaker.opened) throw new BreakerOpenError(this.name);
    await this.admission.admit();
    try {
      await this.limiter?.acquire(this.lane);
      if (this.breaker.opened) throw new BreakerOpenError(this.name);
      return await this.breaker.fire(part.message);
    } catch (error) {
      if (error instanceof HttpCarrierError && error.failure.reason === 'carrier_throttled') this.limiter?.onThrottled();
      throw error;
    } finally {
      this.admission.release();
    }
  }

  private async send(message: HttpSubmitMessage): Promise<{ messageId: string }> {
    const settings = this.carrier.http;
    const request = buildHttpSubmit(settings, message);
    let status: number;
    let text: string;
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : (error as Error).message;
      if (timedOut) {
        // Like an SMPP response timeout: the carrier may have the message, another carrier is the way on.
        throw new HttpCarrierError({ disposition: 'failover', reason: 'carrier_timeout', finalStatus: 'failed' }, 'timeout', `no answer within ${settings.timeoutMs} ms`);
      }
      this.transportFailures++;
      this.markDown(`network error: ${cause}`);
      throw new HttpCarrierError({ disposition: 'failover', reason: 'carrier_unreachable', finalStatus: 'failed' }, 'network_error', `request failed: ${cause}`);
    }
    const answer = interpretHttpAnswer(settings, status, text);
    if (status === 401 || status === 403) {
      this.transportFailures++;
      this.markDown(`credentials refused (HTTP ${status})`);
    } else {
      this.markDown(undefined);
    }
    if (answer.ok) return { messageId: answer.messageId };
    throw new HttpCarrierError(answer.failure, answer.carrierCode, `carrier answered HTTP ${status} (${answer.carrierCode})`);
  }

  private markDown(why: string | undefined): void {
    if (why === this.down) return;
    const wasDown = this.down !== undefined;
    this.down = why;
    if (why !== undefined && !wasDown) this.logger.warn({ carrier: this.carrier.id, lane: this.lane, route: this.name, detail: why }, 'HTTP carrier endpoint unusable (check url and credentials)');
    if (why === undefined && wasDown) this.logger.info({ carrier: this.carrier.id, lane: this.lane, route: this.name }, 'HTTP carrier endpoint answers again');
    if ((why === undefined) === wasDown) this.onStateChange?.(this);
  }
}
