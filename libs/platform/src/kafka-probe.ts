/** The part of a kafkajs admin client the readiness probe uses. */
export interface ClusterAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  describeCluster(): Promise<{ brokers: unknown[] }>;
}

/**
 * Kafka readiness over one long-lived admin connection. Opening an admin client per probe (as before) cost a
 * TCP connect, an API-versions and a metadata round trip every few seconds per pod and left the broker's
 * connection log full of short-lived clients. A failed probe drops the client, so the next probe starts from
 * a clean connection instead of reusing a broken one; probes that overlap share one request.
 */
export class KafkaClusterProbe {
  private admin: ClusterAdmin | undefined;
  private connecting: Promise<ClusterAdmin> | undefined;
  private inFlight: Promise<string> | undefined;
  private closed = false;

  constructor(private readonly createAdmin: () => ClusterAdmin) {}

  /** Resolves to `brokers=<n>`; rejects when the cluster cannot be described. */
  check(): Promise<string> {
    if (this.closed) return Promise.reject(new Error('kafka probe closed (service stopping)'));
    this.inFlight ??= this.describe().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drop();
  }

  private async describe(): Promise<string> {
    const admin = await this.connected();
    try {
      const cluster = await admin.describeCluster();
      return `brokers=${cluster.brokers.length}`;
    } catch (error) {
      await this.drop();
      throw error;
    }
  }

  private connected(): Promise<ClusterAdmin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.createAdmin();
      try {
        await admin.connect();
      } catch (error) {
        await admin.disconnect().catch(() => undefined);
        throw error;
      } finally {
        this.connecting = undefined;
      }
      if (this.closed) {
        await admin.disconnect().catch(() => undefined);
        throw new Error('kafka probe closed (service stopping)');
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  private async drop(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}
