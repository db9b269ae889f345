import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { DueQueue, nowMs } from './due-queue.js';
import { startHttpApi } from './http-api.js';
import {
  applyKnobs,
  DEFAULT_KNOBS,
  pickKnobs,
  type KnobsPatch,
  type OutcomeMix,
  type SimulatorKnobs,
} from './knobs.js';
import {
  buildMoParts,
  decodeUserData,
  parseUdh,
  receiptText,
  type ConcatInfo,
  type UdhInfo,
} from './message.js';
import {
  CommandId,
  CommandStatus,
  commandStatusName,
  decodeBind,
  decodeSubmitSm,
  encodeCStringResponse,
  encodeDeliverSm,
  encodePdu,
  PduFramer,
  PduFramingError,
  RESPONSE_BIT,
  tlvCString,
  tlvU8,
  TlvTag,
  type DeliverSm,
  type RawPdu,
  type SubmitSm,
} from './pdu.js';

/**
 * Destinations whose last four digits pick a behaviour, whatever the country prefix.
 * Any other destination is delivered (or follows the `outcomeMix` knob).
 */
export const MAGIC_NUMBERS = {
  /** Accepted, receipt stat:DELIVRD (message_state 2). */
  DELIVERED: '0001',
  /** Accepted, receipt stat:UNDELIV err:001 (message_state 5). */
  UNDELIVERABLE: '0002',
  /** submit_sm_resp ESME_RINVDSTADR, no message id, no receipt. */
  INVALID_DESTINATION: '0003',
  /** Accepted, receipt stat:REJECTD err:013 (message_state 8). */
  REJECTED: '0004',
  /** Accepted, receipt stat:EXPIRED err:027 (message_state 3). */
  EXPIRED: '0005',
  /** submit_sm_resp ESME_RTHROTTLED. */
  THROTTLED: '0006',
  /** The submit_sm is swallowed: no response at all. */
  NO_RESPONSE: '0007',
  /** submit_sm_resp ESME_RSYSERR (transient). */
  TRANSIENT_ERROR: '0008',
  /** Accepted with a message id, but no receipt ever. */
  NO_RECEIPT: '0009',
} as const;

export type MagicBehaviour = keyof typeof MAGIC_NUMBERS;

const MAGIC_BY_SUFFIX = new Map<string, MagicBehaviour>(
  (Object.entries(MAGIC_NUMBERS) as Array<[MagicBehaviour, string]>).map(([name, suffix]) => [suffix, name]),
);

export function magicBehaviourOf(destinationAddr: string): MagicBehaviour | null {
  return MAGIC_BY_SUFFIX.get(destinationAddr.slice(-4)) ?? null;
}

/**
 * A destination that triggers `behaviour`. The default prefix is in the UK range reserved for
 * drama (07700 900xxx), so it can never reach a real handset if it leaks to a real carrier.
 */
export function magicNumber(behaviour: MagicBehaviour, prefix = '44770090'): string {
  return `${prefix}${MAGIC_NUMBERS[behaviour]}`;
}

export type Outcome = keyof OutcomeMix;

/** Final states as reported in receipts (SMPP 3.4 §5.2.28 message_state, Appendix B text). */
export const RECEIPT_STATES: Readonly<
  Record<Outcome, { stat: string; messageState: number; err: number; final: 'success' | 'failure' }>
> = {
  delivered: { stat: 'DELIVRD', messageState: 2, err: 0, final: 'success' },
  undeliverable: { stat: 'UNDELIV', messageState: 5, err: 1, final: 'failure' },
  expired: { stat: 'EXPIRED', messageState: 3, err: 27, final: 'failure' },
  rejected: { stat: 'REJECTD', messageState: 8, err: 13, final: 'failure' },
};

/** network_error_code type octet (§5.3.2.31): 3 = GSM, whose MAP errors the err codes borrow. */
const NETWORK_TYPE_GSM = 3;

export type BindType = 'transceiver' | 'transmitter' | 'receiver';

export interface Credential {
  systemId: string;
  password: string;
}

export type ResponseState = 'pending' | 'sent' | 'dropped' | 'connection-lost';

export interface SubmitRecord {
  /** Position in arrival order since the simulator started (not reset by clearSubmits). */
  index: number;
  /** Epoch ms with sub-millisecond precision. */
  receivedAt: number;
  respondedAt: number | null;
  connectionId: number;
  systemId: string;
  bindType: BindType;
  sequenceNumber: number;
  serviceType: string;
  sourceAddr: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  destinationAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  dataCoding: number;
  /** The short_message octets exactly as received, UDH included, hex. */
  shortMessage: string;
  /** The message_payload TLV octets, hex, or null when absent. */
  messagePayload: string | null;
  /** Parsed UDH when esm_class has UDHI (0x40). */
  udh: UdhInfo | null;
  /** sar_* TLVs when all three are present. */
  sar: { ref: number; total: number; seq: number } | null;
  /** Concatenation info from the UDH or the SAR TLVs, whichever the submit used. */
  concat: ConcatInfo | null;
  /** Decoded user data of this part (UDH removed), or null for binary data_coding. */
  text: string | null;
  /** Every TLV received, keyed by tag as `0x0424`, value hex. */
  tlvs: Record<string, string>;
  magic: MagicBehaviour | null;
  /** The final state the receipt reports (null when the submit was not accepted). */
  outcome: Outcome | null;
  /** Whether a receipt will be (or was) sent: accepted, asked for by registered_delivery, not 0009. */
  receiptExpected: boolean;
  receiptSentAt: number | null;
  responseState: ResponseState;
  commandStatus: number | null;
  commandStatusName: string | null;
  messageId: string | null;
}

