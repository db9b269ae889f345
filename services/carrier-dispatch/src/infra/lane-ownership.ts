import type { TrafficClass } from '@sms/contracts';

export type LaneShares = Partial<Record<TrafficClass, { owned: number; total: number }>>;

/**
 * The lane partitions this replica owns, from its lane consumers' assignments after each rebalance
 * (kafkajs GROUP_JOIN via the BatchConsumer's onAssignment hook). Each partition belongs to exactly one
 * member of a lane group, so the shares of all replicas add up to the whole lane, whatever the assignor
 * hands out (6 partitions over 4 members is 2/2/1/1, not 1.5 each): that is what keeps a carrier's mps
 * across replicas. A lane not joined yet counts as wholly owned (a single replica must not start at 0).
 */
export class LaneOwnership {
  private readonly owned = new Map<TrafficClass, number>();
  private last = '';

  constructor(
    private readonly lanes: { lane: TrafficClass; topic: string; partitions: number }[],
    private readonly onChange: (shares: LaneShares) => void,
  ) {}

  /** The hook for one lane's consumer group. */
  onAssignment(lane: TrafficClass, assignment: Readonly<Record<string, number[]>>): void {
    const spec = this.lanes.find((l) => l.lane === lane);
    if (!spec) return;
    this.owned.set(lane, new Set(assignment[spec.topic] ?? []).size);
    this.publish();
  }

  shares(): LaneShares {
    const shares: LaneShares = {};
    for (const { lane, partitions } of this.lanes) shares[lane] = { owned: this.owned.get(lane) ?? partitions, total: partitions };
    return shares;
  }

  private publish(): void {
    const shares = this.shares();
    const signature = JSON.stringify(shares);
    if (signature === this.last) return;
    this.last = signature;
    this.onChange(shares);
  }
}
