import { loadIngestConfig } from './config/ingest.config.js';
import { startIngest } from './service.js';

await startIngest(loadIngestConfig());
