import { loadDlrProcessorConfig } from './config/dlr-processor.config.js';
import { startDlrProcessor } from './service.js';

await startDlrProcessor(loadDlrProcessorConfig());
