export * from './logger.js';
export * from './client.js';
export * from './errors.js';
export * from './publisher.js';
export * from './consumer.js';
export * from './admin.js';
export type { Kafka } from 'kafkajs';
