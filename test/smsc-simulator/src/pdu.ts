// A minimal SMPP 3.4 wire codec for the SMSC side.
//
// The simulator deliberately does not decode with the `smpp` npm package: that package turns
// `short_message` into text through its GSM/Latin-1 tables (lossy), and the gateway's own client is
// built on it, so a shared codec would hide symmetric bugs. Owning the few PDUs an SMSC needs keeps
// the record byte-exact and makes the simulator an independent check of the gateway's encoder.

export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
} as const;

export const RESPONSE_BIT = 0x80000000;

/** The SMPP 3.4 command_status values the simulator emits (§5.1.3). */
export const CommandStatus = {
  ESME_ROK: 0x00000000,
  ESME_RINVMSGLEN: 0x00000001,
  ESME_RINVCMDLEN: 0x00000002,
  ESME_RINVCMDID: 0x00000003,
  ESME_RINVBNDSTS: 0x00000004,
  ESME_RALYBND: 0x00000005,
  ESME_RSYSERR: 0x00000008,
  ESME_RINVDSTADR: 0x0000000b,
  ESME_RBINDFAIL: 0x0000000d,
  ESME_RINVPASWD: 0x0000000e,
  ESME_RINVSYSID: 0x0000000f,
  ESME_RMSGQFUL: 0x00000014,
  ESME_RTHROTTLED: 0x00000058,
  ESME_RX_T_APPN: 0x00000064,
  ESME_RX_P_APPN: 0x00000065,
} as const;

export type CommandStatusName = keyof typeof CommandStatus;

const STATUS_NAMES = new Map<number, string>(
  Object.entries(CommandStatus).map(([name, value]) => [value, name]),
);

/** `ESME_RTHROTTLED` for 0x58; `0x0000abcd` for values the simulator has no name for. */
export function commandStatusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `0x${status.toString(16).padStart(8, '0')}`;
}

export const TlvTag = {
  receipted_message_id: 0x001e,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  sc_interface_version: 0x0210,
  network_error_code: 0x0423,
  message_payload: 0x0424,
  message_state: 0x0427,
} as const;

export const HEADER_LENGTH = 16;
/** Larger than any legitimate PDU (message_payload tops out near 64 KiB); guards against garbage. */
export const MAX_PDU_LENGTH = 70_000;

export interface RawPdu {
  commandLength: number;
  commandId: number;
  commandStatus: number;
  sequenceNumber: number;
  body: Buffer;
}

export class PduFramingError extends Error {}
export class PduBodyError extends Error {}

/** Splits a TCP byte stream into PDUs; keeps a partial PDU until the rest arrives. */
export class PduFramer {
  private pending: Buffer | null = null;

  push(chunk: Buffer): RawPdu[] {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const out: RawPdu[] = [];
    let offset = 0;
    while (buf.length - offset >= HEADER_LENGTH) {
      const commandLength = buf.readUInt32BE(offset);
      if (commandLength < HEADER_LENGTH || commandLength > MAX_PDU_LENGTH) {
        throw new PduFramingError(`impossible command_length ${commandLength}`);
      }
      if (buf.length - offset < commandLength) break;
      out.push({
        commandLength,
        commandId: buf.readUInt32BE(offset + 4),
        commandStatus: buf.readUInt32BE(offset + 8),
        sequenceNumber: buf.readUInt32BE(offset + 12),
        body: buf.subarray(offset + HEADER_LENGTH, offset + commandLength),
      });
      offset += commandLength;
    }
    this.pending = offset < buf.length ? buf.subarray(offset) : null;
    return out;
  }
}

