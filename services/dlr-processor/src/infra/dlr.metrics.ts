import { Counter, Gauge, Histogram, latencyBuckets, type Registry } from '@sms/telemetry';

/** The dlr-processor's Prometheus metrics, registered on the service's registry (served at /metrics). */
export class DlrMetrics {
  /** Every receipt, by what became of it (applied, duplicate, late, held, unparseable, ...). */
  readonly receipts: Counter<'outcome'>;
  /** Status events published, by status: the DLR success rate is delivered / final. */
  readonly statusChanges: Counter<'status'>;
  readonly receiptsParked: Counter;
  readonly acceptToFinal: Histogram<'status' | 'traffic_class'>;

  constructor(registry: Registry, pendingCounts: () => Promise<{ held: number; parked: number }>) {
    this.receipts = new Counter({
      name: 'dlr_receipts_total',
      help: 'Delivery receipts consumed, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.statusChanges = new Counter({
      name: 'dlr_status_changes_total',
      help: 'Status events published, by status',
      labelNames: ['status'],
      registers: [registry],
    });
    this.receiptsParked = new Counter({
      name: 'dlr_pending_receipts_parked_total',
      help: 'Receipts whose message stayed unknown past the TTL (kept, flagged for an operator)',
      registers: [registry],
    });
    this.acceptToFinal = new Histogram({
      name: 'sms_accept_to_final_seconds',
      help: 'Time from acceptance to the final delivery status',
      labelNames: ['status', 'traffic_class'],
      buckets: [...latencyBuckets, 900, 3600, 6 * 3600, 24 * 3600],
      registers: [registry],
    });
    new Gauge({
      name: 'dlr_pending_receipts',
      help: 'Receipts waiting for their submitted event (held) or past the TTL (parked)',
      labelNames: ['state'],
      registers: [registry],
      // Read at scrape time so replicas report the shared table, not their own counters.
      async collect() {
        try {
          const counts = await pendingCounts();
          this.set({ state: 'held' }, counts.held);
          this.set({ state: 'parked' }, counts.parked);
        } catch {
          // Database unreachable: keep the last value; readiness reports the outage.
        }
      },
    });
  }
}
