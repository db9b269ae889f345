import { DlrReceivedV1, MoReceivedV1, UNKNOWN_TENANT, type DlrReceivedPayload, type MoReceivedPayload } from '@sms/contracts';
import type { EventDraft, EventPublisher } from '@sms/kafka';
import type { Logger } from '@sms/platform';
import { decodeShortMessage } from '@sms/sms-text';
import type { SmppDeliver } from '@sms/smpp';
import { normaliseCarrierMessageId } from '../domain/carrier-message-id.js';

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
      if (!rawId) {
        this.logger.warn({ carrierId }, 'receipt without a message id: nothing to correlate, not forwarded');
        return;
      }
      this.receipts.push({
        tenantId: UNKNOWN_TENANT,
        payload: {
          carrierId,
          carrierMessageId: normaliseCarrierMessageId(rawId),
          messageState: deliver.messageState,
          networkErrorCode: deliver.networkErrorCode
            ? `${deliver.networkErrorCode.networkType}:${deliver.networkErrorCode.errorCode}`
            : undefined,
          text: text.slice(0, 1000),
          receivedAt,
        },
      });
    } else {
      this.mos.push({
        tenantId: UNKNOWN_TENANT,
        payload: { carrierId, from: deliver.sourceAddr || '?', to: deliver.destinationAddr || '?', text: text.slice(0, 2000), receivedAt },
      });
    }
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  flush(): Promise<void> {
    this.timer = undefined;
    const receipts = this.receipts;
    const mos = this.mos;
    this.receipts = [];
    this.mos = [];
    if (receipts.length === 0 && mos.length === 0) return this.flushing;
    this.flushing = this.flushing.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.publisher.publishMany([
            { contract: DlrReceivedV1, drafts: receipts },
            { contract: MoReceivedV1, drafts: mos },
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