class BodyReader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  u8(): number {
    if (this.offset + 1 > this.buf.length) throw new PduBodyError('body ends inside an integer field');
    return this.buf[this.offset++] as number;
  }

  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new PduBodyError('C-Octet String without terminating NUL');
    const value = this.buf.toString('latin1', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    if (this.offset + length > this.buf.length) throw new PduBodyError('body ends inside an octet string');
    const value = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  tlvs(): Map<number, Buffer> {
    const tlvs = new Map<number, Buffer>();
    while (this.remaining > 0) {
      if (this.remaining < 4) throw new PduBodyError('truncated TLV header');
      const tag = this.buf.readUInt16BE(this.offset);
      const length = this.buf.readUInt16BE(this.offset + 2);
      this.offset += 4;
      tlvs.set(tag, this.bytes(length));
    }
    return tlvs;
  }
}

export interface BindRequest {
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
}

export function decodeBind(body: Buffer): BindRequest {
  const r = new BodyReader(body);
  return {
    systemId: r.cstring(),
    password: r.cstring(),
    systemType: r.cstring(),
    interfaceVersion: r.u8(),
    addrTon: r.u8(),
    addrNpi: r.u8(),
    addressRange: r.cstring(),
  };
}

export interface SubmitSm {
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
  tlvs: Map<number, Buffer>;
}

/** deliver_sm shares submit_sm's body layout (§4.4.1 / §4.6.1). */
export function decodeSubmitSm(body: Buffer): SubmitSm {
  const r = new BodyReader(body);
  const serviceType = r.cstring();
  const sourceAddrTon = r.u8();
  const sourceAddrNpi = r.u8();
  const sourceAddr = r.cstring();
  const destAddrTon = r.u8();
  const destAddrNpi = r.u8();
  const destinationAddr = r.cstring();
  const esmClass = r.u8();
  const protocolId = r.u8();
  const priorityFlag = r.u8();
  const scheduleDeliveryTime = r.cstring();
  const validityPeriod = r.cstring();
  const registeredDelivery = r.u8();
  const replaceIfPresentFlag = r.u8();
  const dataCoding = r.u8();
  const smDefaultMsgId = r.u8();
  const smLength = r.u8();
  const shortMessage = r.bytes(smLength);
  const tlvs = r.tlvs();
  return {
    serviceType,
    sourceAddrTon,
    sourceAddrNpi,
    sourceAddr,
    destAddrTon,
    destAddrNpi,
    destinationAddr,
    esmClass,
    protocolId,
    priorityFlag,
    scheduleDeliveryTime,
    validityPeriod,
    registeredDelivery,
    replaceIfPresentFlag,
    dataCoding,
    smDefaultMsgId,
    shortMessage,
    tlvs,
  };
}

export function encodePdu(
  commandId: number,
  commandStatus: number,
  sequenceNumber: number,
  body?: Buffer,
): Buffer {
  const bodyLength = body === undefined ? 0 : body.length;
  const out = Buffer.allocUnsafe(HEADER_LENGTH + bodyLength);
  out.writeUInt32BE(HEADER_LENGTH + bodyLength, 0);
  out.writeUInt32BE(commandId, 4);
  out.writeUInt32BE(commandStatus, 8);
  out.writeUInt32BE(sequenceNumber, 12);
  if (body !== undefined) body.copy(out, HEADER_LENGTH);
  return out;
}

/** Responses with an error status carry no body (§4.1.2, §4.4.2). */
export function encodeCStringResponse(
  commandId: number,
  commandStatus: number,
  sequenceNumber: number,
  value: string,
  tlvs: TlvValue[] = [],
): Buffer {
  if (commandStatus !== CommandStatus.ESME_ROK) return encodePdu(commandId, commandStatus, sequenceNumber);
  const w = new BodyWriter();
  w.cstring(value);
  for (const tlv of tlvs) w.tlv(tlv);
  return encodePdu(commandId, commandStatus, sequenceNumber, w.finish());
}

export interface TlvValue {
  tag: number;
  value: Buffer;
}

export function tlvU8(tag: number, value: number): TlvValue {
  return { tag, value: Buffer.from([value & 0xff]) };
}

