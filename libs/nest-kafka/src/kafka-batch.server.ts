import { applyDecorators, Catch, UseFilters, type ArgumentsHost, type INestApplication, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import {
  BatchConsumer,
  type ConsumedEvent,
  type ConsumerHooks,
  type EventPublisher,
  type EventSubscription,
  type Kafka,
  type KafkaCoreLogger,
} from '@sms/kafka';
import type { EventContract } from '@sms/contracts';

/** Context handed to a batch handler as its second argument. */
export class KafkaBatchContext extends BaseRpcContext<[topic: string, groupId: string]> {
  get topic(): string {
    return this.args[0];
  }
  get groupId(): string {
    return this.args[1];
  }
}

export interface KafkaBatchServerOptions {
  kafka: Kafka;
  groupId: string;
  /** The contracts this consumer group reads; each must have exactly one `@EventPattern(contract.topic)`. */
  contracts: EventContract<unknown>[];
  publisher: EventPublisher;
  logger: KafkaCoreLogger;
  concurrency?: number;
  maxBatchSize?: number;
  /** Slices of a partition's batch handled at once, see BatchConsumerOptions. */
  slicesInFlight?: number;
  /** Fetch size limits, see BatchConsumerOptions. */
  maxBytesPerPartition?: number;
  maxBytes?: number;
  hooks?: ConsumerHooks;
  /**
   * When several batch servers share one app (e.g. one consumer group per lane), each owns only its
   * contracts' handlers; set false so handlers of the other groups are not reported as orphans.
   */
  ownsAllHandlers?: boolean;
}

/**
 * A Nest custom transport over kafkajs `eachBatch`. The stock `@nestjs/microservices` Kafka server calls a
 * handler per message per partition; here an `@EventPattern(topic)` handler receives an array of validated
 * `ConsumedEvent`s, so services can write PostgreSQL and produce to Kafka in batches.
 *
 * Checked at boot: a handler without a contract, or a contract without a handler, stops the service.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private consumer?: BatchConsumer;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const subscriptions = this.buildSubscriptions();
      this.consumer = new BatchConsumer(this.options.kafka, {
        groupId: this.options.groupId,
        subscriptions,
        publisher: this.options.publisher,
        logger: this.options.logger,
        concurrency: this.options.concurrency,
        maxBatchSize: this.options.maxBatchSize,
        slicesInFlight: this.options.slicesInFlight,
        maxBytesPerPartition: this.options.maxBytesPerPartition,
        maxBytes: this.options.maxBytes,
        hooks: this.options.hooks,
      });
      await this.consumer.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  isRunning(): boolean {
    return this.consumer?.isRunning() ?? false;
  }

  on(): void {
    // No client-library events are exposed through Nest.
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  private buildSubscriptions(): EventSubscription<unknown>[] {
    const contractTopics = new Set(this.options.contracts.map((c) => c.topic));
    const handlerTopics = [...this.getHandlers().keys()];
    const orphanHandlers =
      this.options.ownsAllHandlers === false ? [] : handlerTopics.filter((t) => !contractTopics.has(t));
    const unhandled = [...contractTopics].filter((t) => !this.getHandlerByPattern(t));
    if (orphanHandlers.length > 0 || unhandled.length > 0) {
      throw new Error(
        `consumer group ${this.options.groupId}: ` +
          (orphanHandlers.length ? `handlers without a contract: ${orphanHandlers.join(', ')}. ` : '') +
          (unhandled.length ? `contracts without a handler: ${unhandled.join(', ')}.` : ''),
      );
    }
    return this.options.contracts.map((contract) => ({
      contract,
      handle: async (batch: ConsumedEvent<unknown>[]) => {
        const handler = this.getHandlerByPattern(contract.topic)!;
        const result = await handler(batch, new KafkaBatchContext([contract.topic, this.options.groupId]));
        await lastValueFrom(this.transformToObservable(result) as Observable<unknown>, { defaultValue: undefined });
      },
    }));
  }
}

/**
 * Nest's default RPC filter turns every error into `{ status, message }`, which would hide whether a
 * failure is permanent (dead-letter) or infrastructure (retry). This filter rethrows the original error.
 */
@Catch()
export class RethrowRpcErrorsFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

/** Attaches a batch Kafka consumer to a Nest HTTP app (hybrid app: health/metrics over HTTP, events over Kafka). */
export function connectKafkaBatchServer(app: INestApplication, options: KafkaBatchServerOptions): KafkaBatchServer {
  const server = new KafkaBatchServer(options);
  // Handlers declared with OnEvents carry RethrowRpcErrorsFilter themselves.
  app.connectMicroservice({ strategy: server });
  return server;
}

/**
 * Marks a method as the batch handler of a contract's topic; the method receives
 * `ConsumedEvent<Payload>[]`, typed from the contract.
 */
export function OnEvents<P>(contract: EventContract<P>) {
  return applyDecorators(
    EventPattern<Record<string, ConsumedEvent<P>[]>>(contract.topic) as MethodDecorator,
    UseFilters(new RethrowRpcErrorsFilter()),
  );
}
