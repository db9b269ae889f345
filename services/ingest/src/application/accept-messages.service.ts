import { createHash, randomUUID } from 'node:crypto';
import { acceptedTopicByLane, newMessageId } from '@sms/contracts';
import type { AcceptedTemplate, IdempotencyRecord, MessagesRepository, NewMessage } from '../infra/messages.repository.js';
import type { ValidMessage } from '../domain/send-request.js';

export interface AcceptInput {
  tenantId: string;
  sandbox: boolean;
  message: ValidMessage;
  source: 'api' | 'kafka';
  sourceEventId?: string;
  traceParent?: string;
  batchId?: string;
}

export interface AcceptedMessage {
  id: string;
  status: 'accepted' | 'scheduled';
  encoding: string;
  segments: number;
  acceptedAt: string;
}

export class IdempotencyConflict extends Error {
  constructor() {
    super('this Idempotency-Key was used with a different request');
  }
}

type Prepared = { row: NewMessage; result: AcceptedMessage };
type Pending = { prepared: Prepared; resolve: (m: AcceptedMessage) => void; reject: (e: unknown) => void };

/** Persists accepted messages and their `accepted` events in one transaction (transactional outbox). */
export class AcceptMessagesService {
  private readonly pending: Pending[] = [];
  private flushing = 0;
  /** Each group commit: how many messages, and how long the statement took (seconds). */
  onGroupCommitted?: (size: number, seconds: number) => void;

  constructor(
    private readonly repository: MessagesRepository,
    private readonly defaultValiditySeconds: number,
    private readonly onCommitted: () => void,
    /**
     * Group commit: at most `maxInFlight` statements of queued single messages at once; beyond the first,
     * a statement only starts for at least `minParallelGroup` waiting messages.
     */
    private readonly groupCommit: { maxInFlight: number; maxGroup: number; minParallelGroup?: number } = { maxInFlight: 3, maxGroup: 500, minParallelGroup: 32 },
  ) {}

