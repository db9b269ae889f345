import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs (pino). Bodies are never logged and phone numbers are redacted wherever they appear under
 * the field names we use for them, so a careless log call cannot leak them.
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['to', 'from', 'body', '*.to', '*.from', '*.body', '*.*.to', '*.*.body', 'destinationAddr', '*.destinationAddr', 'authorization', '*.authorization', 'apiKey'],
      censor: '[redacted]',
    },
  });
}
