export * from './logger.js';
export * from './readiness.js';
export * from './ops.controller.js';
export * from './database.js';
export * from './shutdown.js';
export * from './service-runtime.js';
export * from './problem.js';
export * from './kafka-probe.js';