  /**
   * One message (the REST hot path). Concurrent requests are committed together: while a transaction is in
   * flight, new requests queue and the next transaction takes them all (group commit), so the database
   * sees a few multi-row transactions instead of one per request. An idle service commits at once, so a
   * lone OTP waits for nothing; under load the wait is at most one transaction.
   *
   * A second (third) statement in parallel only starts for a sizeable group: on the loaded full stack,
   * letting every free slot take whatever was waiting made two thirds of the groups single messages, each
   * paying a statement's full cost (parse, plan, WAL flush) on a database already short of CPU, which made
   * every statement slower. Small groups now wait for the statement in flight (at most one statement time).
   */
  acceptOne(input: AcceptInput): Promise<AcceptedMessage> {
    return new Promise((resolve, reject) => {
      this.pending.push({ prepared: this.prepare([input], new Date())[0]!, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushing >= this.groupCommit.maxInFlight || this.pending.length === 0) return;
    if (this.flushing > 0 && this.pending.length < (this.groupCommit.minParallelGroup ?? 1)) return;
    const group = this.pending.splice(0, this.groupCommit.maxGroup);
    this.flushing++;
    const started = performance.now();
    void this.repository
      .insertAccepted(undefined, { messages: group.map((p) => p.prepared.row) })
      .then(
        () => {
          this.onGroupCommitted?.(group.length, (performance.now() - started) / 1000);
          this.onCommitted();
          for (const p of group) p.resolve(p.prepared.result);
        },
        (error: unknown) => {
          for (const p of group) p.reject(error);
        },
      )
      .finally(() => {
        this.flushing--;
        this.flush();
      });
  }

  /** Accepts a batch in one transaction; returns one result per input, in order. */
  async accept(inputs: AcceptInput[]): Promise<AcceptedMessage[]> {
    const now = new Date();
    const prepared = this.prepare(inputs, now);
    await this.repository.insertAccepted(undefined, { messages: prepared.map((p) => p.row) });
    this.onCommitted();
    return prepared.map((p) => p.result);
  }

  /**
   * A bulk send: the batch row, every accepted message and its outbox row in one transaction (three
   * set-based statements however many recipients), so a batch is accepted whole or not at all.
   *
   * With an Idempotency-Key the key is claimed in that same transaction together with the response
   * `respond` builds (ids are chosen before the transaction, so the response is known up front): a retry
   * with the same key and request gets that stored response back and creates nothing, a different request
   * is a conflict, and of concurrent requests with one key exactly one creates the batch.
   */
  async acceptBatch<R>(
    batch: { id: string; tenantId: string; recipients: number; rejected: number },
    inputs: AcceptInput[],
    respond: (results: AcceptedMessage[]) => R,
    idempotency?: { key: string; rawRequest: unknown },
  ): Promise<{ response: R; replayed: boolean }> {
    const requestHash = idempotency ? hashRequest('batch', idempotency.rawRequest) : '';
    if (idempotency) {
      const existing = await this.repository.findIdempotencyKey(batch.tenantId, idempotency.key);
      if (existing) return { response: replayBatch<R>(existing, requestHash), replayed: true };
    }
    const now = new Date();
    const prepared = this.prepare(inputs, now, batch.id);
    const response = respond(prepared.map((p) => p.result));
    const rows = { messages: prepared.map((p) => p.row), batch: { ...batch, accepted: inputs.length } };
    let created = true;
    if (idempotency) {
      created = await this.repository.transaction(async (tx) => {
        const claimed = await this.repository.claimIdempotencyKey(tx, batch.tenantId, idempotency.key, requestHash, { batchId: batch.id, response });
        if (!claimed) return false;
        await this.repository.insertAccepted(tx, rows);
        return true;
      });
    } else {
      await this.repository.insertAccepted(undefined, rows);
    }
    if (created) {
      if (prepared.length > 0) this.onCommitted();
      return { response, replayed: false };
    }
    const winner = await this.repository.findIdempotencyKey(batch.tenantId, idempotency!.key);
    if (!winner) throw new Error('idempotency key vanished while racing');
    return { response: replayBatch<R>(winner, requestHash), replayed: true };
  }

  /**
   * REST with an Idempotency-Key: the same key and request returns the first message; the same key with
   * a different request is a conflict. Concurrent requests with one key race on the key's primary key,
   * so exactly one creates the message.
   */
  async acceptIdempotent(input: AcceptInput, key: string, rawRequest: unknown): Promise<{ message: AcceptedMessage; replayed: boolean }> {
    const requestHash = hashRequest('message', rawRequest);
    const existing = await this.repository.findIdempotencyKey(input.tenantId, key);
    if (existing) return this.replay(existing, requestHash, input);
    const [prepared] = this.prepare([input], new Date()) as [Prepared];
    const created = await this.repository.transaction(async (tx) => {
      const claimed = await this.repository.claimIdempotencyKey(tx, input.tenantId, key, requestHash, { messageId: prepared.row.id });
      if (!claimed) return false;
      await this.repository.insertAccepted(tx, { messages: [prepared.row] });
      return true;
    });
    if (created) {
      this.onCommitted();
      return { message: prepared.result, replayed: false };
    }
    const winner = await this.repository.findIdempotencyKey(input.tenantId, key);
    if (!winner) throw new Error('idempotency key vanished while racing');
    return this.replay(winner, requestHash, input);
  }

  private async replay(existing: IdempotencyRecord, requestHash: string, input: AcceptInput): Promise<{ message: AcceptedMessage; replayed: boolean }> {
    if (existing.kind !== 'message' || existing.requestHash !== requestHash) throw new IdempotencyConflict();
    const view = await this.repository.findForTenant(input.tenantId, existing.messageId);
    return {
      replayed: true,
      message: {
        id: existing.messageId,
        status: input.message.sendAt ? 'scheduled' : 'accepted',
        encoding: view?.encoding ?? input.message.encoding,
        segments: view?.segments ?? input.message.segments,
        acceptedAt: view?.createdAt ?? new Date().toISOString(),
      },
    };
  }

  /**
   * Ids, rows and results for messages accepted at `now`. Consecutive inputs that differ only in their
   * number (a batch's bare recipients) share one template, so the insert carries their common values once.
   */
  private prepare(inputs: AcceptInput[], now: Date, batchId?: string): Prepared[] {
    const acceptedAt = now.toISOString();
    let template: AcceptedTemplate | undefined;
    let previous: AcceptInput | undefined;
    return inputs.map((input) => {
      const m = input.message;
      if (!template || !previous || !sameTemplate(previous, input)) template = this.template(input, now, acceptedAt, batchId ?? input.batchId);
      previous = input;
      const id = newMessageId(now.getTime());
      return {
        row: { id, eventId: randomUUID(), to: m.to, sourceEventId: input.sourceEventId, template },
        result: { id, status: m.sendAt ? 'scheduled' : 'accepted', encoding: m.encoding, segments: m.segments, acceptedAt },
      };
    });
  }

  private template(input: AcceptInput, now: Date, acceptedAt: string, batchId: string | undefined): AcceptedTemplate {
    const m = input.message;
    const validity = m.validityPeriod ?? this.defaultValiditySeconds;
    const startAt = m.sendAt ? new Date(m.sendAt) : now;
    return {
      tenantId: input.tenantId,
      topic: acceptedTopicByLane[m.trafficClass].topic,
      payload: {
        from: m.from,
        body: m.body,
        trafficClass: m.trafficClass,
        encoding: m.encoding,
        segments: m.segments,
        callbackUrl: m.callbackUrl,
        validUntil: new Date(startAt.getTime() + validity * 1000).toISOString(),
        acceptedAt,
        reference: m.reference,
        sandbox: input.sandbox,
      },
      metadata: m.metadata,
      sendAt: m.sendAt,
      source: input.source,
      batchId,
      traceParent: input.traceParent,
    };
  }
}

/**
 * What two inputs must have in common to share a template: every value but the number (and the Kafka
 * event id, kept per message). The compiler checks that no field of either type is forgotten here.
 */
const templateInputFields = ['tenantId', 'sandbox', 'source', 'traceParent', 'batchId'] as const;
const templateMessageFields = ['from', 'body', 'trafficClass', 'encoding', 'segments', 'callbackUrl', 'validityPeriod', 'sendAt', 'reference', 'metadata'] as const;
type Forgotten =
  | Exclude<keyof AcceptInput, 'message' | 'sourceEventId' | (typeof templateInputFields)[number]>
  | Exclude<keyof ValidMessage, 'to' | (typeof templateMessageFields)[number]>;
const nothingForgotten: [Forgotten] extends [never] ? true : never = true;
void nothingForgotten;

function sameTemplate(a: AcceptInput, b: AcceptInput): boolean {
  for (const field of templateInputFields) if (a[field] !== b[field]) return false;
  // metadata by identity: a batch's bare recipients share the very object; equal copies get a template each.
  for (const field of templateMessageFields) if (a.message[field] !== b.message[field]) return false;
  return true;
}

/**
 * The fingerprint a key is bound to. The endpoint is part of it, so a key first used for a single message
 * and then for a batch (or the other way round) is a different request.
 */
function hashRequest(endpoint: 'message' | 'batch', rawRequest: unknown): string {
  return createHash('sha256').update(endpoint === 'message' ? '' : `${endpoint}\n`).update(JSON.stringify(rawRequest)).digest('hex');
}

/** The stored response of the batch a key created; the caller's type, as it was serialized from it. */
function replayBatch<R>(existing: IdempotencyRecord, requestHash: string): R {
  if (existing.kind !== 'batch' || existing.requestHash !== requestHash) throw new IdempotencyConflict();
  return existing.response as R;
}