export function tlvCString(tag: number, value: string): TlvValue {
  return { tag, value: Buffer.concat([Buffer.from(value, 'latin1'), Buffer.from([0])]) };
}

class BodyWriter {
  private readonly parts: Buffer[] = [];

  u8(value: number): void {
    this.parts.push(Buffer.from([value & 0xff]));
  }

  cstring(value: string): void {
    this.parts.push(Buffer.from(value, 'latin1'), Buffer.from([0]));
  }

  octets(value: Buffer): void {
    this.parts.push(value);
  }

  tlv({ tag, value }: TlvValue): void {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt16BE(tag, 0);
    head.writeUInt16BE(value.length, 2);
    this.parts.push(head, value);
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface DeliverSm {
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  dataCoding: number;
  shortMessage: Buffer;
  tlvs: TlvValue[];
}

export function encodeDeliverSm(sequenceNumber: number, sm: DeliverSm): Buffer {
  if (sm.shortMessage.length > 254) throw new RangeError('short_message longer than 254 octets');
  const w = new BodyWriter();
  w.cstring(sm.serviceType);
  w.u8(sm.sourceAddrTon);
  w.u8(sm.sourceAddrNpi);
  w.cstring(sm.sourceAddr);
  w.u8(sm.destAddrTon);
  w.u8(sm.destAddrNpi);
  w.cstring(sm.destinationAddr);
  w.u8(sm.esmClass);
  w.u8(0); // protocol_id
  w.u8(0); // priority_flag
  w.cstring(''); // schedule_delivery_time must be NULL in deliver_sm
  w.cstring(''); // validity_period must be NULL in deliver_sm
  w.u8(0); // registered_delivery
  w.u8(0); // replace_if_present_flag
  w.u8(sm.dataCoding);
  w.u8(0); // sm_default_msg_id
  w.u8(sm.shortMessage.length);
  w.octets(sm.shortMessage);
  for (const tlv of sm.tlvs) w.tlv(tlv);
  return encodePdu(CommandId.deliver_sm, CommandStatus.ESME_ROK, sequenceNumber, w.finish());
}

/** Used by the benchmark's bare client and unit tests; the simulator itself never submits. */
export function encodeSubmitSm(
  sequenceNumber: number,
  sm: Omit<SubmitSm, 'tlvs'> & { tlvs?: TlvValue[] },
): Buffer {
  const w = new BodyWriter();
  w.cstring(sm.serviceType);
  w.u8(sm.sourceAddrTon);
  w.u8(sm.sourceAddrNpi);
  w.cstring(sm.sourceAddr);
  w.u8(sm.destAddrTon);
  w.u8(sm.destAddrNpi);
  w.cstring(sm.destinationAddr);
  w.u8(sm.esmClass);
  w.u8(sm.protocolId);
  w.u8(sm.priorityFlag);
  w.cstring(sm.scheduleDeliveryTime);
  w.cstring(sm.validityPeriod);
  w.u8(sm.registeredDelivery);
  w.u8(sm.replaceIfPresentFlag);
  w.u8(sm.dataCoding);
  w.u8(sm.smDefaultMsgId);
  w.u8(sm.shortMessage.length);
  w.octets(sm.shortMessage);
  for (const tlv of sm.tlvs ?? []) w.tlv(tlv);
  return encodePdu(CommandId.submit_sm, CommandStatus.ESME_ROK, sequenceNumber, w.finish());
}

export function encodeBind(
  commandId: number,
  sequenceNumber: number,
  systemId: string,
  password: string,
): Buffer {
  const w = new BodyWriter();
  w.cstring(systemId);
  w.cstring(password);
  w.cstring(''); // system_type
  w.u8(0x34); // interface_version 3.4
  w.u8(0);
  w.u8(0);
  w.cstring(''); // address_range
  return encodePdu(commandId, CommandStatus.ESME_ROK, sequenceNumber, w.finish());
}
