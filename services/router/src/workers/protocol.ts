import type { GatewayFile } from '@sms/config';
import type { CarrierHealthPayload } from '@sms/contracts';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { RouterConfig } from '../config/router.config.js';

/** What a routing thread starts from: the validated config, the route file the main thread accepted, and carrier health so far. */
export interface RoutingThreadData {
  index: number;
  config: RouterConfig;
  routes: { version: number; file: GatewayFile };
  health: CarrierHealthPayload[];
}

/** Main thread to routing thread. Messages of one port arrive in order, so a thread applies reloads in the order accepted. */
export type ToRoutingThread =
  | { type: 'routes'; version: number; file: GatewayFile }
  | { type: 'health'; state: CarrierHealthPayload }
  /** `metrics`: include the thread's metrics (a scrape); a readiness probe leaves them out. */
  | { type: 'status'; id: number; metrics: boolean }
  | { type: 'stop' };

export interface RoutingThreadStatus {
  /** Every lane consumer of the thread is running. */
  consuming: boolean;
  /** Version of the route file the thread routes by. */
  routesVersion: number;
  /** Empty unless asked for. */
  metrics: MetricObjectWithValues<MetricValue<string>>[];
}

/** Routing thread to main thread. */
export type FromRoutingThread =
  | { type: 'started' }
  | { type: 'status'; id: number; status: RoutingThreadStatus }
  | { type: 'stopped' };

export function isFromRoutingThread(value: unknown): value is FromRoutingThread {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'started' || type === 'status' || type === 'stopped';
}

export function isToRoutingThread(value: unknown): value is ToRoutingThread {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'routes' || type === 'health' || type === 'status' || type === 'stop';
}
