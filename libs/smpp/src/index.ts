export {
  MAX_ADDRESS_LENGTH,
  MAX_MESSAGE_PAYLOAD_OCTETS,
  MAX_SHORT_MESSAGE_OCTETS,
  SmppClientSession,
  validateSubmit,
  type SarSegment,
  type SmppBindType,
  type SmppClientSessionEvents,
  type SmppClientSessionOptions,
  type SmppLogger,
  type SmppMalformedPdu,
  type SmppSessionCounters,
  type SmppSessionState,
  type SubmitSmRequest,
  type SubmitSmResult,
} from './session.js';
export {
  SmppCommandError,
  SmppPduError,
  SmppSessionError,
  commandStatusName,
  isRetryableCommandStatus,
  type SmppSessionErrorCode,
} from './errors.js';
export { backoffDelay, type ReconnectOptions } from './backoff.js';
export {
  ESM_INTERMEDIATE_NOTIFICATION,
  ESM_MESSAGE_TYPE_MASK,
  ESM_SMSC_DELIVERY_RECEIPT,
  ESM_UDHI,
  isReceiptEsmClass,
  parseDeliverBody,
  type NetworkErrorCode,
  type SmppDeliver,
} from './deliver.js';
export { parseReceiptText, type ReceiptText } from './receipt.js';
