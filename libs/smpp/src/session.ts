import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import smpp from 'smpp';
import { backoffDelay, type ReconnectOptions } from './backoff.js';
import { DELIVER_SM, parseDeliverBody, type SmppDeliver } from './deliver.js';
import { SmppCommandError, SmppPduError, SmppSessionError, commandStatusName } from './errors.js';
import { FramedSmppSession, PDU_HEADER_OCTETS } from './framed-session.js';

export type SmppBindType = 'transceiver' | 'transmitter' | 'receiver';
export type SmppSessionState = 'connecting' | 'bound' | 'backoff' | 'closed';

/** The logging surface the session needs; pino loggers satisfy it. Never given addresses or message text. */
export interface SmppLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SmppClientSessionOptions {
  /** Identifies the session in logs (e.g. "carrierA/bulk/0"). */
  name: string;
  host: string;
  port: number;
  /** true for TLS with default options, or options passed to tls.connect (host and port are added). */
  tls?: boolean | tls.ConnectionOptions;
  systemId: string;
  password: string;
  systemType?: string;
  bindType: SmppBindType;
  /** bind address_range (rarely needed). */
  addressRange?: string;
  /** Maximum submit_sm awaiting their submit_sm_resp. */
  window: number;
  /** Maximum submits waiting for a window slot; more are refused with `queue_full`. Default: 4 x window. */
  maxQueued?: number;
  /** Time allowed for any response (submit_sm_resp, bind_resp) before giving up on it. */
  responseTimeoutMs: number;
  /** TCP (and TLS) connect timeout. Default: responseTimeoutMs. */
  connectTimeoutMs?: number;
  /** How long stop() waits for unbind_resp. Default: min(responseTimeoutMs, 2000). */
  unbindTimeoutMs?: number;
  /** enquire_link period while bound. */
  enquireLinkIntervalMs: number;
  /** An enquire_link unanswered this long means the link is dead: the connection is dropped and re-made. */
  deadLinkTimeoutMs: number;
  reconnect: ReconnectOptions;
  /** Defaults for submit_sm addresses; a submit may override them (e.g. TON 5 for an alphanumeric sender). */
  sourceTon: number;
  sourceNpi: number;
  destTon: number;
  destNpi: number;
  logger?: SmppLogger;
}

export interface SarSegment {
  refNum: number;
  totalSegments: number;
  seqNum: number;
}

export interface SubmitSmRequest {
  sourceAddr: string;
  destinationAddr: string;
  /** At most 254 octets (checked before anything reaches the `smpp` package). */
  shortMessage?: Uint8Array;
  /** message_payload TLV (up to 65535 octets); short_message must then be empty. */
  messagePayload?: Uint8Array;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  sar?: SarSegment;
  /** SMPP time string (16 characters, absolute or relative 'R' format) or a Date (sent as absolute UTC). */
  validityPeriod?: string | Date;
  serviceType?: string;
  protocolId?: number;
  priorityFlag?: number;
  sourceTon?: number;
  sourceNpi?: number;
  destTon?: number;
  destNpi?: number;
}

export interface SubmitSmResult {
  messageId: string;
}

export interface SmppSessionCounters {
  /** submit_sm sent and not yet answered. */
  inFlight: number;
  /** submits waiting for a window slot. */
  queued: number;
  /** submit_sm answered with command_status 0. */
  submitted: number;
  /** submits refused or failed for any reason but an invalid PDU (SmppPduError). */
  errors: number;
  /** connections re-made after a failure. */
  reconnects: number;
}

/** A PDU from the SMSC whose fields could not be read (its frame was intact, so the session read on). */
export interface SmppMalformedPdu {
  command: string;
  commandId: number;
  commandStatus: number;
  sequenceNumber: number;
  /** Why it could not be read (the decoder's message). */
  reason: string;
  /** What the session did about it. */
  action: 'refused' | 'nacked' | 'settled_pending' | 'ignored';
  /** The PDU's 16-octet header in hex, for the log (not the body: it holds addresses and message text). */
  head: string;
}

export type SmppClientSessionEvents = {
  state: [state: SmppSessionState, previous: SmppSessionState];
  deliver: [deliver: SmppDeliver];
  malformed: [pdu: SmppMalformedPdu];
};

