export * from './kafka-batch.server.js';
export type { ConsumedEvent } from '@sms/kafka';
