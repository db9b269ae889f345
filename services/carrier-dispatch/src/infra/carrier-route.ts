import CircuitBreaker from 'opossum';
import type { SmppCarrierConfig } from '@sms/config';
import type { DispatchPayload, TrafficClass } from '@sms/contracts';
import { SmppClientSession, SmppCommandError, SmppSessionError, type SmppDeliver, type SmppMalformedPdu, type SubmitSmRequest } from '@sms/smpp';
import type { Logger } from '@sms/platform';
import { splitMessage } from '@sms/sms-text';
import { concatReference } from '../domain/concat-reference.js';
import { classifySmppStatus } from '../domain/error-map.js';
import type { AimdRateLimiter } from '../domain/rate-limiter.js';
import { Admission, BreakerOpenError, type BreakerSettings, type BreakerState, type CarrierRoute, type PartRequest, type PlannedMessage } from './route.js';

const ESME_RMSGQFUL = 0x14;
const ESME_RTHROTTLED = 0x58;

/**
 * One carrier route = one carrier for one lane (traffic class): its own SMPP binds, so OTP never shares a
 * bind or a window with promotional traffic, and its own opossum breaker.
 *
 * The breaker counts only failures that say something about the carrier (bind down, timeouts,
 * throttling, system errors); a permanent verdict about one message (bad number) does not open it.
 * volumeThreshold is explicit: opossum's default of 0 would open on the first early failure.
 */
export class SmppCarrierRoute implements CarrierRoute {
  readonly name: string;
  private readonly sessions: SmppClientSession[] = [];
  private readonly breaker: CircuitBreaker<[SubmitSmRequest], { messageId: string }>;
  private next = 0;
  /**
   * Submits admitted to the sessions at once: each bind's window plus as many waiting. A dispatch batch can
   * be larger than that; the rest wait here (back-pressure) instead of overflowing the session queue.
   */
  private readonly admission: Admission;
  state: BreakerState = 'closed';
  onStateChange?: (route: CarrierRoute) => void;
  /** A PDU from the carrier that could not be decoded (the session logged it and read on). */
  onMalformedPdu?: (pdu: SmppMalformedPdu) => void;

