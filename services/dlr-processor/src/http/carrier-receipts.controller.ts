import { Controller, Headers, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DlrReceivedV1, UNKNOWN_TENANT } from '@sms/contracts';
import type { EventPublisher } from '@sms/kafka';
import { Counter, type Registry } from '@sms/telemetry';
import { normaliseHttpReceipts, verifyCarrierSignature } from '../domain/http-receipt.js';
import { problems } from './problem.js';

/** Set by service.ts on receipt requests, so the raw body reaches the controller unparsed. */
export const RAW_RECEIPT_CONTENT_TYPE = 'application/x-sms-gateway-raw-receipt';
export const ORIGINAL_CONTENT_TYPE_HEADER = 'x-sms-gateway-original-content-type';

export const CARRIER_RECEIPTS_OPTIONS = Symbol('CARRIER_RECEIPTS_OPTIONS');
export interface CarrierReceiptsOptions {
  secrets: ReadonlyMap<string, readonly string[]>;
  toleranceS: number;
  publisher: Pick<EventPublisher, 'publish'>;
  metrics: Registry;
  logger: { warn(fields: object, message: string): void };
}

/**
 * HTTP carriers' delivery receipts. Verified, validated and published to the same raw-receipt topic the
 * SMPP binds feed (DlrReceivedV1), then answered 200: correlation happens in the consumer, so the answer
 * is fast and a receipt whose message is not known yet is held there like any other.
 * Every request ends in `dlr_http_receipt_requests_total{outcome}`; nothing a carrier sends can crash it.
 */
@Controller('v1/carriers')
export class CarrierReceiptsController {
  private readonly requests: Counter<'outcome'>;

  constructor(@Inject(CARRIER_RECEIPTS_OPTIONS) private readonly options: CarrierReceiptsOptions) {
    this.requests = new Counter({
      name: 'dlr_http_receipt_requests_total',
      help: 'HTTP receipt callbacks by outcome (accepted, unknown_carrier, bad_signature, malformed, unsupported_media_type, unavailable)',
      labelNames: ['outcome'],
      registers: [options.metrics],
    });
  }

  @Post(':carrierId/receipts')
  @HttpCode(200)
  async receive(
    @Param('carrierId') carrierId: string,
    @Req() request: FastifyRequest,
    @Headers('x-carrier-timestamp') timestamp?: string,
    @Headers('x-carrier-signature') signature?: string,
  ) {
    const secrets = this.options.secrets.get(carrierId);
    if (!secrets) {
      this.reject('unknown_carrier', carrierId);
      throw problems.notFound('no HTTP receipt carrier with this id');
    }
    // The raw bytes (see service.ts): the signature covers exactly what was sent.
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const verified = verifyCarrierSignature(secrets, raw, timestamp, signature, Date.now(), this.options.toleranceS);
    if (!verified.ok) {
      this.reject('bad_signature', carrierId, verified.reason);
      throw problems.unauthorized(verified.reason);
    }
    const contentType = request.headers[ORIGINAL_CONTENT_TYPE_HEADER] ?? request.headers['content-type'];
    if (typeof contentType !== 'string' || !/^application\/(.+\+)?json\b/i.test(contentType)) {
      this.reject('unsupported_media_type', carrierId);
      throw problems.unsupportedMediaType();
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      this.reject('malformed', carrierId, 'invalid JSON');
      throw problems.validation([{ field: '(body)', code: 'malformed_json', message: (error as Error).message }]);
    }
    const normalised = normaliseHttpReceipts(body);
    if (!normalised.ok) {
      this.reject('malformed', carrierId, normalised.problems.map((p) => p.field).join(','));
      throw problems.validation(normalised.problems);
    }
    const receivedAt = new Date().toISOString();
    try {
      await this.options.publisher.publish(
        DlrReceivedV1,
        normalised.receipts.map((r) => ({
          tenantId: UNKNOWN_TENANT,
          payload: { carrierId, carrierMessageId: r.carrierMessageId, messageState: r.messageState, networkErrorCode: r.networkErrorCode, text: r.text, receivedAt },
        })),
      );
    } catch (error) {
      // Kafka unreachable: the carrier retries (HTTP carriers resend on non-2xx).
      this.reject('unavailable', carrierId, (error as Error).message);
      throw problems.unavailable();
    }
    this.requests.inc({ outcome: 'accepted' });
    return { accepted: normalised.receipts.length };
  }

  private reject(outcome: string, carrierId: string, detail?: string): void {
    this.requests.inc({ outcome });
    this.options.logger.warn({ carrierId: carrierId.slice(0, 64), outcome, detail }, 'HTTP receipt callback refused');
  }
}
