import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventContract } from '@sms/contracts';
import { createServiceRuntime, runNestService, type ServiceRuntime } from '@sms/platform';
import { DlrProcessorModule } from './app.module.js';
import { ORIGINAL_CONTENT_TYPE_HEADER, RAW_RECEIPT_CONTENT_TYPE } from './http/carrier-receipts.controller.js';
import { dlrProcessorContracts } from './application/delivery-tracker.service.js';
import type { DlrProcessorConfig } from './config/dlr-processor.config.js';
import { DlrProcessorInit1764100000000 } from './infra/migrations/1764100000000-dlr-processor-init.js';

export interface RunningDlrProcessor {
  app: NestFastifyApplication;
  runtime: ServiceRuntime;
  /** Stops consumers and the sweeper, then the producer and the database pool. */
  close(): Promise<void>;
}

/** Starts the service; main.ts runs it as a process, the integration test in-process. */
export async function startDlrProcessor(config: DlrProcessorConfig): Promise<RunningDlrProcessor> {
  const runtime = await createServiceRuntime('dlr-processor', config, {
    schema: 'dlr_processor',
    migrations: [DlrProcessorInit1764100000000],
  });
  const app = await runNestService(
    runtime,
    DlrProcessorModule.register(runtime, config),
    { port: config.HTTP_PORT, host: config.HTTP_HOST },
    [
      {
        groupId: `${config.KAFKA_GROUP_PREFIX}.dlr-processor`,
        contracts: dlrProcessorContracts as EventContract<unknown>[],
        maxBatchSize: config.DLR_CONSUMER_BATCH_SIZE,
        concurrency: config.DLR_CONSUMER_CONCURRENCY,
      },
    ],
    async () => undefined,
    (fastify) => {
      // Carrier receipts are signed over their exact bytes, so their bodies are not parsed by fastify: the
      // content type is set aside (the controller checks it) and the body arrives as a Buffer. Nest
      // re-registers the JSON parser at init, so a catch-all parser alone would not be reached for JSON.
      fastify.addContentTypeParser(RAW_RECEIPT_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
      fastify.addHook('onRequest', (request, _reply, done) => {
        if (request.method === 'POST' && request.url.startsWith('/v1/carriers/')) {
          request.headers[ORIGINAL_CONTENT_TYPE_HEADER] = request.headers['content-type'] ?? '';
          request.headers['content-type'] = RAW_RECEIPT_CONTENT_TYPE;
        }
        done();
      });
    },
  );
  return {
    app,
    runtime,
    close: async () => {
      await app.close();
      await runtime.kafkaProbe.close();
      await runtime.publisher.disconnect();
      await runtime.dataSource.destroy();
    },
  };
}
