import { IngestInit1764000000000 } from './1764000000000-ingest-init.js';
import { IngestBatches1764200000000 } from './1764200000000-ingest-batches.js';
import { IngestBatchIdempotency1764400000000 } from './1764400000000-ingest-batch-idempotency.js';
import { IngestHotStatusUpdates1764500000000 } from './1764500000000-ingest-hot-status-updates.js';
import { IngestOutboxOtpLane1764600000000 } from './1764600000000-ingest-outbox-otp-lane.js';
import { IngestIdempotencyKeyExpiry1764700000000 } from './1764700000000-ingest-idempotency-key-expiry.js';
import { IngestMessageParts1764800000000 } from './1764800000000-ingest-message-parts.js';

export const ingestMigrations = [IngestInit1764000000000, IngestBatches1764200000000, IngestBatchIdempotency1764400000000, IngestHotStatusUpdates1764500000000, IngestOutboxOtpLane1764600000000, IngestIdempotencyKeyExpiry1764700000000, IngestMessageParts1764800000000];
