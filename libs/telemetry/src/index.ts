export * from './tracing.js';
export * from './masking.js';
export * from './metrics.js';
