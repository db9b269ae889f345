/**
 * Thrown by a handler when an event can never be processed (bad data the schema could not catch, a
 * reference to something that does not exist). The consumer dead-letters the named events at once
 * instead of retrying them.
 */
export class PermanentEventError extends Error {
  constructor(
    message: string,
    readonly eventIds: readonly string[],
  ) {
    super(message);
    this.name = 'PermanentEventError';
  }
}

/** Thrown by a producer when an event it was asked to publish breaks its own contract: a programming bug. */
export class EventContractViolation extends Error {
  constructor(
    readonly topic: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`event for ${topic} violates its contract: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'EventContractViolation';
  }
}

const transientCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', '08006', '08001', '08003', '53300']);

/**
 * Infrastructure failures (database down, broker unreachable) affect every event alike: dead-lettering
 * would empty the topic into the DLQ during an outage. Those are retried until the infrastructure is back.
 */
export function isInfrastructureError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && transientCodes.has(code)) return true;
  const name = error.name;
  if (name.startsWith('KafkaJS')) return true;
  if (/Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(error.message))
    return true;
  return false;
}
