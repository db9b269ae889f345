import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createKafka, ensureTopics, EventPublisher, silentLogger, type Kafka } from '@sms/kafka';
import type { EventContract, EventEnvelope } from '@sms/contracts';
import { validateEnvelope } from '@sms/contracts';

/**
 * Helpers for integration tests on the real stack. Tests read KAFKA_BROKERS and DATABASE_URL (the test
 * runner starts Kafka and PostgreSQL and exports them). Each test gets its own database and its own
 * consumer-group prefix so suites never see each other's state.
 */
export function requireEnv(name: 'KAFKA_BROKERS' | 'DATABASE_URL'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: integration tests need the real stack. Run them through \`npm test\`, ` +
        'or start it with `node deploy/local/dist/cli.js up` and export the variables it prints.',
    );
  }
  return value;
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** Creates an empty database on the test server and returns its URL; `drop()` removes it. */
export async function createTestDatabase(prefix = 'test'): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(requireEnv('DATABASE_URL'));
  const name = `${prefix}_${uniqueSuffix()}`.replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export function testKafka(clientId = 'test'): Kafka {
  return createKafka({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId, logger: silentLogger });
}

export async function ensureTestTopics(kafka: Kafka): Promise<void> {
  await ensureTopics(kafka);
}

export async function connectedPublisher(kafka: Kafka): Promise<EventPublisher> {
  const publisher = new EventPublisher(kafka);
  await publisher.connect();
  return publisher;
}

/**
 * Commits a consumer group's offsets at the topics' current ends, so the group (before it first joins) starts
 * there. Concrete offsets: resetOffsets({ earliest: false }) commits the -1 sentinel, which a joining consumer
 * reads as "no offset" and so starts wherever its fromBeginning says.
 */
export async function commitGroupAtTopicEnds(kafka: Kafka, groupId: string, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Collects events of a topic (from the latest offset when started) so a test can wait for what a service
 * published. Invalid records are collected under `invalid`.
 */
export class TopicProbe<P> {
  readonly events: EventEnvelope<P>[] = [];
  /** Every record as read; `timestamp` is the record's own (ms since the epoch: when it was produced). */
  readonly raw: { key: string | null; value: string; headers: Record<string, string>; timestamp: number }[] = [];
  private readonly consumer;

  /** Several contracts of one payload (e.g. the accepted topic of every lane) are read as one stream. */
  readonly groupId = `probe-${uniqueSuffix()}`;

  constructor(
    private readonly kafka: Kafka,
    private readonly contractOrTopic: EventContract<P> | readonly EventContract<P>[] | string,
  ) {
    this.consumer = kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 100 });
  }

  get topic(): string {
    return this.topics.join(', ');
  }

  private get topics(): string[] {
    const c = this.contractOrTopic;
    return typeof c === 'string' ? [c] : Array.isArray(c) ? c.map((x: EventContract<P>) => x.topic) : [(c as EventContract<P>).topic];
  }

  private contractOf(topic: string): EventContract<P> | undefined {
    const c = this.contractOrTopic;
    if (typeof c === 'string') return undefined;
    return Array.isArray(c) ? c.find((x: EventContract<P>) => x.topic === topic) : (c as EventContract<P>);
  }

  /**
   * From the topic's end as of this call (or its beginning). The end is committed for the probe's new group
   * before it joins: left to kafkajs, "latest" is resolved at the group's first fetch, which on a loaded
   * machine can come after the event the test publishes next, and that event was then never seen.
   */
  async start(fromBeginning = false): Promise<this> {
    if (!fromBeginning) await commitGroupAtTopicEnds(this.kafka, this.groupId, this.topics);
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning });
    let assigned = false;
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (assigned = true));
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = message.value?.toString('utf8') ?? '';
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
        this.raw.push({ key: message.key?.toString() ?? null, value, headers, timestamp: Number(message.timestamp) });
        const contract = this.contractOf(topic);
        if (contract) {
          try {
            const result = validateEnvelope(contract, JSON.parse(value));
            if (result.ok) this.events.push(result.envelope);
          } catch {
            // not JSON: only in raw
          }
        }
      },
    });
    // Not needed for correctness any more (the offsets are committed), but a test's own timeouts then start
    // once the probe reads.
    const deadline = Date.now() + 15000;
    while (!assigned && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this;
  }

  async waitFor(predicate: (e: EventEnvelope<P>) => boolean, timeoutMs = 15000, what = 'event'): Promise<EventEnvelope<P>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} on ${this.topic}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async waitForRaw(
    predicate: (r: { key: string | null; value: string; headers: Record<string, string> }) => boolean,
    timeoutMs = 15000,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.raw.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting on ${this.topic}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Polls until `check` returns a value, or fails with `what`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * For unit tests: an EventPublisher stand-in that records what is published and, like the real one without
 * `prevalidated`, parses every payload against its contract, throwing on the first it refuses. A caller that
 * marks drafts prevalidated (or drops what an event cannot carry) can prove here that its drafts are valid.
 */
export function contractCheckingPublisher(): { publisher: EventPublisher; published: { topic: string; payload: unknown }[]; calls: () => number } {
  const published: { topic: string; payload: unknown }[] = [];
  let calls = 0;
  const publishMany = async (requests: { contract: EventContract<unknown>; drafts: { payload: unknown }[] }[]) => {
    calls++;
    for (const { contract, drafts } of requests) contract.payload.array().parse(drafts.map((d) => d.payload));
    for (const { contract, drafts } of requests) for (const d of drafts) published.push({ topic: contract.topic, payload: d.payload });
    return requests.map(() => []);
  };
  return { publisher: { publishMany } as unknown as EventPublisher, published, calls: () => calls };
}
