/**
 * Types for the parts of the untyped `smpp` 0.5.1 package this library (and its tests) use.
 * Kept inside libs/smpp: it is not emitted to dist, and nothing in the public API mentions these types.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';
  import type { ConnectionOptions } from 'node:tls';

  namespace smpp {
    /**
     * Field values of a PDU. Mandatory parameters and TLVs are plain properties named as in the SMPP 3.4
     * spec (snake_case). On decode `short_message` / `message_payload` are NOT the raw bytes: the package
     * turns them into `{ udh?: Buffer[], message: string | Buffer }` according to data_coding.
     */
    interface PduFields {
      command_status?: number;
      sequence_number?: number;
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
      /** Encode: a Buffer is sent as is (length must be <= 255 or the package throws a RangeError). */
      short_message?: Buffer | string | DecodedMessage;
      message_id?: string;
      message_payload?: Buffer | string | DecodedMessage;
      sar_msg_ref_num?: number;
      sar_total_segments?: number;
      sar_segment_seqnum?: number;
      receipted_message_id?: string;
      message_state?: number;
      network_error_code?: Buffer;
      user_message_reference?: number;
    }

    interface DecodedMessage {
      udh?: Buffer[];
      message: string | Buffer;
    }

    type CommandName =
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
      | 'enquire_link'
      | 'enquire_link_resp'
      | 'unbind'
      | 'unbind_resp'
      | 'generic_nack'
      | 'alert_notification'
      | 'outbind'
      | 'query_sm'
      | 'query_sm_resp'
      | 'cancel_sm'
      | 'cancel_sm_resp'
      | 'replace_sm'
      | 'replace_sm_resp'
      | 'submit_multi'
      | 'submit_multi_resp';

    class PDU implements PduFields {
      constructor(command: CommandName, options?: PduFields);
      /** 'unknown' when the command id is not one the package knows. */
      command: CommandName | 'unknown';
      command_id: number;
      command_length: number;
      command_status: number;
      sequence_number: number;
      isResponse(): boolean;
      /** The matching *_resp (generic_nack for an unknown command), same sequence_number. */
      response(options?: PduFields): PDU;
      toBuffer(): Buffer;
      static fromBuffer(buffer: Buffer): PDU | false;
      static maxLength: number;

      system_id?: string;
      password?: string;
      system_type?: string;
      interface_version?: number;
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
      short_message?: Buffer | string | DecodedMessage;
      message_id?: string;
      message_payload?: Buffer | string | DecodedMessage;
      sar_msg_ref_num?: number;
      sar_total_segments?: number;
      sar_segment_seqnum?: number;
      receipted_message_id?: string;
      message_state?: number;
      network_error_code?: Buffer;
      user_message_reference?: number;
    }

    interface SessionOptions {
      /** Wrap an existing socket (server side, or a client that connects the socket itself). */
      socket?: Socket;
      host?: string;
      port?: number;
      tls?: boolean | ConnectionOptions;
      auto_enquire_link_period?: number;
    }

    type PduCallback = (pdu: PDU) => void;

    class Session extends EventEmitter {
      constructor(options: SessionOptions);
      socket: Socket;
      sequence: number;
      paused: boolean;
      /** The package's socket reader (bound to 'readable' by the constructor) and the state it keeps. */
      protected _extractPDUs(): void;
      protected _busy: boolean;
      protected _command_length: number | null;
      protected _callbacks: Record<number, PduCallback | undefined>;
      server?: Server;
      /** Returns false (and sends nothing) when the socket is not writable. Assigns sequence_number. */
      send(pdu: PDU, responseCallback?: PduCallback, sendCallback?: PduCallback): boolean;
      pause(): void;
      resume(): void;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;

      submit_sm(options: PduFields, responseCallback?: PduCallback): boolean;
      deliver_sm(options: PduFields, responseCallback?: PduCallback): boolean;
      enquire_link(options?: PduFields, responseCallback?: PduCallback): boolean;
      unbind(options?: PduFields, responseCallback?: PduCallback): boolean;
      bind_transceiver(options: PduFields, responseCallback?: PduCallback): boolean;

      on(event: 'pdu' | CommandName | 'unknown' | 'send', listener: (pdu: PDU) => void): this;
      on(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
      once(event: 'pdu' | CommandName | 'unknown' | 'send', listener: (pdu: PDU) => void): this;
      once(event: 'connect' | 'secureConnect' | 'close', listener: () => void): this;
      once(event: 'error', listener: (error: Error) => void): this;
    }

    interface Server extends NetServer {
      sessions: Session[];
      on(event: 'session', listener: (session: Session) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }

    interface ServerOptions {
      key?: string | Buffer;
      cert?: string | Buffer;
    }

    function createServer(listener?: (session: Session) => void): Server;
    function createServer(options: ServerOptions, listener?: (session: Session) => void): Server;

    /** SMPP command_status names (ESME_ROK, ESME_RTHROTTLED, ...) to values. */
    const errors: Readonly<Record<string, number>>;
    /** The package's command table by command_id (undefined for an id it does not know). */
    const commandsById: Readonly<Record<number, { command: CommandName } | undefined>>;
  }

  export = smpp;
}