export interface MoMessage {
  from: string;
  to: string;
  text: string;
  /** Only binds of this system_id receive it; default any receiving bind. */
  systemId?: string;
}

export interface MoResult {
  parts: number;
  sent: number;
  queued: number;
}

export interface BindInfo {
  connectionId: number;
  systemId: string;
  bindType: BindType;
  remote: string;
  boundAt: number;
  submitsReceived: number;
  outstanding: number;
  awaitingDeliverResp: number;
}

export interface SimulatorStats {
  uptimeMs: number;
  binds: {
    active: number;
    transceiver: number;
    transmitter: number;
    receiver: number;
    total: number;
    failed: number;
    connections: number;
  };
  submits: {
    received: number;
    accepted: number;
    rejected: number;
    noResponse: number;
    pending: number;
    byStatus: Record<string, number>;
    /** Records currently held; older ones beyond recordLimit were dropped. */
    retained: number;
    dropped: number;
  };
  /** Accepted submits repeating an earlier accepted (source, destination, octets, concat) since the last clear. */
  duplicates: number;
  receipts: {
    /** Waiting for receiptDelayMs. */
    scheduled: number;
    /** Waiting for a bind that can receive them. */
    queued: number;
    /** deliver_sm written, including re-sends. */
    sent: number;
    acked: number;
    /** Re-sent after an error deliver_sm_resp or a lost connection. */
    retried: number;
    awaitingResp: number;
  };
  mo: { injected: number; sent: number; acked: number; queued: number };
  /** Receipts sent cut short on purpose (injectMalformedReceipt), and how the ESME answered them. */
  malformed: { sent: number; acked: number };
  /** deliver_sm answered with ESME_RX_P_APPN (receipts, MOs or malformed ones): given up, never sent again. */
  refusedPermanently: number;
}

export interface DuplicateGroup {
  sourceAddr: string;
  destinationAddr: string;
  count: number;
  messageIds: string[];
  indexes: number[];
}

export type UnbindReason = 'unbind' | 'closed' | 'disconnect-knob' | 'stopped';

export type SimulatorEvent =
  | { type: 'listening'; host: string; port: number; httpPort: number | null }
  | { type: 'bind'; connectionId: number; remote: string; systemId: string; bindType: BindType }
  | {
      type: 'bind_failed';
      connectionId: number;
      remote: string;
      systemId: string;
      bindType: BindType;
      status: string;
    }
  | {
      type: 'unbind';
      connectionId: number;
      remote: string;
      systemId: string;
      bindType: BindType;
      reason: UnbindReason;
    }
  | { type: 'protocol_error'; connectionId: number; remote: string; detail: string }
  | { type: 'stopped' };

export interface SimulatorOptions extends KnobsPatch {
  /** SMPP port; 0 picks a free one (read it back from `simulator.port`). Default 0. */
  port?: number;
  host?: string;
  /** Accepted system_id/password pairs; empty accepts any bind. */
  credentials?: Credential[];
  /** Port for the HTTP control API; 0 = ephemeral, undefined = no HTTP API. */
  httpPort?: number;
  /**
   * Most submits kept in the record, oldest dropped first (default 200,000). A record costs about
   * 0.8 KB; counters and duplicate detection keep counting past the limit.
   */
  recordLimit?: number;
  /** system_id returned in bind responses. */
  smscSystemId?: string;
  /** Seed for the rate knobs and outcomeMix draws, for reproducible runs; default Math.random. */
  seed?: number;
  onEvent?: (event: SimulatorEvent) => void;
}

export interface SmscSimulator {
  readonly host: string;
  readonly port: number;
  readonly httpPort: number | null;
  submits(filter?: { destination?: string; messageId?: string; systemId?: string }): SubmitRecord[];
  clearSubmits(): void;
  /** Resolves once at least `count` submits (matching `destination` if given) are recorded. */
  waitForSubmits(
    count: number,
    options?: { destination?: string; timeoutMs?: number },
  ): Promise<SubmitRecord[]>;
  knobs(): SimulatorKnobs;
  /** Validates and applies; throws KnobError and changes nothing on an invalid patch. */
  setKnobs(patch: KnobsPatch): SimulatorKnobs;
  injectMo(mo: MoMessage): MoResult;
  /**
   * Sends a delivery receipt whose last TLV is cut short (declared one octet, none follows), as a buggy SMSC
   * might: the ESME should refuse it and keep its bind. Returns false when it had to be queued (no receiver).
   */
  injectMalformedReceipt(options?: { systemId?: string }): boolean;
  binds(): BindInfo[];
  stats(): SimulatorStats;
  duplicates(): DuplicateGroup[];
  stop(): Promise<void>;
}

const ESM_CLASS_UDHI = 0x40;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const RECEIPT_RETRY_MS = 1000;
const CLOSE_GRACE_MS = 1000;
const STOP_UNBIND_WAIT_MS = 250;

/** 'malformed': a receipt whose last TLV is cut short (an SMSC bug), for testing that the ESME survives it. */
type DeliverKind = 'receipt' | 'mo' | 'malformed';

interface QueuedDeliver {
  kind: DeliverKind;
  /** null: any receiving bind will do. */
  systemId: string | null;
  pdu: DeliverSm;
  record: SubmitRecord | null;
}

const BIND_TYPE_BY_COMMAND = new Map<number, BindType>([
  [CommandId.bind_transceiver, 'transceiver'],
  [CommandId.bind_transmitter, 'transmitter'],
  [CommandId.bind_receiver, 'receiver'],
]);