  constructor(
    readonly carrier: SmppCarrierConfig,
    readonly lane: TrafficClass,
    binds: number,
    breaker: BreakerSettings,
    private readonly logger: Logger,
    onDeliver: (carrierId: string, deliver: SmppDeliver) => void,
    /** The carrier's mps limiter on this replica, shared by its lanes. */
    private readonly limiter?: AimdRateLimiter,
  ) {
    this.name = `${carrier.id}/${lane}`;
    const smpp = carrier.smpp;
    this.admission = new Admission(Math.max(1, binds) * smpp.window * 2);
    for (let i = 0; i < binds; i++) {
      const session = new SmppClientSession({
        name: `${this.name}/${i}`,
        host: smpp.host,
        port: smpp.port,
        tls: smpp.tls,
        systemId: smpp.systemId,
        password: smpp.password,
        systemType: smpp.systemType,
        bindType: 'transceiver',
        window: smpp.window,
        responseTimeoutMs: smpp.responseTimeoutMs,
        enquireLinkIntervalMs: smpp.enquireLinkIntervalMs,
        deadLinkTimeoutMs: smpp.enquireLinkIntervalMs + smpp.responseTimeoutMs,
        reconnect: { initialDelayMs: 500, maxDelayMs: 30000, jitter: 0.5 },
        sourceTon: smpp.sourceTon,
        sourceNpi: smpp.sourceNpi,
        destTon: smpp.destTon,
        destNpi: smpp.destNpi,
        logger,
      });
      session.on('deliver', (d) => onDeliver(carrier.id, d));
      session.on('state', () => this.onStateChange?.(this));
      session.on('malformed', (pdu) => this.onMalformedPdu?.(pdu));
      this.sessions.push(session);
    }
    this.breaker = new CircuitBreaker((request: SubmitSmRequest) => this.submitOnSession(request), {
      timeout: false, // the session has its own per-PDU response timeout
      errorThresholdPercentage: breaker.errorThresholdPercentage,
      volumeThreshold: breaker.volumeThreshold,
      resetTimeout: breaker.resetTimeout,
      rollingCountTimeout: 10000,
      rollingCountBuckets: 10,
      // Not counted: a verdict about one message (permanent), and throttling (the carrier is up and says
      // "slower": the AIMD limiter answers that; opening the breaker would turn it into a failover storm).
      errorFilter: (error: unknown) =>
        (error instanceof SmppCommandError &&
          (classifySmppStatus(error.commandStatus).disposition === 'permanent' ||
            error.commandStatus === ESME_RTHROTTLED ||
            error.commandStatus === ESME_RMSGQFUL)) ||
        // Our own queue being full says nothing about the carrier.
        (error instanceof SmppSessionError && error.code === 'queue_full'),
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
    for (const session of this.sessions) {
      session.start().catch((error: unknown) => this.logger.warn({ route: this.name, error: (error as Error).message }, 'bind stopped'));
    }
  }

  async stop(): Promise<void> {
    this.breaker.shutdown();
    await Promise.all(this.sessions.map((s) => s.stop().catch(() => undefined)));
  }

  get bindsUp(): number {
    return this.sessions.filter((s) => s.state === 'bound').length;
  }

  /** Connections re-made after a failure, over all binds (a refused bind counts each try). */
  get reconnects(): number {
    return this.sessions.reduce((n, s) => n + s.counters.reconnects, 0);
  }

  /** Why the route cannot send, for readiness detail. */
  describeDown(): string {
    return `${this.name}: no bind up (${this.sessions.map((s) => s.state).join(', ')}; ${this.reconnects} reconnect attempts)`;
  }

  get bindsTotal(): number {
    return this.sessions.length;
  }

  plan(messageId: string, p: DispatchPayload): PlannedMessage {
    const concat = this.carrier.smpp.concat;
    const split = splitMessage(p.body, { concat, reference: concatReference(messageId, concat) });
    const alphanumeric = !/^\+?\d+$/.test(p.from);
    return {
      total: split.parts.length,
      parts: split.parts.map((part, index) => ({
        index,
        request: {
          kind: 'smpp',
          pdu: {
            sourceAddr: p.from.replace(/^\+/, ''),
            destinationAddr: p.to.replace(/^\+/, ''),
            shortMessage: part.messagePayload ? new Uint8Array(0) : part.shortMessage,
            messagePayload: part.messagePayload,
            esmClass: part.esmClassUdhi ? 0x40 : 0,
            dataCoding: split.dataCoding,
            registeredDelivery: 1,
            sar: part.sar,
            validityPeriod: new Date(p.validUntil),
            ...(alphanumeric ? { sourceTon: 5, sourceNpi: 0 } : { sourceTon: 1, sourceNpi: 1 }),
          },
        },
      })),
    };
  }

  async submit(part: PartRequest): Promise<{ messageId: string }> {
    if (part.kind !== 'smpp') throw new TypeError(`${this.name} is an SMPP route, given a ${part.kind} request`);
    const request = part.pdu;
    if (this.breaker.opened) throw new BreakerOpenError(this.name);
    await this.admission.admit();
    try {
      await this.limiter?.acquire(this.lane);
      if (this.breaker.opened) throw new BreakerOpenError(this.name);
      return await this.breaker.fire(request);
    } catch (error) {
      if (error instanceof SmppCommandError && (error.commandStatus === ESME_RTHROTTLED || error.commandStatus === ESME_RMSGQFUL)) {
        this.limiter?.onThrottled();
      }
      throw error;
    } finally {
      this.admission.release();
    }
  }

  /** Round-robin over bound sessions; when none is bound the session answers not_bound (fail over at once). */
  private submitOnSession(request: SubmitSmRequest): Promise<{ messageId: string }> {
    for (let i = 0; i < this.sessions.length; i++) {
      const session = this.sessions[(this.next + i) % this.sessions.length]!;
      if (session.state === 'bound') {
        this.next = (this.next + i + 1) % this.sessions.length;
        return session.submit(request);
      }
    }
    return this.sessions[0]!.submit(request);
  }
}
