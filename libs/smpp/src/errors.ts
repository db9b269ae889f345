import smpp from 'smpp';

export type SmppSessionErrorCode =
  /** The session is not bound (connecting, backing off or stopped): fail over to another session now. */
  | 'not_bound'
  /** More submits are waiting for a window slot than maxQueued allows. */
  | 'queue_full'
  /** The connection dropped (socket closed, dead link, SMSC unbind) while the submit was queued or in flight. */
  | 'connection_lost'
  /** No submit_sm_resp within responseTimeoutMs. */
  | 'response_timeout'
  /** stop() was called. */
  | 'session_closed';

/**
 * A failure of the session rather than a verdict of the SMSC on the message. All of them are retryable, but
 * when `maybeAccepted` is true the submit_sm had been written to the socket: the SMSC may have accepted it,
 * so a retry can deliver the message twice.
 */
export class SmppSessionError extends Error {
  readonly retryable = true;

  constructor(
    readonly code: SmppSessionErrorCode,
    message: string,
    readonly maybeAccepted = false,
  ) {
    super(message);
    this.name = 'SmppSessionError';
  }
}

const statusNames = new Map<number, string>(
  Object.entries(smpp.errors).map(([name, value]): [number, string] => [value, name]),
);

/** The spec name of a command_status (ESME_RTHROTTLED), or ESME_0x... for a vendor-specific one. */
export function commandStatusName(commandStatus: number): string {
  return statusNames.get(commandStatus) ?? `ESME_0x${commandStatus.toString(16).padStart(8, '0')}`;
}

/**
 * Statuses that say "not now" rather than "never": throttling, a full queue, a temporary application error
 * or an SMSC-side system error. Anything else (bad address, invalid data coding, ...) fails again if resent.
 */
const retryableStatuses = new Set([
  0x0008, // ESME_RSYSERR
  0x0014, // ESME_RMSGQFUL
  0x0045, // ESME_RSUBMITFAIL
  0x0058, // ESME_RTHROTTLED
  0x0064, // ESME_RX_T_APPN
]);

export function isRetryableCommandStatus(commandStatus: number): boolean {
  return retryableStatuses.has(commandStatus);
}

/**
 * The SMSC answered with a non-zero command_status. `name` is the status's spec name (ESME_RTHROTTLED), so
 * test the class with instanceof.
 */
export class SmppCommandError extends Error {
  readonly commandStatus: number;
  /** Same as name: the spec name of the status. */
  readonly statusName: string;
  readonly retryable: boolean;

  constructor(
    readonly command: string,
    commandStatus: number,
  ) {
    const statusName = commandStatusName(commandStatus);
    super(`${command} refused: ${statusName} (0x${commandStatus.toString(16)})`);
    this.name = statusName;
    this.commandStatus = commandStatus;
    this.statusName = statusName;
    this.retryable = isRetryableCommandStatus(commandStatus);
  }
}

/** A submit the session refuses to send because it breaks SMPP limits (a programming error, never retryable). */
export class SmppPduError extends Error {
  readonly retryable = false;

  constructor(message: string) {
    super(message);
    this.name = 'SmppPduError';
  }
}
