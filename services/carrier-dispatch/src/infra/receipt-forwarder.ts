import { DlrReceivedV1, MoReceivedV1, UNKNOWN_TENANT, type DlrReceivedPayload, type MoReceivedPayload } from '@sms/contracts';
import type { EventDraft, EventPublisher } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { decodeShortMessage } from '@sms/sms-text';
import type { SmppDeliver } from '@sms/smpp';
import { MAX_CARRIER_MESSAGE_ID_LENGTH, normaliseCarrierMessageId } from '../domain/carrier-message-id.js';

/** moReceived's limit for sender and recipient (SMPP addresses are at most 21 octets; a broken SMSC may send more). */
const MAX_MO_ADDRESS_LENGTH = 32;

/**
 * Receipts off the hot path: the session has already answered deliver_sm; here the receipt is only
 * buffered and published raw in small batches. No database work on the SMPP read path, so a burst of
 * receipts can never slow the binds down. Mobile-originated messages go to their own topic.
 */
export class ReceiptForwarder {
  private receipts: EventDraft<DlrReceivedPayload>[] = [];
  private mos: EventDraft<MoReceivedPayload>[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  onForwarded?: (kind: 'receipt' | 'mo', count: number) => void;
  /** A receipt or MO whose fields its event cannot carry (logged, not forwarded). */
  onDropped?: (kind: 'receipt' | 'mo') => void;

  constructor(
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly flushMs: number,
  ) {}

  accept(carrierId: string, deliver: SmppDeliver): void {
    const text = this.text(deliver);
    const receivedAt = deliver.receivedAt.toISOString();
    if (deliver.isReceipt) {
      const rawId = deliver.receiptedMessageId ?? deliver.receipt?.id;
      const carrierMessageId = rawId ? normaliseCarrierMessageId(rawId) : '';
      // Every draft must pass its event's schema: one that did not would fail each publish of the batch it is
      // in, and the retry below would hold every later receipt behind it for ever.
      if (carrierMessageId.length === 0 || carrierMessageId.length > MAX_CARRIER_MESSAGE_ID_LENGTH) {
        this.logger.warn(
          { carrierId, rawId: rawId?.slice(0, 200), rawLength: rawId?.length ?? 0 },
          'receipt without a usable message id (missing, blank or over 128 characters): nothing to correlate, not forwarded',
        );
        this.onDropped?.('receipt');
        return;
      }
      this.receipts.push({
        tenantId: UNKNOWN_TENANT,
        payload: {
          carrierId,
          carrierMessageId,
          messageState: deliver.messageState,
          networkErrorCode: deliver.networkErrorCode
            ? `${deliver.networkErrorCode.networkType}:${deliver.networkErrorCode.errorCode}`
            : undefined,
          text: text.slice(0, 1000),
          receivedAt,
        },
      });
    } else {
      const from = deliver.sourceAddr || '?';
      const to = deliver.destinationAddr || '?';
      if (from.length > MAX_MO_ADDRESS_LENGTH || to.length > MAX_MO_ADDRESS_LENGTH) {
        this.logger.error(
          { carrierId, from: from.slice(0, 64), to: to.slice(0, 64) },
          'mobile-originated message with an address over 32 characters (SMPP allows 21): not forwarded',
        );
        this.onDropped?.('mo');
        return;
      }
      this.mos.push({
        tenantId: UNKNOWN_TENANT,
        payload: { carrierId, from, to, text: text.slice(0, 2000), receivedAt },
      });
    }
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  flush(): Promise<void> {
    // Called directly too (shutdown): the pending timer must not fire later or keep the process alive.
    clearTimeout(this.timer);
    this.timer = undefined;
    const receipts = this.receipts;
    const mos = this.mos;
    this.receipts = [];
    this.mos = [];
    if (receipts.length === 0 && mos.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          // accept() built every draft within its schema's limits (carrier ids from the validated config, ids and
          // addresses checked, texts cut to length, ISO dates), so the publisher skips its zod parse a receipt.
          await this.publisher.publishMany([
            { contract: DlrReceivedV1, drafts: receipts, prevalidated: true },
            { contract: MoReceivedV1, drafts: mos, prevalidated: true },
          ]);
          this.onForwarded?.('receipt', receipts.length);
          this.onForwarded?.('mo', mos.length);
          return;
        } catch (error) {
          // The receipts were already acknowledged to the carrier: keep trying, they exist nowhere else.
          this.logger.error({ attempt, count: receipts.length, error: (error as Error).message }, 'publishing receipts failed; retrying');
          await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
        }
      }
    });
    return this.flushing;
  }

  private text(deliver: SmppDeliver): string {
    const bytes = deliver.messagePayload ?? deliver.shortMessage;
    try {
      const decoded = decodeShortMessage(bytes, { dataCoding: deliver.dataCoding, udhi: (deliver.esmClass & 0x40) !== 0 });
      return decoded.text ?? bytes.toString('latin1');
    } catch {
      return bytes.toString('latin1');
    }
  }
}
