import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { KafkaCoreLogger } from './logger.js';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: KafkaCoreLogger;
}

/**
 * Errors a broker answers during ordinary group membership: every member's heartbeat, commit or fetch
 * gets REBALANCE_IN_PROGRESS while its group rebalances (a replica or routing thread joining or
 * leaving, every deploy), and kafkajs rejoins on its own. kafkajs logs the response at ERROR; an SRE
 * would be paged for a rolling deploy, so it is logged at INFO (kafkajs's own "re-joining" line stays WARN).
 */
// kafkajs's message for REBALANCE_IN_PROGRESS (protocol/error.js), which its connection logs as `error`.
const ROUTINE_RESPONSE_ERRORS = new Set(['The group is rebalancing, so a rejoin is needed']);

export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The level a kafkajs log entry is written at (see ROUTINE_RESPONSE_ERRORS). */
export function kafkaLogLevelOf(level: logLevel, log: object): KafkaLogLevel {
  if (level === logLevel.ERROR) {
    const error = 'error' in log ? log.error : undefined;
    return typeof error === 'string' && ROUTINE_RESPONSE_ERRORS.has(error) ? 'info' : 'error';
  }
  return level === logLevel.WARN ? 'warn' : 'debug';
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
        options.logger[kafkaLogLevelOf(level, log)]({ component: 'kafkajs', ...rest }, message);
      },
  });
}