export const MAX_SHORT_MESSAGE_OCTETS = 254;
export const MAX_MESSAGE_PAYLOAD_OCTETS = 65535;
/** SMPP 3.4 address fields are C-octet strings of at most 21 octets, NUL included. */
export const MAX_ADDRESS_LENGTH = 20;

const SMPP_3_4 = 0x34;
const ESME_RINVCMDLEN = 0x0002;
const ESME_RINVCMDID = 0x0003;
/** deliver_sm_resp status "ESME Receiver Permanent App Error": the SMSC must not send this PDU again. */
const ESME_RX_P_APPN = 0x0065;
const ESME_RUNKNOWNERR = 0x00ff;

const silentLogger: SmppLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface PendingRequest {
  onResponse(pdu: smpp.PDU): void;
  onTimeout(): void;
  onConnectionLost(error: SmppSessionError): void;
  timer: NodeJS.Timeout;
}

interface Connection {
  id: number;
  socket: net.Socket;
  session: smpp.Session;
  pending: Map<number, PendingRequest>;
  bound: boolean;
  boundAt?: number;
  closed: boolean;
  enquireOutstanding: boolean;
  /** Writes of this tick are held (socket.cork) and leave together in one writev at the next tick. */
  corked?: boolean;
  connectTimer?: NodeJS.Timeout;
  enquireTimer?: NodeJS.Timeout;
}

interface QueuedSubmit {
  request: SubmitSmRequest;
  resolve(result: SubmitSmResult): void;
  reject(error: Error): void;
}

function isByte(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xff;
}

