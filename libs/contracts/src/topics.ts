import type { EventContract } from './contract.js';
import { AcceptedOtpV1, AcceptedPromotionalV1, AcceptedTransactionalV1 } from './events/accepted/index.js';
import { ApiKeyChangedV1 } from './events/api-key-changed/index.js';
import { CarrierHealthV1 } from './events/carrier-health/index.js';
import { DEAD_LETTER_PARTITIONS, DEAD_LETTER_TOPIC } from './events/dead-letter/index.js';
import { DispatchOtpV1, DispatchPromotionalV1, DispatchTransactionalV1 } from './events/dispatch/index.js';
import { DispatchFailedOtpV1, DispatchFailedPromotionalV1, DispatchFailedTransactionalV1 } from './events/dispatch-failed/index.js';
import { DlrReceivedV1 } from './events/dlr-received/index.js';
import { MoReceivedV1 } from './events/mo-received/index.js';
import { SendRejectedV1 } from './events/send-rejected/index.js';
import { SendRequestedV1 } from './events/send-requested/index.js';
import { StatusChangedV1 } from './events/status-changed/index.js';
import { SubmittedV1 } from './events/submitted/index.js';

export const allContracts: ReadonlyArray<EventContract<unknown>> = [
  SendRequestedV1,
  SendRejectedV1,
  AcceptedOtpV1,
  AcceptedTransactionalV1,
  AcceptedPromotionalV1,
  DispatchOtpV1,
  DispatchTransactionalV1,
  DispatchPromotionalV1,
  SubmittedV1,
  DispatchFailedOtpV1,
  DispatchFailedTransactionalV1,
  DispatchFailedPromotionalV1,
  DlrReceivedV1,
  StatusChangedV1,
  CarrierHealthV1,
  MoReceivedV1,
  ApiKeyChangedV1,
] as ReadonlyArray<EventContract<unknown>>;

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries: { name: string; value: string }[];
}

/** Every topic the gateway uses, with the partition counts the contracts declare (for provisioning). */
export function topicSpecs(): TopicSpec[] {
  const specs = allContracts.map((c) => ({
    topic: c.topic,
    numPartitions: c.partitions,
    configEntries: Object.entries(c.topicConfig ?? {}).map(([name, value]) => ({ name, value })),
  }));
  specs.push({ topic: DEAD_LETTER_TOPIC, numPartitions: DEAD_LETTER_PARTITIONS, configEntries: [] });
  return specs;
}
