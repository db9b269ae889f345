import type { TrafficClass } from '@sms/contracts';
import type { Kafka } from '@sms/kafka';
import type { Logger } from '@sms/platform';

/**
 * Watches the lane consumer groups and reports the share of each lane's partitions this replica holds.
 * The group's members all run the same assignor over the same partitions, so each member's share is
 * approximated as partitions / members (the exact per-member split needs the consumer's GROUP_JOIN
 * event, which libs/kafka does not expose yet). Shares over all members add up to the whole lane, which
 * is what keeps the carrier's mps across replicas.
 */
export class LaneOwnershipWatcher {
  private timer?: NodeJS.Timeout;
  private last = '';

  constructor(
    private readonly kafka: Kafka,
    private readonly groups: { lane: TrafficClass; groupId: string; partitions: number }[],
    private readonly logger: Logger,
    private readonly onChange: (owned: Partial<Record<TrafficClass, { owned: number; total: number }>>) => void,
    private readonly intervalMs = 10000,
  ) {}

  start(): void {
    const tick = () => {
      this.check()
        .catch((error: unknown) => this.logger.warn({ error: (error as Error).message }, 'consumer group check failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 1000);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups(this.groups.map((g) => g.groupId));
      const owned: Partial<Record<TrafficClass, { owned: number; total: number }>> = {};
      for (const spec of this.groups) {
        const members = groups.find((g) => g.groupId === spec.groupId)?.members.length ?? 0;
        // Before this replica joined (0 members) it counts as the only one.
        owned[spec.lane] = { owned: spec.partitions / Math.max(1, members), total: spec.partitions };
      }
      const signature = JSON.stringify(owned);
      if (signature !== this.last) {
        this.last = signature;
        this.onChange(owned);
      }
    } finally {
      await admin.disconnect();
    }
  }
}
