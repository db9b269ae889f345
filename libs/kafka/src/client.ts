import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { KafkaCoreLogger } from './logger.js';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: KafkaCoreLogger;
}

/** A kafkajs client whose own log lines go through our structured logger. */
export function createKafka(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        const entry = { component: 'kafkajs', ...rest };
        if (level === logLevel.ERROR) options.logger.error(entry, message);
        else if (level === logLevel.WARN) options.logger.warn(entry, message);
        else options.logger.debug(entry, message);
      },
  });
}
