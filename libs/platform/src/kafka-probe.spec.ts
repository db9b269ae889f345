import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaClusterProbe, type ClusterAdmin } from './kafka-probe.js';

/** A fake admin that counts calls; `failNext` makes the next describeCluster reject. */
class FakeAdmin implements ClusterAdmin {
  connects = 0;
  disconnects = 0;
  describes = 0;
  failNext = false;
  release: (() => void) | undefined;
  holdDescribe = false;

  async connect(): Promise<void> {
    this.connects++;
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
  }
  async describeCluster(): Promise<{ brokers: unknown[] }> {
    this.describes++;
    if (this.holdDescribe) await new Promise<void>((resolve) => (this.release = resolve));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker gone');
    }
    return { brokers: [{}, {}] };
  }
}

function probeWith(): { probe: KafkaClusterProbe; admins: FakeAdmin[] } {
  const admins: FakeAdmin[] = [];
  const probe = new KafkaClusterProbe(() => {
    const admin = new FakeAdmin();
    admins.push(admin);
    return admin;
  });
  return { probe, admins };
}

test('probes reuse one admin connection', async () => {
  const { probe, admins } = probeWith();
  assert.equal(await probe.check(), 'brokers=2');
  assert.equal(await probe.check(), 'brokers=2');
  assert.equal(await probe.check(), 'brokers=2');
  assert.equal(admins.length, 1);
  assert.equal(admins[0]!.connects, 1);
  assert.equal(admins[0]!.describes, 3);
  assert.equal(admins[0]!.disconnects, 0);
});

test('a failed probe drops the client and the next probe connects afresh', async () => {
  const { probe, admins } = probeWith();
  await probe.check();
  admins[0]!.failNext = true;
  await assert.rejects(probe.check(), /broker gone/);
  assert.equal(admins[0]!.disconnects, 1);
  assert.equal(await probe.check(), 'brokers=2');
  assert.equal(admins.length, 2);
  assert.equal(admins[1]!.connects, 1);
});

test('overlapping probes share one request', async () => {
  const { probe, admins } = probeWith();
  await probe.check();
  admins[0]!.holdDescribe = true;
  const first = probe.check();
  const second = probe.check();
  await new Promise((resolve) => setImmediate(resolve));
  admins[0]!.release!();
  assert.deepEqual(await Promise.all([first, second]), ['brokers=2', 'brokers=2']);
  assert.equal(admins[0]!.describes, 2);
});

test('close disconnects and later probes fail instead of reconnecting', async () => {
  const { probe, admins } = probeWith();
  await probe.check();
  await probe.close();
  assert.equal(admins[0]!.disconnects, 1);
  await assert.rejects(probe.check(), /closed/);
  assert.equal(admins.length, 1);
});
