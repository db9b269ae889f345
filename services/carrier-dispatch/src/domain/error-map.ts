/**
 * What a carrier's answer means for the message. `retry` may succeed on the same carrier later,
 * `failover` may succeed on another carrier, `permanent` will fail everywhere.
 */
export type FailureDisposition = 'retry' | 'failover' | 'permanent';

export interface FailureClass {
  disposition: FailureDisposition;
  /** Our reason code (the raw carrier code is kept beside it). */
  reason: string;
  /** The final status when the failure ends the message. */
  finalStatus: 'rejected' | 'failed';
}

/** SMPP 3.4 command_status values (§5.1.3) and what each means for a submit_sm. */
const smppStatusTable: Record<number, FailureClass> = {
  0x0001: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVMSGLEN
  0x0002: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVCMDLEN
  0x0003: { disposition: 'failover', reason: 'carrier_protocol_error', finalStatus: 'failed' }, // ESME_RINVCMDID
  0x0004: { disposition: 'failover', reason: 'carrier_bind_error', finalStatus: 'failed' }, // ESME_RINVBNDSTS
  0x0005: { disposition: 'failover', reason: 'carrier_bind_error', finalStatus: 'failed' }, // ESME_RALYBND
  0x0008: { disposition: 'retry', reason: 'carrier_system_error', finalStatus: 'failed' }, // ESME_RSYSERR
  0x000a: { disposition: 'permanent', reason: 'invalid_sender', finalStatus: 'rejected' }, // ESME_RINVSRCADR
  0x000b: { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' }, // ESME_RINVDSTADR
  0x000c: { disposition: 'retry', reason: 'carrier_system_error', finalStatus: 'failed' }, // ESME_RINVMSGID
  0x000d: { disposition: 'failover', reason: 'carrier_bind_error', finalStatus: 'failed' }, // ESME_RBINDFAIL
  0x000e: { disposition: 'failover', reason: 'carrier_bind_error', finalStatus: 'failed' }, // ESME_RINVPASWD
  0x0014: { disposition: 'retry', reason: 'carrier_queue_full', finalStatus: 'failed' }, // ESME_RMSGQFUL
  0x0015: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVSERTYP
  0x0033: { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' }, // ESME_RINVNUMDESTS
  0x0040: { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' }, // ESME_RINVDESTFLAG
  0x0042: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVSUBREP
  0x0043: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVESMCLASS
  0x0045: { disposition: 'retry', reason: 'carrier_submit_failed', finalStatus: 'failed' }, // ESME_RSUBMITFAIL
  0x0048: { disposition: 'permanent', reason: 'invalid_sender', finalStatus: 'rejected' }, // ESME_RINVSRCTON
  0x0049: { disposition: 'permanent', reason: 'invalid_sender', finalStatus: 'rejected' }, // ESME_RINVSRCNPI
  0x0050: { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' }, // ESME_RINVDSTTON
  0x0051: { disposition: 'permanent', reason: 'invalid_destination', finalStatus: 'rejected' }, // ESME_RINVDSTNPI
  0x0058: { disposition: 'retry', reason: 'carrier_throttled', finalStatus: 'failed' }, // ESME_RTHROTTLED
  0x0061: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVSCHED
  0x0062: { disposition: 'permanent', reason: 'validity_invalid', finalStatus: 'rejected' }, // ESME_RINVEXPIRY
  0x0064: { disposition: 'retry', reason: 'carrier_temporary_error', finalStatus: 'failed' }, // ESME_RX_T_APPN
  0x0065: { disposition: 'permanent', reason: 'carrier_rejected', finalStatus: 'rejected' }, // ESME_RX_P_APPN
  0x0066: { disposition: 'permanent', reason: 'carrier_rejected', finalStatus: 'rejected' }, // ESME_RX_R_APPN
  0x00c0: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVOPTPARSTREAM
  0x00c1: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_ROPTPARNOTALLWD
  0x00c2: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' }, // ESME_RINVPARLEN
  0x00fe: { disposition: 'retry', reason: 'carrier_delivery_failure', finalStatus: 'failed' }, // ESME_RDELIVERYFAILURE
  0x00ff: { disposition: 'failover', reason: 'carrier_unknown_error', finalStatus: 'failed' }, // ESME_RUNKNOWNERR
};

/** Classifies a non-zero submit_sm_resp command_status. Unknown (vendor) codes fail over, never silently retry forever. */
export function classifySmppStatus(commandStatus: number): FailureClass {
  return smppStatusTable[commandStatus] ?? { disposition: 'failover', reason: 'carrier_unknown_error', finalStatus: 'failed' };
}

/** Session-level failures (no verdict from the carrier about this message). */
export function classifySessionError(code: string): FailureClass {
  switch (code) {
    case 'not_bound':
    case 'connection_lost':
    case 'session_closed':
      return { disposition: 'failover', reason: 'carrier_bind_down', finalStatus: 'failed' };
    case 'queue_full':
      return { disposition: 'retry', reason: 'carrier_window_full', finalStatus: 'failed' };
    case 'response_timeout':
      return { disposition: 'failover', reason: 'carrier_timeout', finalStatus: 'failed' };
    case 'breaker_open':
      return { disposition: 'failover', reason: 'carrier_breaker_open', finalStatus: 'failed' };
    default:
      return { disposition: 'failover', reason: 'carrier_unknown_error', finalStatus: 'failed' };
  }
}

export const smppStatusCodes = Object.keys(smppStatusTable).map(Number);

/**
 * HTTP carriers: the answer's status when the carrier gave no error code of its own that the carrier's
 * `errors` config knows. 4xx about the request is a verdict on the message; 401/403/404 say our config is
 * wrong for this carrier (another carrier may work); 408/429/5xx are the carrier having a bad moment.
 */
const httpStatusTable: Record<number, FailureClass> = {
  400: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' },
  401: { disposition: 'failover', reason: 'carrier_auth_error', finalStatus: 'failed' },
  402: { disposition: 'failover', reason: 'carrier_account_error', finalStatus: 'failed' },
  403: { disposition: 'failover', reason: 'carrier_auth_error', finalStatus: 'failed' },
  404: { disposition: 'failover', reason: 'carrier_protocol_error', finalStatus: 'failed' },
  405: { disposition: 'failover', reason: 'carrier_protocol_error', finalStatus: 'failed' },
  408: { disposition: 'retry', reason: 'carrier_timeout', finalStatus: 'failed' },
  413: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' },
  415: { disposition: 'failover', reason: 'carrier_protocol_error', finalStatus: 'failed' },
  422: { disposition: 'permanent', reason: 'carrier_invalid_message', finalStatus: 'rejected' },
  429: { disposition: 'retry', reason: 'carrier_throttled', finalStatus: 'failed' },
  500: { disposition: 'retry', reason: 'carrier_system_error', finalStatus: 'failed' },
  502: { disposition: 'retry', reason: 'carrier_temporary_error', finalStatus: 'failed' },
  503: { disposition: 'retry', reason: 'carrier_temporary_error', finalStatus: 'failed' },
  504: { disposition: 'retry', reason: 'carrier_timeout', finalStatus: 'failed' },
};

export interface CarrierErrorOverride {
  disposition: FailureDisposition;
  reason: string;
}

/**
 * Classifies a failed HTTP submit: the carrier's own error code first (when the config maps it), then the
 * status. Other 5xx retry, other 4xx fail over: an unlisted client error is more likely our mapping than
 * the message, so it must not reject messages another carrier would take.
 */
export function classifyHttpFailure(status: number, carrierCode: string | undefined, overrides: Readonly<Record<string, CarrierErrorOverride>> = {}): FailureClass {
  const override = carrierCode !== undefined ? overrides[carrierCode] : undefined;
  if (override) return { ...override, finalStatus: override.disposition === 'permanent' ? 'rejected' : 'failed' };
  const known = httpStatusTable[status];
  if (known) return known;
  if (status >= 500) return { disposition: 'retry', reason: 'carrier_system_error', finalStatus: 'failed' };
  return { disposition: 'failover', reason: 'carrier_unknown_error', finalStatus: 'failed' };
}

export const httpStatusCodes = Object.keys(httpStatusTable).map(Number);