class Connection {
  readonly framer = new PduFramer();
  bindType: BindType | null = null;
  systemId = '';
  boundAt = 0;
  closing = false;
  closed = false;
  closeReason: UnbindReason = 'closed';
  unbindReported = false;
  /** Set once the disconnect knob triggers: later submits are ignored as if the link had died. */
  acceptingSubmits = true;
  closeAfter: SubmitRecord | null = null;
  submitsReceived = 0;
  /** Submits waiting for their latency-delayed response, with the status they will be answered with. */
  readonly pending = new Map<SubmitRecord, number>();
  /** The same submits until receivedAt + latency: the ones due together are answered in one write. */
  readonly responses: DueQueue<SubmitRecord>;
  /** deliver_sm sent and not yet acknowledged, by sequence number. */
  readonly unacked = new Map<number, QueuedDeliver>();
  /** Timestamps of submits that passed the throttle check, for the per-second sliding window. */
  private readonly rateTimes: number[] = [];
  private rateHead = 0;
  private corked = false;
  private sequence = 0;
  onUnbindResp: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly remote: string,
    answer: (records: SubmitRecord[]) => void,
  ) {
    this.responses = new DueQueue(answer);
  }

  get canTransmit(): boolean {
    return !this.closing && (this.bindType === 'transceiver' || this.bindType === 'transmitter');
  }

  get canReceive(): boolean {
    return !this.closing && (this.bindType === 'transceiver' || this.bindType === 'receiver');
  }

  nextSequence(): number {
    this.sequence = this.sequence >= 0x7fffffff ? 1 : this.sequence + 1;
    return this.sequence;
  }

  submitsInLastSecond(now: number): number {
    while (this.rateHead < this.rateTimes.length && (this.rateTimes[this.rateHead] as number) <= now - 1000) {
      this.rateHead++;
    }
    if (this.rateHead > 4096) {
      this.rateTimes.splice(0, this.rateHead);
      this.rateHead = 0;
    }
    return this.rateTimes.length - this.rateHead;
  }

  noteRate(now: number): void {
    this.rateTimes.push(now);
  }

  write(buf: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    // PDUs written in one tick leave in one writev: one syscall per PDU was a large share of a load run's CPU.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(buf);
  }
}

/** mulberry32: tiny, fast, good enough to make load runs reproducible. */
/** The PDU with a message_state TLV appended that declares one octet and has none (its length fixed to match). */
function cutLastTlvShort(pdu: Buffer): Buffer {
  const out = Buffer.concat([pdu, Buffer.from([0x04, 0x27, 0x00, 0x01])]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function receiptDate(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    two(d.getUTCFullYear() % 100) +
    two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) +
    two(d.getUTCHours()) +
    two(d.getUTCMinutes())
  );
}

/** TON/NPI a handset network would put on an MO address. */
function moAddress(addr: string): { addr: string; ton: number; npi: number } {
  const digits = addr.startsWith('+') ? addr.slice(1) : addr;
  if (/^\d+$/.test(digits))
    return digits.length > 8 ? { addr: digits, ton: 1, npi: 1 } : { addr: digits, ton: 3, npi: 0 };
  return { addr, ton: 5, npi: 0 };
}

function wantsReceipt(registeredDelivery: number, outcome: Outcome): boolean {
  switch (registeredDelivery & 0x03) {
    case 1:
      return true;
    case 2:
      return RECEIPT_STATES[outcome].final === 'failure';
    case 3: // reserved in 3.4; SMPP 5.0 defines it as "success only", which is what clients mean by it
      return RECEIPT_STATES[outcome].final === 'success';
    default:
      return false;
  }
}

class Simulator implements SmscSimulator {
  host: string;
  port = 0;
  httpPort: number | null = null;

  private knobState: SimulatorKnobs;
  private readonly credentials: Map<string, string>;
  private readonly smscSystemId: string;
  private readonly random: () => number;
  private readonly onEvent: (event: SimulatorEvent) => void;
  private readonly server: net.Server;
  private httpServer: HttpServer | null = null;
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  private readonly startedAt = Date.now();
  private stopped = false;

  private records: SubmitRecord[] = [];
  private readonly recordLimit: number;
  private recordsDropped = 0;
  private recordIndex = 0;
  /** Accepted-submit digests -> count; digests rather than keys keep it ~100 B per message. */
  private dedup = new Map<string, number>();
  private duplicateCount = 0;
  private readonly waiters = new Set<() => void>();

  private readonly messageIdBase = Math.floor(Math.random() * 2 ** 39);
  private messageIdCounter = 0;
  private moRef = Math.floor(Math.random() * 256);
  private roundRobin = 0;

  private queue: QueuedDeliver[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Receipts until receiptDelayMs after their submit was answered: the ones due together go out in one write. */
  private readonly receipts = new DueQueue<{ conn: Connection; record: SubmitRecord }>((due) => {
    for (const { conn, record } of due) {
      this.receiptsScheduled--;
      this.route(this.buildReceipt(record), conn);
    }
  });
  private receiptsScheduled = 0;

  private readonly counters = {
    bindsTotal: 0,
    bindsFailed: 0,
    received: 0,
    accepted: 0,
    rejected: 0,
    noResponse: 0,
    byStatus: {} as Record<string, number>,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsRetried: 0,
    moInjected: 0,
    moSent: 0,
    moAcked: 0,
    malformedSent: 0,
    malformedAcked: 0,
    /** Answered with ESME_RX_P_APPN: not sent again (any other refusal is retried). */
    refusedPermanently: 0,
  };

  constructor(options: SimulatorOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.recordLimit = options.recordLimit ?? 200_000;
    if (!Number.isInteger(this.recordLimit) || this.recordLimit < 1)
      throw new RangeError('recordLimit must be >= 1');
    this.knobState = applyKnobs(
      { ...DEFAULT_KNOBS, outcomeMix: { ...DEFAULT_KNOBS.outcomeMix } },
      pickKnobs(options),
    );
    this.credentials = new Map((options.credentials ?? []).map((c) => [c.systemId, c.password]));
    this.smscSystemId = options.smscSystemId ?? 'SMSCSIM';
    this.random = options.seed === undefined ? Math.random : seededRandom(options.seed);
    this.onEvent = options.onEvent ?? (() => undefined);
    this.server = net.createServer((socket) => this.accept(socket));
  }

  async listen(port: number, httpPort: number | undefined): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : port;
    if (httpPort !== undefined) {
      this.httpServer = await startHttpApi(this, httpPort, this.host);
      const httpAddress = this.httpServer.address();
      this.httpPort = typeof httpAddress === 'object' && httpAddress !== null ? httpAddress.port : httpPort;
    }
    this.onEvent({ type: 'listening', host: this.host, port: this.port, httpPort: this.httpPort });
  }

