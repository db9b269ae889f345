import type { CarrierConfig } from '@sms/config';
import type { DispatchPayload, TrafficClass } from '@sms/contracts';
import type { SubmitSmRequest } from '@sms/smpp';
import type { HttpSubmitMessage } from '../domain/http-mapping.js';

export class BreakerOpenError extends Error {
  readonly code = 'breaker_open';
  constructor(route: string) {
    super(`circuit breaker of ${route} is open`);
  }
}

export interface BreakerSettings {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeout: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** What goes to the carrier for one part: a submit_sm for SMPP, the whole message for an HTTP carrier. */
export type PartRequest = { kind: 'smpp'; pdu: SubmitSmRequest } | { kind: 'http'; message: HttpSubmitMessage };

export interface PlannedMessage {
  total: number;
  parts: { index: number; request: PartRequest }[];
}

/**
 * One carrier for one lane, whatever its protocol: the dispatch service plans the parts, claims them in
 * the ledger and submits them through this, with the same rate limit, breaker, back-pressure and error
 * classification for SMPP and HTTP carriers.
 */
export interface CarrierRoute {
  readonly name: string;
  readonly carrier: CarrierConfig;
  readonly lane: TrafficClass;
  readonly state: BreakerState;
  onStateChange?: (route: CarrierRoute) => void;
  /** SMPP: bound sessions; HTTP: 1 while the endpoint answers with something other than an auth or network error. */
  readonly bindsUp: number;
  readonly bindsTotal: number;
  readonly reconnects: number;
  start(): void;
  stop(): Promise<void>;
  describeDown(): string;
  /** The parts of a message as this carrier takes them, from part 0. */
  plan(messageId: string, payload: DispatchPayload): PlannedMessage;
  submit(request: PartRequest): Promise<{ messageId: string }>;
}

/** Admission of submits: a dispatch batch larger than what the carrier takes at once waits here (back-pressure). */
export class Admission {
  private admitted = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  async admit(): Promise<void> {
    if (this.admitted < this.capacity) {
      this.admitted++;
      return;
    }
    // The permit is handed over by release(), so admitted stays at capacity.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.admitted--;
  }
}
