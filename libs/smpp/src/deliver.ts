import { parseReceiptText, type ReceiptText } from './receipt.js';

export const DELIVER_SM = 0x00000005;
export const DATA_SM = 0x00000103;

/** esm_class bits 5-2 ("message type") of a deliver_sm / data_sm coming from the SMSC. */
export const ESM_MESSAGE_TYPE_MASK = 0x3c;
export const ESM_SMSC_DELIVERY_RECEIPT = 0x04;
export const ESM_INTERMEDIATE_NOTIFICATION = 0x20;
export const ESM_UDHI = 0x40;

/** An SMSC delivery receipt (or intermediate notification) rather than a mobile-originated message. */
export function isReceiptEsmClass(esmClass: number): boolean {
  const type = esmClass & ESM_MESSAGE_TYPE_MASK;
  return type === ESM_SMSC_DELIVERY_RECEIPT || type === ESM_INTERMEDIATE_NOTIFICATION;
}

export interface NetworkErrorCode {
  /** 1 ANSI-136, 2 IS-95, 3 GSM, ... (SMPP 3.4 5.3.2.31). */
  networkType: number;
  errorCode: number;
}

/** A deliver_sm or data_sm from the SMSC, with its user data as the exact bytes sent. */
export interface SmppDeliver {
  command: 'deliver_sm' | 'data_sm';
  sequenceNumber: number;
  serviceType: string;
  esmClass: number;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destinationAddr: string;
  destTon: number;
  destNpi: number;
  protocolId: number;
  registeredDelivery: number;
  dataCoding: number;
  /** Raw short_message (empty for data_sm and when the text came in message_payload); UDH included. */
  shortMessage: Buffer;
  /** Raw message_payload TLV, when present. */
  messagePayload?: Buffer;
  /** receipted_message_id TLV: the message_id the submit_sm_resp returned. */
  receiptedMessageId?: string;
  /** message_state TLV (2 DELIVERED, 3 EXPIRED, 5 UNDELIVERABLE, 8 REJECTED, ...). */
  messageState?: number;
  networkErrorCode?: NetworkErrorCode;
  sar?: { refNum: number; totalSegments: number; seqNum: number };
  /** Every TLV by tag, raw, for vendor-specific ones. */
  tlvs: Map<number, Buffer>;
  /** esm_class message type is SMSC delivery receipt (0x04) or intermediate notification (0x20). */
  isReceipt: boolean;
  /**
   * For receipts, the de-facto receipt text ("id:... stat:DELIVRD err:000 ...") parsed from short_message or
   * message_payload, when it has that form. Some SMSCs put only this, no TLVs.
   */
  receipt?: ReceiptText;
  receivedAt: Date;
}

class Reader {
  offset: number;
  constructor(
    private readonly buffer: Buffer,
    offset: number,
  ) {
    this.offset = offset;
  }

  u8(): number {
    if (this.offset + 1 > this.buffer.length) throw new RangeError('PDU truncated');
    return this.buffer[this.offset++]!;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) throw new RangeError('C-octet string without terminator');
    const value = this.buffer.toString('latin1', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    if (this.offset + length > this.buffer.length) throw new RangeError('PDU truncated');
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
}

/**
 * Parses a deliver_sm or data_sm from its bytes after command_length (command_id first). The `smpp` package
 * decodes short_message into text by data_coding, which loses bytes ('@' vs '¡', 0x80+ octets, UDH), so the
 * session parses the raw PDU itself. Throws RangeError on a malformed PDU.
 */
export function parseDeliverBody(body: Buffer, receivedAt = new Date()): SmppDeliver {
  if (body.length < 12) throw new RangeError('PDU shorter than its header');
  const commandId = body.readUInt32BE(0);
  if (commandId !== DELIVER_SM && commandId !== DATA_SM) {
    throw new RangeError(`not a deliver_sm or data_sm: 0x${commandId.toString(16)}`);
  }
  const command = commandId === DELIVER_SM ? 'deliver_sm' : 'data_sm';
  const sequenceNumber = body.readUInt32BE(8);
  const r = new Reader(body, 12);
  const serviceType = r.cstring();
  const sourceTon = r.u8();
  const sourceNpi = r.u8();
  const sourceAddr = r.cstring();
  const destTon = r.u8();
  const destNpi = r.u8();
  const destinationAddr = r.cstring();
  const esmClass = r.u8();
  let protocolId = 0;
  let registeredDelivery: number;
  let dataCoding: number;
  let shortMessage: Buffer = Buffer.alloc(0);
  if (command === 'deliver_sm') {
    protocolId = r.u8();
    r.u8(); // priority_flag
    r.cstring(); // schedule_delivery_time
    r.cstring(); // validity_period
    registeredDelivery = r.u8();
    r.u8(); // replace_if_present_flag
    dataCoding = r.u8();
    r.u8(); // sm_default_msg_id
    shortMessage = Buffer.from(r.bytes(r.u8()));
  } else {
    registeredDelivery = r.u8();
    dataCoding = r.u8();
  }

  const tlvs = new Map<number, Buffer>();
  while (r.offset + 4 <= body.length) {
    const tag = body.readUInt16BE(r.offset);
    const length = body.readUInt16BE(r.offset + 2);
    r.offset += 4;
    tlvs.set(tag, Buffer.from(r.bytes(length)));
  }

  const deliver: SmppDeliver = {
    command,
    sequenceNumber,
    serviceType,
    esmClass,
    sourceAddr,
    sourceTon,
    sourceNpi,
    destinationAddr,
    destTon,
    destNpi,
    protocolId,
    registeredDelivery,
    dataCoding,
    shortMessage,
    tlvs,
    isReceipt: isReceiptEsmClass(esmClass),
    receivedAt,
  };
  const payload = tlvs.get(0x0424);
  if (payload) deliver.messagePayload = payload;
  const receipted = tlvs.get(0x001e);
  if (receipted) {
    const nul = receipted.indexOf(0);
    deliver.receiptedMessageId = receipted.toString('latin1', 0, nul < 0 ? receipted.length : nul);
  }
  const state = tlvs.get(0x0427);
  if (state?.length === 1) deliver.messageState = state[0]!;
  const networkError = tlvs.get(0x0423);
  if (networkError?.length === 3) {
    deliver.networkErrorCode = { networkType: networkError[0]!, errorCode: networkError.readUInt16BE(1) };
  }
  const refNum = tlvs.get(0x020c);
  const total = tlvs.get(0x020e);
  const seq = tlvs.get(0x020f);
  if (refNum?.length === 2 && total?.length === 1 && seq?.length === 1) {
    deliver.sar = { refNum: refNum.readUInt16BE(0), totalSegments: total[0]!, seqNum: seq[0]! };
  }
  if (deliver.isReceipt) {
    const text = (payload && payload.length > 0 ? payload : shortMessage).toString('latin1');
    const receipt = parseReceiptText(text);
    if (receipt) deliver.receipt = receipt;
  }
  return deliver;
}