  // ---- connection handling -------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const conn: Connection = new Connection(
      this.nextConnectionId++,
      socket,
      `${socket.remoteAddress}:${socket.remotePort}`,
      // conn.write corks the socket for the rest of the tick: the responses due together leave in one writev.
      (records) => {
        for (const record of records) {
          const status = conn.pending.get(record);
          if (status !== undefined && !conn.closed) this.respond(conn, record, status);
        }
      },
    );
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => undefined); // resets are routine for an SMSC; 'close' does the cleanup
    socket.on('close', () => this.onClose(conn));
  }

  private onData(conn: Connection, chunk: Buffer): void {
    let pdus: RawPdu[];
    try {
      pdus = conn.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof PduFramingError)) throw err;
      this.onEvent({
        type: 'protocol_error',
        connectionId: conn.id,
        remote: conn.remote,
        detail: err.message,
      });
      conn.write(encodePdu(CommandId.generic_nack, CommandStatus.ESME_RINVCMDLEN, 0));
      this.closeConnection(conn, 'closed');
      return;
    }
    // One TCP segment often carries many PDUs; batch their responses into as few writes.
    conn.socket.cork();
    for (const pdu of pdus) {
      if (conn.closing) break;
      this.dispatch(conn, pdu);
    }
    conn.socket.uncork();
  }

  private dispatch(conn: Connection, pdu: RawPdu): void {
    const bindType = BIND_TYPE_BY_COMMAND.get(pdu.commandId);
    if (bindType !== undefined) {
      this.onBind(conn, pdu, bindType);
      return;
    }
    switch (pdu.commandId) {
      case CommandId.submit_sm:
        this.onSubmit(conn, pdu);
        return;
      case CommandId.deliver_sm_resp:
      case CommandId.generic_nack:
        this.onDeliverResp(conn, pdu);
        return;
      case CommandId.enquire_link:
        conn.write(encodePdu(CommandId.enquire_link_resp, CommandStatus.ESME_ROK, pdu.sequenceNumber));
        return;
      case CommandId.unbind:
        conn.write(encodePdu(CommandId.unbind_resp, CommandStatus.ESME_ROK, pdu.sequenceNumber));
        this.reportUnbind(conn, 'unbind');
        this.closeConnection(conn, 'unbind');
        return;
      case CommandId.unbind_resp:
        conn.onUnbindResp?.();
        return;
      default:
        if ((pdu.commandId & RESPONSE_BIT) === 0) {
          conn.write(encodePdu(CommandId.generic_nack, CommandStatus.ESME_RINVCMDID, pdu.sequenceNumber));
        }
    }
  }

  private onBind(conn: Connection, pdu: RawPdu, bindType: BindType): void {
    const respId = (pdu.commandId | RESPONSE_BIT) >>> 0;
    const reply = (status: number): void =>
      conn.write(
        encodeCStringResponse(respId, status, pdu.sequenceNumber, this.smscSystemId, [
          tlvU8(TlvTag.sc_interface_version, 0x34),
        ]),
      );
    if (conn.bindType !== null) {
      reply(CommandStatus.ESME_RALYBND);
      return;
    }
    let systemId = '';
    let status: number = CommandStatus.ESME_ROK;
    try {
      const bind = decodeBind(pdu.body);
      systemId = bind.systemId;
      const expected = this.credentials.get(bind.systemId);
      if (this.credentials.size > 0 && expected === undefined) status = CommandStatus.ESME_RBINDFAIL;
      else if (expected !== undefined && expected !== bind.password) status = CommandStatus.ESME_RINVPASWD;
    } catch {
      status = CommandStatus.ESME_RINVCMDLEN;
    }
    reply(status);
    if (status !== CommandStatus.ESME_ROK) {
      this.counters.bindsFailed++;
      const event = { connectionId: conn.id, remote: conn.remote, systemId, bindType };
      this.onEvent({ type: 'bind_failed', ...event, status: commandStatusName(status) });
      return;
    }
    conn.bindType = bindType;
    conn.systemId = systemId;
    conn.boundAt = Date.now();
    this.counters.bindsTotal++;
    this.onEvent({ type: 'bind', connectionId: conn.id, remote: conn.remote, systemId, bindType });
    if (conn.canReceive) this.flushQueueTo(conn);
  }

  private reportUnbind(conn: Connection, reason: UnbindReason): void {
    if (conn.unbindReported || conn.bindType === null) return;
    conn.unbindReported = true;
    this.onEvent({
      type: 'unbind',
      connectionId: conn.id,
      remote: conn.remote,
      systemId: conn.systemId,
      bindType: conn.bindType,
      reason,
    });
  }

  private closeConnection(conn: Connection, reason: UnbindReason): void {
    if (conn.closing) return;
    conn.closing = true;
    conn.closeReason = reason;
    conn.socket.end();
    const timer = setTimeout(() => conn.socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    conn.socket.once('close', () => clearTimeout(timer));
  }

  private onClose(conn: Connection): void {
    conn.closing = true;
    conn.closed = true;
    this.connections.delete(conn);
    this.reportUnbind(conn, conn.closeReason);
    conn.responses.clear();
    for (const record of conn.pending.keys()) {
      record.responseState = 'connection-lost';
      this.counters.noResponse++;
    }
    conn.pending.clear();
    // At-least-once, like a real SMSC: whatever the ESME did not acknowledge is delivered again.
    const unacked = [...conn.unacked.values()];
    conn.unacked.clear();
    for (const deliver of unacked) {
      if (deliver.kind === 'receipt') this.counters.receiptsRetried++;
      this.route(deliver, null);
    }
  }

  // ---- submit_sm -----------------------------------------------------------------------------

  private onSubmit(conn: Connection, pdu: RawPdu): void {
    const receivedAt = nowMs();
    if (!conn.canTransmit) {
      conn.write(encodePdu(CommandId.submit_sm_resp, CommandStatus.ESME_RINVBNDSTS, pdu.sequenceNumber));
      return;
    }
    if (!conn.acceptingSubmits) return;
    let sm: SubmitSm;
    try {
      sm = decodeSubmitSm(pdu.body);
    } catch {
      conn.write(encodePdu(CommandId.submit_sm_resp, CommandStatus.ESME_RINVCMDLEN, pdu.sequenceNumber));
      return;
    }
    const knobs = this.knobState;
    conn.submitsReceived++;
    const record = this.buildRecord(conn, pdu.sequenceNumber, sm, receivedAt);
    this.records.push(record);
    // Trim in batches so eviction stays O(1) amortised.
    if (this.records.length > this.recordLimit + Math.ceil(this.recordLimit / 10)) {
      const excess = this.records.length - this.recordLimit;
      this.records.splice(0, excess);
      this.recordsDropped += excess;
    }
    this.counters.received++;
    if (knobs.disconnectAfterSubmits !== null && conn.submitsReceived >= knobs.disconnectAfterSubmits) {
      conn.acceptingSubmits = false;
      conn.closeAfter = record;
    }
    this.notifyWaiters();

    if (knobs.windowLimit !== null && conn.pending.size >= knobs.windowLimit) {
      // A full queue turns the submit away at the door, without the processing latency.
      this.respond(conn, record, CommandStatus.ESME_RMSGQFUL);
      return;
    }
    const status = this.decide(conn, record, receivedAt);
    if (status === null) {
      record.responseState = 'dropped';
      this.counters.noResponse++;
      if (conn.closeAfter === record) this.closeConnection(conn, 'disconnect-knob');
      return;
    }
    if (knobs.latencyMs > 0) {
      conn.pending.set(record, status);
      conn.responses.add(record, receivedAt + knobs.latencyMs);
    } else {
      this.respond(conn, record, status);
    }
  }

  /** The submit_sm_resp status, or null to swallow the submit. Sets the record's outcome when accepted. */
  private decide(conn: Connection, record: SubmitRecord, now: number): number | null {
    const knobs = this.knobState;
    if (knobs.throttleAboveMps !== null) {
      if (conn.submitsInLastSecond(now) >= knobs.throttleAboveMps) return CommandStatus.ESME_RTHROTTLED;
      conn.noteRate(now);
    }
    switch (record.magic) {
      case 'INVALID_DESTINATION':
        return CommandStatus.ESME_RINVDSTADR;
      case 'THROTTLED':
        return CommandStatus.ESME_RTHROTTLED;
      case 'NO_RESPONSE':
        return null;
      case 'TRANSIENT_ERROR':
        return CommandStatus.ESME_RSYSERR;
      default:
    }
    if (knobs.dropResponseRate > 0 && this.random() < knobs.dropResponseRate) return null;
    if (knobs.transientErrorRate > 0 && this.random() < knobs.transientErrorRate)
      return CommandStatus.ESME_RSYSERR;

    const outcome = this.outcomeFor(record.magic);
    record.outcome = outcome;
    record.receiptExpected =
      record.magic !== 'NO_RECEIPT' && wantsReceipt(record.registeredDelivery, outcome);
    return CommandStatus.ESME_ROK;
  }

  private outcomeFor(magic: MagicBehaviour | null): Outcome {
    switch (magic) {
      case 'DELIVERED':
      case 'NO_RECEIPT':
        return 'delivered';
      case 'UNDELIVERABLE':
        return 'undeliverable';
      case 'REJECTED':
        return 'rejected';
      case 'EXPIRED':
        return 'expired';
      default: {
        const mix = this.knobState.outcomeMix;
        const total = mix.delivered + mix.undeliverable + mix.expired + mix.rejected;
        if (mix.delivered === total) return 'delivered';
        let pick = this.random() * total;
        for (const outcome of ['delivered', 'undeliverable', 'expired', 'rejected'] as const) {
          pick -= mix[outcome];
          if (pick < 0) return outcome;
        }
        return 'delivered';
      }
    }
  }

  private respond(conn: Connection, record: SubmitRecord, status: number): void {
    conn.pending.delete(record);
    record.respondedAt = nowMs();
    record.responseState = 'sent';
    record.commandStatus = status;
    record.commandStatusName = commandStatusName(status);
    this.counters.byStatus[record.commandStatusName] =
      (this.counters.byStatus[record.commandStatusName] ?? 0) + 1;
    if (status === CommandStatus.ESME_ROK) {
      record.messageId = this.nextMessageId();
      this.counters.accepted++;
      this.noteForDuplicates(record);
    } else {
      record.outcome = null;
      record.receiptExpected = false;
      this.counters.rejected++;
    }
    conn.write(
      encodeCStringResponse(CommandId.submit_sm_resp, status, record.sequenceNumber, record.messageId ?? ''),
    );
    if (record.receiptExpected) this.scheduleReceipt(conn, record);
    if (conn.closeAfter === record) this.closeConnection(conn, 'disconnect-knob');
  }

  private nextMessageId(): string {
    // 40 bits: 10 hex digits like many real SMSCs; a random base keeps ids distinct across restarts.
    this.messageIdCounter++;
    return ((this.messageIdBase + this.messageIdCounter) % 2 ** 40).toString(16).padStart(10, '0');
  }

  private buildRecord(
    conn: Connection,
    sequenceNumber: number,
    sm: SubmitSm,
    receivedAt: number,
  ): SubmitRecord {
    const payload = sm.tlvs.get(TlvTag.message_payload) ?? null;
    // With message_payload the user data (and its UDH) lives in the TLV; short_message is then empty.
    const userData = sm.shortMessage.length === 0 && payload !== null ? payload : sm.shortMessage;
    let udh: UdhInfo | null = null;
    let body = userData;
    if (sm.esmClass & ESM_CLASS_UDHI) {
      const parsed = parseUdh(userData);
      if (parsed !== null) {
        udh = parsed.udh;
        body = parsed.rest;
      }
    }
    const sarRef = sm.tlvs.get(TlvTag.sar_msg_ref_num);
    const sarTotal = sm.tlvs.get(TlvTag.sar_total_segments);
    const sarSeq = sm.tlvs.get(TlvTag.sar_segment_seqnum);
    const sar =
      sarRef?.length === 2 && sarTotal?.length === 1 && sarSeq?.length === 1
        ? { ref: sarRef.readUInt16BE(0), total: sarTotal[0] as number, seq: sarSeq[0] as number }
        : null;
    const tlvs: Record<string, string> = {};
    for (const [tag, value] of sm.tlvs)
      tlvs[`0x${tag.toString(16).padStart(4, '0')}`] = value.toString('hex');
    return {
      index: this.recordIndex++,
      receivedAt,
      respondedAt: null,
      connectionId: conn.id,
      systemId: conn.systemId,
      bindType: conn.bindType as BindType,
      sequenceNumber,
      serviceType: sm.serviceType,
      sourceAddr: sm.sourceAddr,
      sourceAddrTon: sm.sourceAddrTon,
      sourceAddrNpi: sm.sourceAddrNpi,
      destinationAddr: sm.destinationAddr,
      destAddrTon: sm.destAddrTon,
      destAddrNpi: sm.destAddrNpi,
      esmClass: sm.esmClass,
      protocolId: sm.protocolId,
      priorityFlag: sm.priorityFlag,
      scheduleDeliveryTime: sm.scheduleDeliveryTime,
      validityPeriod: sm.validityPeriod,
      registeredDelivery: sm.registeredDelivery,
      dataCoding: sm.dataCoding,
      shortMessage: sm.shortMessage.toString('hex'),
      messagePayload: payload === null ? null : payload.toString('hex'),
      udh,
      sar,
      concat: udh?.concat ?? (sar === null ? null : { ...sar, scheme: 'sar' }),
      text: decodeUserData(sm.dataCoding, body),
      tlvs,
      magic: magicBehaviourOf(sm.destinationAddr),
      outcome: null,
      receiptExpected: false,
      receiptSentAt: null,
      responseState: 'pending',
      commandStatus: null,
      commandStatusName: null,
      messageId: null,
    };
  }

  private duplicateKey(r: SubmitRecord): string {
    const concat = r.concat === null ? '' : `${r.concat.ref}/${r.concat.total}/${r.concat.seq}`;
    return createHash('sha1')
      .update(
        `${r.sourceAddr}\u0000${r.destinationAddr}\u0000${r.shortMessage}\u0000${r.messagePayload ?? ''}\u0000${concat}`,
      )
      .digest('base64');
  }

  private noteForDuplicates(record: SubmitRecord): void {
    const key = this.duplicateKey(record);
    const seen = this.dedup.get(key) ?? 0;
    if (seen > 0) this.duplicateCount++;
    this.dedup.set(key, seen + 1);
  }

  // ---- receipts and MO -----------------------------------------------------------------------

  private scheduleReceipt(conn: Connection, record: SubmitRecord): void {
    this.receiptsScheduled++;
    this.receipts.add({ conn, record }, nowMs() + this.knobState.receiptDelayMs);
  }

  private buildReceipt(record: SubmitRecord): QueuedDeliver {
    const state = RECEIPT_STATES[record.outcome ?? 'delivered'];
    const err = String(state.err).padStart(3, '0');
    const dlvrd = state.final === 'success' ? '001' : '000';
    const text =
      `id:${record.messageId ?? ''} sub:001 dlvrd:${dlvrd} submit date:${receiptDate(record.receivedAt)} ` +
      `done date:${receiptDate(Date.now())} stat:${state.stat} err:${err} text:${receiptText(record.text)}`;
    const tlvs = [
      tlvCString(TlvTag.receipted_message_id, record.messageId ?? ''),
      tlvU8(TlvTag.message_state, state.messageState),
    ];
    if (state.err !== 0) {
      tlvs.push({
        tag: TlvTag.network_error_code,
        value: Buffer.from([NETWORK_TYPE_GSM, state.err >> 8, state.err & 0xff]),
      });
    }
    return {
      kind: 'receipt',
      systemId: record.systemId,
      record,
      pdu: {
        serviceType: '',
        // The receipt travels back from the handset: the addresses are swapped.
        sourceAddrTon: record.destAddrTon,
        sourceAddrNpi: record.destAddrNpi,
        sourceAddr: record.destinationAddr,
        destAddrTon: record.sourceAddrTon,
        destAddrNpi: record.sourceAddrNpi,
        destinationAddr: record.sourceAddr,
        esmClass: ESM_CLASS_DELIVERY_RECEIPT,
        dataCoding: 0,
        shortMessage: Buffer.from(text, 'latin1'),
        tlvs,
      },
    };
  }

  injectMo(mo: MoMessage): MoResult {
    const from = moAddress(mo.from);
    const to = moAddress(mo.to);
    this.moRef = (this.moRef + 1) % 256;
    const parts = buildMoParts(mo.text, this.moRef);
    let sent = 0;
    for (const part of parts) {
      this.counters.moInjected++;
      const delivered = this.route(
        {
          kind: 'mo',
          systemId: mo.systemId ?? null,
          record: null,
          pdu: {
            serviceType: '',
            sourceAddrTon: from.ton,
            sourceAddrNpi: from.npi,
            sourceAddr: from.addr,
            destAddrTon: to.ton,
            destAddrNpi: to.npi,
            destinationAddr: to.addr,
            esmClass: part.esmClass,
            dataCoding: part.dataCoding,
            shortMessage: part.shortMessage,
            tlvs: [],
          },
        },
        null,
      );
      if (delivered) sent++;
    }
    return { parts: parts.length, sent, queued: parts.length - sent };
  }

  injectMalformedReceipt(options: { systemId?: string } = {}): boolean {
    return this.route(
      {
        kind: 'malformed',
        systemId: options.systemId ?? null,
        record: null,
        pdu: {
          serviceType: '',
          sourceAddrTon: 1,
          sourceAddrNpi: 1,
          sourceAddr: '447700900000',
          destAddrTon: 5,
          destAddrNpi: 0,
          destinationAddr: 'SIM',
          esmClass: ESM_CLASS_DELIVERY_RECEIPT,
          dataCoding: 0,
          shortMessage: Buffer.from('id:malformed sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:', 'latin1'),
          tlvs: [],
        },
      },
      null,
    );
  }

  /** Sends to `preferred` if it can still receive, else to another bind of the system_id, else queues. */
  private route(deliver: QueuedDeliver, preferred: Connection | null): boolean {
    if (this.stopped) return false;
    const target =
      preferred !== null && preferred.canReceive ? preferred : this.pickReceiver(deliver.systemId);
    if (target === null) {
      this.queue.push(deliver);
      return false;
    }
    this.sendDeliver(target, deliver);
    return true;
  }

  private pickReceiver(systemId: string | null): Connection | null {
    const candidates = [...this.connections].filter(
      (c) => c.canReceive && (systemId === null || c.systemId === systemId),
    );
    if (candidates.length === 0) return null;
    this.roundRobin = (this.roundRobin + 1) % candidates.length;
    return candidates[this.roundRobin] as Connection;
  }

  private flushQueueTo(conn: Connection): void {
    const keep: QueuedDeliver[] = [];
    for (const deliver of this.queue) {
      if (conn.canReceive && (deliver.systemId === null || deliver.systemId === conn.systemId)) {
        this.sendDeliver(conn, deliver);
      } else {
        keep.push(deliver);
      }
    }
    this.queue = keep;
  }

  private sendDeliver(conn: Connection, deliver: QueuedDeliver): void {
    const sequence = conn.nextSequence();
    conn.unacked.set(sequence, deliver);
    conn.write(deliver.kind === 'malformed' ? cutLastTlvShort(encodeDeliverSm(sequence, deliver.pdu)) : encodeDeliverSm(sequence, deliver.pdu));
    if (deliver.kind === 'malformed') {
      this.counters.malformedSent++;
    } else if (deliver.kind === 'receipt') {
      this.counters.receiptsSent++;
      if (deliver.record !== null && deliver.record.receiptSentAt === null)
        deliver.record.receiptSentAt = Date.now();
    } else {
      this.counters.moSent++;
    }
  }

  private onDeliverResp(conn: Connection, pdu: RawPdu): void {
    const deliver = conn.unacked.get(pdu.sequenceNumber);
    if (deliver === undefined) return;
    conn.unacked.delete(pdu.sequenceNumber);
    if (pdu.commandId === CommandId.deliver_sm_resp && pdu.commandStatus === CommandStatus.ESME_ROK) {
      if (deliver.kind === 'receipt') this.counters.receiptsAcked++;
      else if (deliver.kind === 'malformed') this.counters.malformedAcked++;
      else this.counters.moAcked++;
      return;
    }
    // A permanent refusal: an SMSC gives that PDU up rather than sending it again.
    if (pdu.commandId === CommandId.deliver_sm_resp && pdu.commandStatus === CommandStatus.ESME_RX_P_APPN) {
      this.counters.refusedPermanently++;
      return;
    }
    // The ESME refused it (e.g. ESME_RX_T_APPN): try again later, as an SMSC retry schedule would.
    if (deliver.kind === 'receipt') this.counters.receiptsRetried++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.route(deliver, null);
    }, RECEIPT_RETRY_MS);
    this.timers.add(timer);
  }

  // ---- inspection and control ----------------------------------------------------------------

  submits(filter: { destination?: string; messageId?: string; systemId?: string } = {}): SubmitRecord[] {
    return this.records
      .filter(
        (r) =>
          (filter.destination === undefined || r.destinationAddr === filter.destination) &&
          (filter.messageId === undefined || r.messageId === filter.messageId) &&
          (filter.systemId === undefined || r.systemId === filter.systemId),
      )
      .map((r) => ({ ...r }));
  }

  clearSubmits(): void {
    this.records = [];
    this.recordsDropped = 0;
    this.dedup = new Map();
    this.duplicateCount = 0;
    Object.assign(this.counters, {
      received: 0,
      accepted: 0,
      rejected: 0,
      noResponse: 0,
      byStatus: {},
      receiptsSent: 0,
      receiptsAcked: 0,
      receiptsRetried: 0,
      moInjected: 0,
      moSent: 0,
      moAcked: 0,
      malformedSent: 0,
      malformedAcked: 0,
      refusedPermanently: 0,
    });
  }

  waitForSubmits(
    count: number,
    options: { destination?: string; timeoutMs?: number } = {},
  ): Promise<SubmitRecord[]> {
    const matching = (): SubmitRecord[] =>
      options.destination === undefined ? this.submits() : this.submits({ destination: options.destination });
    const count0 = (): number =>
      options.destination === undefined
        ? this.records.length
        : this.records.reduce((n, r) => n + (r.destinationAddr === options.destination ? 1 : 0), 0);
    if (count0() >= count) return Promise.resolve(matching());
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (count0() < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(matching());
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${count} submits (have ${count0()})`));
      }, options.timeoutMs ?? 2000);
      this.waiters.add(check);
    });
  }

  private notifyWaiters(): void {
    for (const check of this.waiters) check();
  }

  knobs(): SimulatorKnobs {
    return { ...this.knobState, outcomeMix: { ...this.knobState.outcomeMix } };
  }

  setKnobs(patch: KnobsPatch): SimulatorKnobs {
    this.knobState = applyKnobs(this.knobState, patch);
    return this.knobs();
  }

  binds(): BindInfo[] {
    const out: BindInfo[] = [];
    for (const c of this.connections) {
      if (c.bindType === null || c.closing) continue;
      out.push({
        connectionId: c.id,
        systemId: c.systemId,
        bindType: c.bindType,
        remote: c.remote,
        boundAt: c.boundAt,
        submitsReceived: c.submitsReceived,
        outstanding: c.pending.size,
        awaitingDeliverResp: c.unacked.size,
      });
    }
    return out;
  }

  stats(): SimulatorStats {
    const binds = this.binds();
    const count = (type: BindType): number => binds.filter((b) => b.bindType === type).length;
    let pending = 0;
    let awaitingResp = 0;
    for (const c of this.connections) {
      pending += c.pending.size;
      for (const d of c.unacked.values()) if (d.kind === 'receipt') awaitingResp++;
    }
    const c = this.counters;
    return {
      uptimeMs: Date.now() - this.startedAt,
      binds: {
        active: binds.length,
        transceiver: count('transceiver'),
        transmitter: count('transmitter'),
        receiver: count('receiver'),
        total: c.bindsTotal,
        failed: c.bindsFailed,
        connections: this.connections.size,
      },
      submits: {
        received: c.received,
        accepted: c.accepted,
        rejected: c.rejected,
        noResponse: c.noResponse,
        pending,
        byStatus: { ...c.byStatus },
        retained: this.records.length,
        dropped: this.recordsDropped,
      },
      duplicates: this.duplicateCount,
      receipts: {
        scheduled: this.receiptsScheduled,
        queued: this.queue.filter((d) => d.kind === 'receipt').length,
        sent: c.receiptsSent,
        acked: c.receiptsAcked,
        retried: c.receiptsRetried,
        awaitingResp,
      },
      mo: {
        injected: c.moInjected,
        sent: c.moSent,
        acked: c.moAcked,
        queued: this.queue.filter((d) => d.kind === 'mo').length,
      },
      malformed: { sent: c.malformedSent, acked: c.malformedAcked },
      refusedPermanently: c.refusedPermanently,
    };
  }

  duplicates(): DuplicateGroup[] {
    const groups = new Map<string, SubmitRecord[]>();
    for (const r of this.records) {
      if (r.commandStatus !== CommandStatus.ESME_ROK) continue;
      const key = this.duplicateKey(r);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [r]);
      else group.push(r);
    }
    return [...groups.values()]
      .filter((g) => g.length > 1)
      .map((g) => ({
        sourceAddr: (g[0] as SubmitRecord).sourceAddr,
        destinationAddr: (g[0] as SubmitRecord).destinationAddr,
        count: g.length,
        messageIds: g.map((r) => r.messageId ?? ''),
        indexes: g.map((r) => r.index),
      }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.receipts.clear();
    this.receiptsScheduled = 0;
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A real SMSC going down for maintenance unbinds its ESMEs; give them a moment to answer.
    await Promise.all(
      [...this.connections].map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (conn.closed) {
              resolve();
              return;
            }
            conn.socket.once('close', () => resolve());
            const finish = (): void => {
              conn.closeReason = 'stopped';
              conn.socket.destroy();
            };
            if (conn.bindType === null || conn.closing) {
              finish();
              return;
            }
            conn.onUnbindResp = finish;
            conn.closeReason = 'stopped';
            conn.write(encodePdu(CommandId.unbind, CommandStatus.ESME_ROK, conn.nextSequence()));
            setTimeout(finish, STOP_UNBIND_WAIT_MS).unref();
          }),
      ),
    );
    await serverClosed;
    if (this.httpServer !== null) {
      const http = this.httpServer;
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    this.onEvent({ type: 'stopped' });
  }
}

/** Starts an SMPP 3.4 SMSC on TCP (and the HTTP control API when `httpPort` is given). */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SmscSimulator> {
  const simulator = new Simulator(options);
  await simulator.listen(options.port ?? 0, options.httpPort);
  return simulator;
}
