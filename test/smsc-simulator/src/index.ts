export {
  startSimulator,
  magicBehaviourOf,
  magicNumber,
  MAGIC_NUMBERS,
  RECEIPT_STATES,
  type BindInfo,
  type BindType,
  type Credential,
  type DuplicateGroup,
  type MagicBehaviour,
  type MoMessage,
  type MoResult,
  type Outcome,
  type ResponseState,
  type SimulatorEvent,
  type SimulatorOptions,
  type SimulatorStats,
  type SmscSimulator,
  type SubmitRecord,
  type UnbindReason,
} from './simulator.js';
export { DEFAULT_KNOBS, KnobError, type KnobsPatch, type OutcomeMix, type SimulatorKnobs } from './knobs.js';
export { CommandStatus, commandStatusName, type CommandStatusName } from './pdu.js';
export type { ConcatInfo, UdhElement, UdhInfo } from './message.js';
export { reassemble, type ReassembledMessage } from './reassemble.js';
export { startHttpCarrier, HTTP_CARRIER_ERRORS, type HttpCarrierOptions, type HttpCarrierSimulator, type HttpSubmitRecord } from './http-carrier.js';
