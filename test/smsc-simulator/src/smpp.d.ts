// Types for the untyped `smpp` npm package (0.5.1), covering the ESME (client) side and the PDU
// fields an SMS gateway uses. Written from node_modules/smpp/lib/{smpp,pdu,defs}.js; self-contained
// so carrier-dispatch can copy it verbatim. Import with `import smpp from 'smpp'`: the package is
// CommonJS and builds most exports in loops, so ESM named imports of them fail at runtime.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  /**
   * How the package decodes short_message / message_payload: text through its GSM / Latin-1 / UCS-2
   * tables when data_coding names one of them (lossy for other octets), raw Buffer otherwise, with the
   * UDH split out when esm_class has UDHI. On encode a Buffer is sent as is.
   */
  export interface DecodedMessage {
    udh?: Buffer[];
    message: string | Buffer;
  }

  export type MessageInput = string | Buffer | { message: string | Buffer; udh?: Buffer };

  /** Fields shared by PDU construction options and decoded PDUs; all optional, per command. */
  export interface PduFields {
    command_status?: number;
    sequence_number?: number;
    // bind_*
    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    addr_ton?: number;
    addr_npi?: number;
    address_range?: string;
    // submit_sm / deliver_sm / data_sm
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    protocol_id?: number;
    priority_flag?: number;
    schedule_delivery_time?: string | Date;
    validity_period?: string | Date;
    registered_delivery?: number;
    replace_if_present_flag?: number;
    /** null (the default) lets the package pick an encoding for string messages. */
    data_coding?: number | null;
    sm_default_msg_id?: number;
    // *_resp
    message_id?: string;
    // TLVs
    receipted_message_id?: string;
    message_state?: number;
    network_error_code?: Buffer;
    sar_msg_ref_num?: number;
    sar_total_segments?: number;
    sar_segment_seqnum?: number;
    sc_interface_version?: number;
    user_message_reference?: number;
    source_port?: number;
    dest_port?: number;
    payload_type?: number;
    more_messages_to_send?: number;
    delivery_failure_reason?: number;
    additional_status_info_text?: string;
  }

  export interface PduOptions extends PduFields {
    short_message?: MessageInput;
    message_payload?: MessageInput;
  }

  export type CommandName =
    | 'bind_receiver'
    | 'bind_receiver_resp'
    | 'bind_transmitter'
    | 'bind_transmitter_resp'
    | 'bind_transceiver'
    | 'bind_transceiver_resp'
    | 'submit_sm'
    | 'submit_sm_resp'
    | 'deliver_sm'
    | 'deliver_sm_resp'
    | 'data_sm'
    | 'data_sm_resp'
    | 'query_sm'
    | 'query_sm_resp'
    | 'cancel_sm'
    | 'cancel_sm_resp'
    | 'replace_sm'
    | 'replace_sm_resp'
    | 'submit_multi'
    | 'submit_multi_resp'
    | 'enquire_link'
    | 'enquire_link_resp'
    | 'unbind'
    | 'unbind_resp'
    | 'generic_nack'
    | 'outbind'
    | 'alert_notification';

  export class PDU implements PduFields {
    constructor(command: CommandName, options?: PduOptions);
    /** 'unknown' for a command id the package does not know. */
    command: CommandName | 'unknown';
    command_length: number;
    command_id: number;
    command_status: number;
    sequence_number: number;
    short_message?: DecodedMessage;
    message_payload?: DecodedMessage;
    isResponse(): boolean;
    /** The matching *_resp (generic_nack for unknown commands) with this PDU's sequence number. */
    response(options?: PduOptions): PDU;
    toBuffer(): Buffer;
    static fromBuffer(buffer: Buffer): PDU | false;
    static maxLength: number;
    // Decoded fields (present per command).
    system_id?: string;
    password?: string;
    system_type?: string;
    interface_version?: number;
    addr_ton?: number;
    addr_npi?: number;
    address_range?: string;
    service_type?: string;
    source_addr_ton?: number;
    source_addr_npi?: number;
    source_addr?: string;
    dest_addr_ton?: number;
    dest_addr_npi?: number;
    destination_addr?: string;
    esm_class?: number;
    protocol_id?: number;
    priority_flag?: number;
    schedule_delivery_time?: string | Date;
    validity_period?: string | Date;
    registered_delivery?: number;
    replace_if_present_flag?: number;
    data_coding?: number | null;
    sm_default_msg_id?: number;
    message_id?: string;
    receipted_message_id?: string;
    message_state?: number;
    network_error_code?: Buffer;
    sar_msg_ref_num?: number;
    sar_total_segments?: number;
    sar_segment_seqnum?: number;
    sc_interface_version?: number;
    user_message_reference?: number;
    source_port?: number;
    dest_port?: number;
    payload_type?: number;
    more_messages_to_send?: number;
    delivery_failure_reason?: number;
    additional_status_info_text?: string;
  }

  export type ResponseCallback = (pdu: PDU) => void;
  export type SendCallback = (pdu: PDU) => void;
  /** Command shortcut: builds the PDU, assigns a sequence number, registers the response callback. */
  export type CommandShortcut = {
    (options: PduOptions, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
    (responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
  };

  export interface SessionOptions {
    host?: string;
    port?: number;
    tls?: boolean;
    /** Sends enquire_link on this period (ms) once connected. */
    auto_enquire_link_period?: number;
    socket?: Socket;
    [netOption: string]: unknown;
  }

  export class Session extends EventEmitter {
    constructor(options: SessionOptions);
    socket: Socket;
    sequence: number;
    paused: boolean;
    /** false when the socket is not writable (nothing sent, callback never called). */
    send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: SendCallback): boolean;
    connect(): void;
    pause(): void;
    resume(): void;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;

    bind_transceiver: CommandShortcut;
    bind_transmitter: CommandShortcut;
    bind_receiver: CommandShortcut;
    submit_sm: CommandShortcut;
    data_sm: CommandShortcut;
    query_sm: CommandShortcut;
    cancel_sm: CommandShortcut;
    replace_sm: CommandShortcut;
    submit_multi: CommandShortcut;
    deliver_sm: CommandShortcut;
    deliver_sm_resp: CommandShortcut;
    enquire_link: CommandShortcut;
    enquire_link_resp: CommandShortcut;
    unbind: CommandShortcut;
    unbind_resp: CommandShortcut;
    generic_nack: CommandShortcut;

    on(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    /** 'pdu' for every PDU; also one event per command name (e.g. 'deliver_sm', 'unbind'). */
    on(event: 'pdu' | 'send' | CommandName | 'unknown', listener: (pdu: PDU) => void): this;
    once(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
    once(event: 'error', listener: (error: Error) => void): this;
    once(event: 'pdu' | 'send' | CommandName | 'unknown', listener: (pdu: PDU) => void): this;
  }

  export class Server extends NetServer {
    sessions: Session[];
    on(event: 'session', listener: (session: Session) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export interface Consts {
    REGISTERED_DELIVERY: {
      FINAL: number;
      FAILURE: number;
      SUCCESS: number;
      DELIVERY_ACKNOWLEDGEMENT: number;
      USER_ACKNOWLEDGEMENT: number;
      INTERMEDIATE: number;
    };
    ESM_CLASS: {
      DATAGRAM: number;
      FORWARD: number;
      STORE_FORWARD: number;
      MC_DELIVERY_RECEIPT: number;
      DELIVERY_ACKNOWLEDGEMENT: number;
      USER_ACKNOWLEDGEMENT: number;
      CONVERSATION_ABORT: number;
      INTERMEDIATE_DELIVERY: number;
      UDH_INDICATOR: number;
      KANNEL_UDH_INDICATOR: number;
      SET_REPLY_PATH: number;
    };
    MESSAGE_STATE: {
      SCHEDULED: number;
      ENROUTE: number;
      DELIVERED: number;
      EXPIRED: number;
      DELETED: number;
      UNDELIVERABLE: number;
      ACCEPTED: number;
      UNKNOWN: number;
      REJECTED: number;
      SKIPPED: number;
    };
    TON: Record<string, number>;
    NPI: Record<string, number>;
    ENCODING: Record<string, number>;
    NETWORK: Record<string, number>;
    [group: string]: Record<string, number>;
  }

  export type ErrorName =
    | 'ESME_ROK'
    | 'ESME_RINVMSGLEN'
    | 'ESME_RINVCMDLEN'
    | 'ESME_RINVCMDID'
    | 'ESME_RINVBNDSTS'
    | 'ESME_RALYBND'
    | 'ESME_RINVPRTFLG'
    | 'ESME_RINVREGDLVFLG'
    | 'ESME_RSYSERR'
    | 'ESME_RINVSRCADR'
    | 'ESME_RINVDSTADR'
    | 'ESME_RINVMSGID'
    | 'ESME_RBINDFAIL'
    | 'ESME_RINVPASWD'
    | 'ESME_RINVSYSID'
    | 'ESME_RCANCELFAIL'
    | 'ESME_RREPLACEFAIL'
    | 'ESME_RMSGQFUL'
    | 'ESME_RINVSERTYP'
    | 'ESME_RINVNUMDESTS'
    | 'ESME_RINVDLNAME'
    | 'ESME_RINVDESTFLAG'
    | 'ESME_RINVSUBREP'
    | 'ESME_RINVESMCLASS'
    | 'ESME_RCNTSUBDL'
    | 'ESME_RSUBMITFAIL'
    | 'ESME_RINVSRCTON'
    | 'ESME_RINVSRCNPI'
    | 'ESME_RINVDSTTON'
    | 'ESME_RINVDSTNPI'
    | 'ESME_RINVSYSTYP'
    | 'ESME_RINVREPFLAG'
    | 'ESME_RINVNUMMSGS'
    | 'ESME_RTHROTTLED'
    | 'ESME_RINVSCHED'
    | 'ESME_RINVEXPIRY'
    | 'ESME_RINVDFTMSGID'
    | 'ESME_RX_T_APPN'
    | 'ESME_RX_P_APPN'
    | 'ESME_RX_R_APPN'
    | 'ESME_RQUERYFAIL'
    | 'ESME_RINVTLVSTREAM'
    | 'ESME_RTLVNOTALLWD'
    | 'ESME_RINVTLVLEN'
    | 'ESME_RMISSINGTLV'
    | 'ESME_RINVTLVVAL'
    | 'ESME_RDELIVERYFAILURE'
    | 'ESME_RUNKNOWNERR'
    | 'ESME_RSERTYPUNAUTH'
    | 'ESME_RPROHIBITED'
    | 'ESME_RSERTYPUNAVAIL'
    | 'ESME_RSERTYPDENIED'
    | 'ESME_RINVDCS'
    | 'ESME_RINVSRCADDRSUBUNIT'
    | 'ESME_RINVDSTADDRSUBUNIT'
    | 'ESME_RINVBCASTFREQINT'
    | 'ESME_RINVBCASTALIAS_NAME'
    | 'ESME_RINVBCASTAREAFMT'
    | 'ESME_RINVNUMBCAST_AREAS'
    | 'ESME_RINVBCASTCNTTYPE'
    | 'ESME_RINVBCASTMSGCLASS'
    | 'ESME_RBCASTFAIL'
    | 'ESME_RBCASTQUERYFAIL'
    | 'ESME_RBCASTCANCELFAIL'
    | 'ESME_RINVBCAST_REP'
    | 'ESME_RINVBCASTSRVGRP'
    | 'ESME_RINVBCASTCHANIND';

  interface SmppModule extends Record<ErrorName, number> {
    PDU: typeof PDU;
    Session: typeof Session;
    Server: typeof Server;
    connect(url: string, listener?: () => void): Session;
    connect(options: SessionOptions & { url?: string }, listener?: () => void): Session;
    createSession(options: SessionOptions & { url?: string }, listener?: () => void): Session;
    createServer(listener?: (session: Session) => void): Server;
    createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
    errors: Record<ErrorName, number>;
    consts: Consts;
  }

  const smpp: SmppModule;
  export default smpp;
}