/** Throws SmppPduError when `request` cannot be encoded within SMPP 3.4 limits. */
export function validateSubmit(request: SubmitSmRequest): void {
  const sm = request.shortMessage;
  if (sm && sm.length > MAX_SHORT_MESSAGE_OCTETS) {
    throw new SmppPduError(
      `short_message is ${sm.length} octets; SMPP allows ${MAX_SHORT_MESSAGE_OCTETS} (use message_payload or split)`,
    );
  }
  const payload = request.messagePayload;
  if (payload && payload.length > MAX_MESSAGE_PAYLOAD_OCTETS) {
    throw new SmppPduError(
      `message_payload is ${payload.length} octets; at most ${MAX_MESSAGE_PAYLOAD_OCTETS}`,
    );
  }
  if (payload && sm && sm.length > 0) {
    throw new SmppPduError('short_message and message_payload cannot both carry data');
  }
  for (const [field, value] of [
    ['source_addr', request.sourceAddr],
    ['destination_addr', request.destinationAddr],
  ] as const) {
    if (value.length > MAX_ADDRESS_LENGTH || !/^[\x01-\x7f]*$/.test(value)) {
      throw new SmppPduError(`${field} must be at most ${MAX_ADDRESS_LENGTH} ASCII characters`);
    }
  }
  const bytes: [string, number | undefined][] = [
    ['esm_class', request.esmClass],
    ['data_coding', request.dataCoding],
    ['registered_delivery', request.registeredDelivery],
    ['protocol_id', request.protocolId],
    ['priority_flag', request.priorityFlag],
    ['source_addr_ton', request.sourceTon],
    ['source_addr_npi', request.sourceNpi],
    ['dest_addr_ton', request.destTon],
    ['dest_addr_npi', request.destNpi],
  ];
  for (const [field, value] of bytes) {
    if (value !== undefined && !isByte(value)) throw new SmppPduError(`${field} must be an integer 0..255`);
  }
  if (request.sar) {
    const { refNum, totalSegments, seqNum } = request.sar;
    const valid =
      Number.isInteger(refNum) &&
      refNum >= 0 &&
      refNum <= 0xffff &&
      isByte(totalSegments) &&
      totalSegments >= 1 &&
      Number.isInteger(seqNum) &&
      seqNum >= 1 &&
      seqNum <= totalSegments;
    if (!valid) throw new SmppPduError('sar needs refNum 0..65535 and 1 <= seqNum <= totalSegments <= 255');
  }
  const validity = request.validityPeriod;
  if (typeof validity === 'string' && validity.length !== 0 && !/^\d{12}\d[0-4]\d[+\-R]$/.test(validity)) {
    throw new SmppPduError('validity_period must be a 16-character SMPP time (YYMMDDhhmmsstnnp) or empty');
  }
  if (validity instanceof Date && Number.isNaN(validity.getTime())) {
    throw new SmppPduError('validity_period is an invalid Date');
  }
  if (request.serviceType !== undefined && request.serviceType.length > 5) {
    throw new SmppPduError('service_type must be at most 5 characters');
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One SMPP 3.4 bind over the `smpp` package, adding what it lacks: bind and reconnect with backoff, a submit
 * window with a bounded queue, response timeouts, enquire_link with dead-link detection, raw deliver_sm bytes
 * and a graceful unbind.
 */
export class SmppClientSession extends EventEmitter<SmppClientSessionEvents> {
  readonly name: string;
  private readonly options: SmppClientSessionOptions;
  private readonly logger: SmppLogger;
  private readonly maxQueued: number;
  private currentState: SmppSessionState = 'closed';
  private started = false;
  private stopping = false;
  private connection: Connection | undefined;
  private connectionCount = 0;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly queue: QueuedSubmit[] = [];
  private stopPromise: Promise<void> | undefined;
  private startWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  private inFlight = 0;
  private submitted = 0;
  private errors = 0;
  private reconnects = 0;

  constructor(options: SmppClientSessionOptions) {
    super();
    if (!Number.isInteger(options.window) || options.window < 1) throw new RangeError('window must be >= 1');
    this.options = options;
    this.name = options.name;
    this.logger = options.logger ?? silentLogger;
    this.maxQueued = options.maxQueued ?? options.window * 4;
  }

  get state(): SmppSessionState {
    return this.currentState;
  }

  get counters(): SmppSessionCounters {
    return {
      inFlight: this.inFlight,
      queued: this.queue.length,
      submitted: this.submitted,
      errors: this.errors,
      reconnects: this.reconnects,
    };
  }

  /**
   * Connects and binds. Resolves at the first successful bind; until then (refused bind, SMSC down) the session
   * keeps retrying with backoff and the promise stays pending. Rejects with `session_closed` if stop() comes first.
   */
  start(): Promise<void> {
    if (this.stopPromise) return this.stopPromise.then(() => this.start());
    if (this.currentState === 'bound') return Promise.resolve();
    const bound = new Promise<void>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
    if (!this.started) {
      this.started = true;
      this.reconnectAttempt = 0;
      this.connect();
    }
    return bound;
  }

  /**
   * Sends a submit_sm once a window slot is free. Rejects at once with `not_bound` when the session is not
   * bound (fail over instead of waiting), `queue_full` when maxQueued submits already wait, SmppPduError when
   * the PDU breaks SMPP limits; later with SmppCommandError (non-zero command_status), `response_timeout`,
   * `connection_lost` or `session_closed`.
   */
  async submit(request: SubmitSmRequest): Promise<SubmitSmResult> {
    validateSubmit(request);
    if (this.stopping || !this.started) {
      this.errors++;
      throw new SmppSessionError(
        this.stopping ? 'session_closed' : 'not_bound',
        `session ${this.name} is stopped`,
      );
    }
    const connection = this.connection;
    if (this.currentState !== 'bound' || !connection?.bound) {
      this.errors++;
      throw new SmppSessionError('not_bound', `session ${this.name} is ${this.currentState}`);
    }
    return new Promise<SubmitSmResult>((resolve, reject) => {
      const item: QueuedSubmit = { request, resolve, reject };
      if (this.inFlight < this.options.window && this.queue.length === 0) {
        this.dispatch(connection, item);
      } else if (this.queue.length >= this.maxQueued) {
        this.errors++;
        reject(
          new SmppSessionError(
            'queue_full',
            `session ${this.name}: ${this.queue.length} submits already queued`,
          ),
        );
      } else {
        this.queue.push(item);
      }
    });
  }

  /**
   * Unbinds (waiting up to unbindTimeoutMs for unbind_resp; submit_sm_resp arriving meanwhile still settle
   * their submits), then closes. Queued and remaining in-flight submits fail with `session_closed`.
   */
  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    if (!this.started && this.currentState === 'closed') return Promise.resolve();
    this.stopPromise = this.shutdown().finally(() => {
      this.stopPromise = undefined;
    });
    return this.stopPromise;
  }

  private async shutdown(): Promise<void> {
    this.started = false;
    this.stopping = true;
    try {
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      const closed = (): SmppSessionError =>
        new SmppSessionError('session_closed', `session ${this.name} was stopped`, false);
      this.rejectQueued(closed);
      for (const waiter of this.startWaiters.splice(0)) waiter.reject(closed());
      const connection = this.connection;
      if (connection && !connection.closed) {
        if (connection.bound) await this.unbind(connection);
        const socketClosed = new Promise<void>((resolve) => {
          if (connection.socket.destroyed) resolve();
          else connection.socket.once('close', () => resolve());
        });
        this.drop(connection, 'stopped', true);
        await Promise.race([socketClosed, delay(this.unbindTimeoutMs())]);
        connection.socket.destroy();
      }
      this.setState('closed');
    } finally {
      this.stopping = false;
    }
  }

  private unbindTimeoutMs(): number {
    return this.options.unbindTimeoutMs ?? Math.min(this.options.responseTimeoutMs, 2000);
  }

  private unbind(connection: Connection): Promise<void> {
    return new Promise<void>((resolve) => {
      const sent = this.request(connection, new smpp.PDU('unbind'), this.unbindTimeoutMs(), {
        onResponse: () => resolve(),
        onTimeout: () => {
          this.logger.warn({ session: this.name }, 'no unbind_resp in time; closing anyway');
          resolve();
        },
        onConnectionLost: () => resolve(),
      });
      if (!sent) resolve();
    });
  }

  private setState(state: SmppSessionState): void {
    const previous = this.currentState;
    if (previous === state) return;
    this.currentState = state;
    try {
      this.emit('state', state, previous);
    } catch (error) {
      this.logger.error({ session: this.name, err: error }, 'state listener threw');
    }
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    this.setState('connecting');
    const { host, port } = this.options;
    const useTls = this.options.tls !== undefined && this.options.tls !== false;
    const socket = useTls
      ? tls.connect({
          ...(this.options.tls === true ? {} : (this.options.tls as tls.ConnectionOptions)),
          host,
          port,
          ...(net.isIP(host) === 0 ? { servername: host } : {}),
        })
      : net.connect({ host, port });
    socket.setNoDelay(true);
    // The package's session forwards close and error; its socket reader is replaced (FramedSmppSession).
    // Anything thrown by a handler would unwind through the socket reader and kill the process.
    const guarded =
      <A extends unknown[]>(what: string, handle: (...args: A) => void) =>
      (...args: A): void => {
        try {
          handle(...args);
        } catch (error) {
          this.logger.error({ session: this.name, err: error }, `error handling ${what}`);
        }
      };
    const session = new FramedSmppSession(
      { socket },
      {
        pdu: guarded('a PDU', (pdu: smpp.PDU) => this.onPdu(connection, pdu)),
        deliver: guarded('a deliver PDU', (raw: Buffer) => this.onDeliver(connection, raw)),
        undecodable: guarded('an undecodable PDU', (raw: Buffer, error: Error) => this.onUndecodablePdu(connection, raw, error)),
      },
    );
    const connection: Connection = {
      id: ++this.connectionCount,
      socket,
      session,
      pending: new Map(),
      bound: false,
      closed: false,
      enquireOutstanding: false,
    };
    this.connection = connection;
    session.on('error', (error) => this.drop(connection, 'socket_error', false, error));
    session.on('close', () => this.drop(connection, 'socket_closed'));
    connection.connectTimer = setTimeout(
      () => this.drop(connection, 'connect_timeout'),
      this.options.connectTimeoutMs ?? this.options.responseTimeoutMs,
    );
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      clearTimeout(connection.connectTimer);
      this.bind(connection);
    });
  }

  private bind(connection: Connection): void {
    const o = this.options;
    const pdu = new smpp.PDU(`bind_${o.bindType}`, {
      system_id: o.systemId,
      password: o.password,
      system_type: o.systemType ?? '',
      // The package defaults to 0x50 (SMPP 5.0); this is a 3.4 client.
      interface_version: SMPP_3_4,
      addr_ton: 0,
      addr_npi: 0,
      address_range: o.addressRange ?? '',
    });
    const sent = this.request(connection, pdu, o.responseTimeoutMs, {
      onResponse: (resp) => {
        if (resp.command_status !== 0) {
          this.logger.warn(
            { session: this.name, status: commandStatusName(resp.command_status) },
            'bind refused by SMSC',
          );
          this.drop(connection, 'bind_refused');
          return;
        }
        connection.bound = true;
        connection.boundAt = Date.now();
        this.logger.info(
          { session: this.name, bindType: o.bindType, peer: resp.system_id },
          'SMPP session bound',
        );
        this.setState('bound');
        connection.enquireTimer = setInterval(() => this.enquireLink(connection), o.enquireLinkIntervalMs);
        for (const waiter of this.startWaiters.splice(0)) waiter.resolve();
        this.pump();
      },
      onTimeout: () => this.drop(connection, 'bind_timeout'),
      onConnectionLost: () => undefined,
    });
    if (!sent) this.drop(connection, 'socket_not_writable');
  }

  private enquireLink(connection: Connection): void {
    if (connection.closed || connection.enquireOutstanding) return;
    connection.enquireOutstanding = true;
    const sent = this.request(connection, new smpp.PDU('enquire_link'), this.options.deadLinkTimeoutMs, {
      onResponse: () => {
        connection.enquireOutstanding = false;
      },
      onTimeout: () => this.drop(connection, 'dead_link'),
      onConnectionLost: () => undefined,
    });
    if (!sent) this.drop(connection, 'socket_not_writable');
  }

  /**
   * Writes a PDU. With the socket's no-delay on, every PDU was its own syscall (a profile at 4,000 submit_sm/s
   * put 10 % of the process in socket writes); PDUs written in one tick (a window's submits, a burst of
   * deliver_sm_resp) now leave in one writev, still without Nagle's delay.
   */
  private send(connection: Connection, pdu: smpp.PDU): boolean {
    if (!connection.corked && connection.socket.writable) {
      connection.corked = true;
      connection.socket.cork();
      process.nextTick(() => {
        connection.corked = false;
        connection.socket.uncork();
      });
    }
    return connection.session.send(pdu);
  }

  /** Sends a request PDU and routes its response by sequence number. False when the socket is not writable. */
  private request(
    connection: Connection,
    pdu: smpp.PDU,
    timeoutMs: number,
    handlers: Omit<PendingRequest, 'timer'>,
  ): boolean {
    if (connection.closed || !this.send(connection, pdu)) return false;
    const sequence = pdu.sequence_number;
    const timer = setTimeout(() => {
      connection.pending.delete(sequence);
      handlers.onTimeout();
    }, timeoutMs);
    connection.pending.set(sequence, { ...handlers, timer });
    return true;
  }

  private dispatch(connection: Connection, item: QueuedSubmit): void {
    let pdu: smpp.PDU;
    try {
      pdu = this.buildSubmit(item.request);
    } catch (error) {
      this.errors++;
      item.reject(error instanceof Error ? error : new SmppPduError(String(error)));
      return;
    }
    this.inFlight++;
    const settle = (): void => {
      this.inFlight--;
    };
    const sent = this.request(connection, pdu, this.options.responseTimeoutMs, {
      onResponse: (resp) => {
        settle();
        if (resp.command_status === 0 && resp.command === 'submit_sm_resp') {
          this.submitted++;
          item.resolve({ messageId: resp.message_id ?? '' });
        } else {
          this.errors++;
          item.reject(new SmppCommandError('submit_sm', resp.command_status || ESME_RUNKNOWNERR));
        }
        this.pump();
      },
      onTimeout: () => {
        settle();
        this.errors++;
        item.reject(
          new SmppSessionError(
            'response_timeout',
            `no submit_sm_resp within ${this.options.responseTimeoutMs} ms on ${this.name}`,
            true,
          ),
        );
        this.pump();
      },
      onConnectionLost: (error) => {
        settle();
        this.errors++;
        item.reject(error);
      },
    });
    if (!sent) {
      settle();
      this.errors++;
      item.reject(
        new SmppSessionError('connection_lost', `session ${this.name}: socket not writable`, false),
      );
      this.drop(connection, 'socket_not_writable');
    }
  }

  private buildSubmit(r: SubmitSmRequest): smpp.PDU {
    const o = this.options;
    const fields: smpp.PduFields = {
      service_type: r.serviceType ?? '',
      source_addr_ton: r.sourceTon ?? o.sourceTon,
      source_addr_npi: r.sourceNpi ?? o.sourceNpi,
      source_addr: r.sourceAddr,
      dest_addr_ton: r.destTon ?? o.destTon,
      dest_addr_npi: r.destNpi ?? o.destNpi,
      destination_addr: r.destinationAddr,
      esm_class: r.esmClass,
      protocol_id: r.protocolId ?? 0,
      priority_flag: r.priorityFlag ?? 0,
      registered_delivery: r.registeredDelivery,
      data_coding: r.dataCoding,
      // Always a Buffer: the package passes Buffers through untouched but "encodes" anything else as text.
      short_message: r.shortMessage ? toBuffer(r.shortMessage) : Buffer.alloc(0),
    };
    if (r.validityPeriod !== undefined) fields.validity_period = r.validityPeriod;
    if (r.messagePayload) fields.message_payload = toBuffer(r.messagePayload);
    if (r.sar) {
      fields.sar_msg_ref_num = r.sar.refNum;
      fields.sar_total_segments = r.sar.totalSegments;
      fields.sar_segment_seqnum = r.sar.seqNum;
    }
    return new smpp.PDU('submit_sm', fields);
  }

  private pump(): void {
    const connection = this.connection;
    while (this.queue.length > 0 && this.inFlight < this.options.window) {
      if (!connection?.bound || connection.closed || this.stopping) return;
      this.dispatch(connection, this.queue.shift()!);
    }
  }

  private rejectQueued(error: () => SmppSessionError): void {
    for (const item of this.queue.splice(0)) {
      this.errors++;
      item.reject(error());
    }
  }

  private onPdu(connection: Connection, pdu: smpp.PDU): void {
    if (connection.closed) return;
    if (pdu.isResponse()) {
      const pending = connection.pending.get(pdu.sequence_number);
      if (!pending) {
        this.logger.info(
          { session: this.name, command: pdu.command, sequence: pdu.sequence_number },
          'response to no pending request (late, after its timeout)',
        );
        return;
      }
      connection.pending.delete(pdu.sequence_number);
      clearTimeout(pending.timer);
      pending.onResponse(pdu);
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.send(connection, pdu.response());
        return;
      case 'unbind':
        this.logger.warn({ session: this.name }, 'SMSC unbound the session');
        this.send(connection, pdu.response());
        this.drop(connection, 'unbound_by_smsc', true);
        return;
      case 'alert_notification':
      case 'outbind':
        return;
      default:
        this.send(
          connection,
          new smpp.PDU('generic_nack', {
            sequence_number: pdu.sequence_number,
            command_status: ESME_RINVCMDID,
          }),
        );
    }
  }

  /**
   * A PDU whose frame was whole but whose fields the package could not decode (a TLV cut short, a length that
   * lies): the session reads on (deliver_sm and data_sm never get here: the reader hands them over undecoded).
   * - a response: it still settles its request by the header's command_status; an accepted submit_sm_resp keeps
   *   its message_id when that first field is whole, else it is recorded without one (and never resent).
   * - any other request: generic_nack ESME_RINVCMDLEN.
   */
  private onUndecodablePdu(connection: Connection, raw: Buffer, error: Error): void {
    if (connection.closed) return;
    const commandId = raw.readUInt32BE(4);
    const commandStatus = raw.readUInt32BE(8);
    const sequenceNumber = raw.readUInt32BE(12);
    const command = smpp.commandsById[commandId]?.command;
    if (commandId & 0x80000000) {
      const pending = connection.pending.get(sequenceNumber);
      if (!pending || !command) {
        this.reportMalformed(raw, error, 'ignored');
        return;
      }
      connection.pending.delete(sequenceNumber);
      clearTimeout(pending.timer);
      const fields: smpp.PduFields = { sequence_number: sequenceNumber, command_status: commandStatus };
      if (command === 'submit_sm_resp' && commandStatus === 0) {
        // message_id is a C-octet string of at most 65 octets, NUL included.
        const end = raw.indexOf(0, PDU_HEADER_OCTETS);
        if (end > PDU_HEADER_OCTETS && end - PDU_HEADER_OCTETS <= 64) {
          fields.message_id = raw.toString('latin1', PDU_HEADER_OCTETS, end);
        }
      }
      this.reportMalformed(raw, error, 'settled_pending');
      pending.onResponse(new smpp.PDU(command, fields));
      return;
    }
    this.send(connection, new smpp.PDU('generic_nack', { sequence_number: sequenceNumber, command_status: ESME_RINVCMDLEN }));
    this.reportMalformed(raw, error, 'nacked');
  }

  private reportMalformed(raw: Buffer, error: Error, action: SmppMalformedPdu['action']): void {
    const commandId = raw.readUInt32BE(4);
    const malformed: SmppMalformedPdu = {
      command: smpp.commandsById[commandId]?.command ?? `0x${commandId.toString(16).padStart(8, '0')}`,
      commandId,
      commandStatus: raw.readUInt32BE(8),
      sequenceNumber: raw.readUInt32BE(12),
      reason: error.message.slice(0, 200),
      action,
      head: raw.subarray(0, PDU_HEADER_OCTETS).toString('hex'),
    };
    this.logger.error({ session: this.name, ...malformed }, 'malformed PDU from the SMSC; the session reads on');
    try {
      this.emit('malformed', malformed);
    } catch (listenerError) {
      this.logger.error({ session: this.name, err: listenerError }, 'malformed listener threw');
    }
  }

  /**
   * deliver_sm / data_sm from its exact bytes (the package's decoding of text is lossy, so this library parses
   * them itself). Answered at once, before any listener runs: the SMSC's window towards us must never wait on
   * our processing. One that cannot be read is refused with ESME_RX_P_APPN, a permanent error, so the SMSC
   * does not send it again (acknowledging it would lose it silently; a temporary error would bring it back for
   * ever); its message's status then ends by the receipt time-to-live.
   */
  private onDeliver(connection: Connection, raw: Buffer): void {
    if (connection.closed) return;
    const commandId = raw.readUInt32BE(4);
    let deliver: SmppDeliver | undefined;
    let parseError: Error | undefined;
    try {
      deliver = parseDeliverBody(raw.subarray(4), new Date());
    } catch (error) {
      parseError = error instanceof Error ? error : new Error(String(error));
    }
    this.send(
      connection,
      new smpp.PDU(commandId === DELIVER_SM ? 'deliver_sm_resp' : 'data_sm_resp', {
        sequence_number: raw.readUInt32BE(12),
        command_status: deliver ? 0 : ESME_RX_P_APPN,
      }),
    );
    if (!deliver) {
      this.reportMalformed(raw, parseError ?? new Error('unreadable'), 'refused');
      return;
    }
    try {
      this.emit('deliver', deliver);
    } catch (error) {
      this.logger.error({ session: this.name, err: error }, 'deliver listener threw');
    }
  }

  /**
   * Ends a connection once: fails its pending requests, closes the socket (after flushing when `graceful`)
   * and, unless the session is stopping, schedules a reconnect with backoff.
   */
  private drop(connection: Connection, reason: string, graceful = false, error?: Error): void {
    if (connection.closed) return;
    connection.closed = true;
    clearTimeout(connection.connectTimer);
    clearInterval(connection.enquireTimer);
    const stopping = this.stopping || !this.started;
    const lost = (): SmppSessionError =>
      stopping
        ? new SmppSessionError('session_closed', `session ${this.name} was stopped`, true)
        : new SmppSessionError(
            'connection_lost',
            `session ${this.name} lost its connection (${reason})`,
            true,
          );
    for (const pending of connection.pending.values()) {
      clearTimeout(pending.timer);
      pending.onConnectionLost(lost());
    }
    connection.pending.clear();
    if (graceful) {
      connection.socket.end();
      setTimeout(() => connection.socket.destroy(), this.unbindTimeoutMs()).unref();
    } else {
      connection.socket.destroy();
    }
    if (this.connection === connection) this.connection = undefined;
    if (stopping) return;

    this.rejectQueued(
      () =>
        new SmppSessionError(
          'connection_lost',
          `session ${this.name} lost its connection (${reason})`,
          false,
        ),
    );
    // A bind that stayed up for a heartbeat period was healthy: start the backoff over.
    const boundFor = connection.boundAt === undefined ? 0 : Date.now() - connection.boundAt;
    if (boundFor >= this.options.enquireLinkIntervalMs) this.reconnectAttempt = 0;
    const wait = backoffDelay(this.reconnectAttempt++, this.options.reconnect);
    this.logger.warn(
      {
        session: this.name,
        reason,
        err: error?.message,
        attempt: this.reconnectAttempt,
        reconnectInMs: wait,
        wasBound: connection.bound,
      },
      'SMPP connection lost; reconnecting after backoff',
    );
    this.setState('backoff');
    this.reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this.connect();
    }, wait);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
