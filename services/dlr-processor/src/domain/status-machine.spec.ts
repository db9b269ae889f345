import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ReceiptStatus } from './receipt-parser.js';
import {
  applyReceipt,
  decide,
  newMessageState,
  partCounts,
  type ApplyResult,
  type FinalDeliveryStatus,
  type MessageState,
  type Receipt,
} from './status-machine.js';

const r = (partIndex: number, status: ReceiptStatus, stat?: string, err?: string): Receipt => ({
  partIndex,
  status,
  stat,
  err,
});

function run(state: MessageState, receipts: Receipt[]): { state: MessageState; results: ApplyResult[] } {
  const results: ApplyResult[] = [];
  for (const receipt of receipts) {
    const result = applyReceipt(state, receipt);
    results.push(result);
    state = result.state;
  }
  return { state, results };
}

void describe('status machine: single part', () => {
  void test('delivered receipt makes the message delivered', () => {
    const result = applyReceipt(newMessageState([0]), r(0, 'delivered', 'DELIVRD', '000'));
    assert.equal(result.outcome, 'applied');
    assert.deepEqual(result.decision, { status: 'delivered', representativePart: 0 });
    assert.equal(result.state.status, 'delivered');
    assert.deepEqual(result.state.parts[0], { index: 0, status: 'delivered', stat: 'DELIVRD', err: '000' });
  });

  for (const status of ['undelivered', 'expired', 'rejected'] as const) {
    void test(`${status} receipt makes the message ${status}`, () => {
      const result = applyReceipt(newMessageState([0]), r(0, status));
      assert.equal(result.decision?.status, status);
    });
  }

  void test('progress receipts apply to the part but leave the message submitted', () => {
    const { state, results } = run(newMessageState([0]), [r(0, 'accepted')]);
    assert.equal(results[0]!.outcome, 'applied');
    assert.equal(results[0]!.decision, undefined);
    assert.equal(state.status, 'submitted');
    assert.equal(state.parts[0]!.status, 'accepted');
  });

  void test('duplicate final receipt is recorded as duplicate, not applied', () => {
    const { results } = run(newMessageState([0]), [r(0, 'delivered'), r(0, 'delivered')]);
    assert.deepEqual(
      results.map((x) => [x.outcome, x.applied]),
      [
        ['applied', true],
        ['late', false],
      ],
    );
  });

  void test('a final status never changes', () => {
    const { state, results } = run(newMessageState([0]), [
      r(0, 'undelivered'),
      r(0, 'delivered'),
      r(0, 'enroute'),
    ]);
    assert.equal(state.status, 'undelivered');
    assert.deepEqual(
      results.map((x) => x.outcome),
      ['applied', 'late', 'late'],
    );
  });

  void test('progress after nothing final, then same-rank progress is out of order', () => {
    const { results } = run(newMessageState([0]), [r(0, 'enroute'), r(0, 'accepted'), r(0, 'enroute')]);
    assert.deepEqual(
      results.map((x) => x.outcome),
      ['applied', 'out_of_order', 'duplicate'],
    );
  });

  void test('receipt for a part the submit did not record', () => {
    const result = applyReceipt(newMessageState([0]), r(3, 'delivered'));
    assert.deepEqual([result.outcome, result.applied], ['unknown_part', false]);
  });
});

void describe('status machine: multipart', () => {
  void test('delivered only when every part is delivered', () => {
    const first = applyReceipt(newMessageState([0, 1]), r(0, 'delivered'));
    assert.equal(first.decision, undefined);
    assert.equal(first.state.status, 'submitted');
    const second = applyReceipt(first.state, r(1, 'delivered'));
    assert.equal(second.decision?.status, 'delivered');
    assert.deepEqual(partCounts(second.state.parts), { total: 2, delivered: 2, failed: 0 });
  });

  void test('an undelivered part ends the message at once', () => {
    const result = applyReceipt(newMessageState([0, 1, 2]), r(1, 'undelivered', 'UNDELIV', '001'));
    assert.deepEqual(result.decision, { status: 'undelivered', representativePart: 1 });
    assert.deepEqual(partCounts(result.state.parts), { total: 3, delivered: 0, failed: 1 });
  });

  void test('an expired part waits for the others, then the message is expired', () => {
    const { state, results } = run(newMessageState([0, 1]), [r(0, 'expired'), r(1, 'expired')]);
    assert.equal(results[0]!.decision, undefined);
    assert.equal(state.status, 'expired');
    assert.deepEqual(partCounts(state.parts), { total: 2, delivered: 0, failed: 2 });
  });

  void test('rejected and delivered parts: rejected', () => {
    const { state } = run(newMessageState([0, 1]), [r(0, 'delivered'), r(1, 'rejected')]);
    assert.equal(state.status, 'rejected');
    assert.equal(decide(state.parts)?.representativePart, 1);
  });

  void test('mixed failures: undelivered as soon as they are mixed', () => {
    const { state, results } = run(newMessageState([0, 1, 2]), [r(0, 'expired'), r(1, 'rejected')]);
    assert.equal(results[1]!.decision?.status, 'undelivered');
    assert.equal(state.status, 'undelivered');
  });

  void test('receipts after the message is final are late', () => {
    const { state, results } = run(newMessageState([0, 1]), [r(0, 'undelivered'), r(1, 'delivered')]);
    assert.equal(results[1]!.outcome, 'late');
    assert.equal(state.parts[1]!.status, 'pending');
  });

  void test('part counts can use the declared total', () => {
    assert.deepEqual(partCounts(newMessageState([0]).parts, 3), { total: 3, delivered: 0, failed: 0 });
  });
});

/**
 * The carrier sends, per part, at most one final receipt and any number of progress receipts; the network
 * duplicates and reorders them. Whatever the order, the message must end in the same state.
 */
void describe('status machine: order and duplication do not matter', () => {
  const finalArb = fc.constantFrom<ReceiptStatus>('delivered', 'undelivered', 'expired', 'rejected');
  const progressArb = fc.constantFrom<ReceiptStatus>('enroute', 'accepted');
  const scenarioArb = fc
    .integer({ min: 1, max: 4 })
    .chain((totalParts) =>
      fc.record({
        totalParts: fc.constant(totalParts),
        finals: fc.array(fc.option(finalArb, { nil: undefined, freq: 4 }), {
          minLength: totalParts,
          maxLength: totalParts,
        }),
        progress: fc.array(fc.tuple(fc.nat(totalParts - 1), progressArb), { maxLength: 4 }),
        duplicates: fc.array(fc.nat(), { maxLength: 4 }),
      }),
    )
    .map(({ totalParts, finals, progress, duplicates }) => {
      const receipts: Receipt[] = [
        ...finals.flatMap((status, partIndex) => (status ? [r(partIndex, status)] : [])),
        ...progress.map(([partIndex, status]) => r(partIndex, status)),
      ];
      const withDuplicates =
        receipts.length === 0
          ? receipts
          : [...receipts, ...duplicates.map((i) => receipts[i % receipts.length]!)];
      return { totalParts, finals, receipts: withDuplicates };
    });

  const expectedStatus = (finals: (ReceiptStatus | undefined)[]): FinalDeliveryStatus | 'submitted' => {
    const failed = finals.filter((s) => s !== undefined && s !== 'delivered');
    const kinds = new Set(failed);
    if (kinds.has('undelivered') || kinds.size > 1) return 'undelivered';
    if (finals.some((s) => s === undefined)) return 'submitted';
    if (failed.length === 0) return 'delivered';
    return failed[0] as FinalDeliveryStatus;
  };

  void test('any permutation (with duplicates) reaches the same final status', () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray(s.receipts, { minLength: s.receipts.length, maxLength: s.receipts.length }),
          ),
        ),
        ([scenario, shuffled]) => {
          const indexes = Array.from({ length: scenario.totalParts }, (_, i) => i);
          const inOrder = run(newMessageState(indexes), scenario.receipts);
          const reordered = run(newMessageState(indexes), shuffled);
          assert.equal(reordered.state.status, inOrder.state.status);
          assert.equal(reordered.state.status, expectedStatus(scenario.finals));
          // Exactly one decision at most, and every receipt has an outcome.
          assert.ok(reordered.results.filter((x) => x.decision).length <= 1);
          assert.equal(reordered.results.length, shuffled.length);
        },
      ),
      { numRuns: 1000 },
    );
  });

  void test('the status only moves forward and a final status never changes', () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray(s.receipts, { minLength: s.receipts.length, maxLength: s.receipts.length }),
          ),
        ),
        ([scenario, shuffled]) => {
          let state = newMessageState(Array.from({ length: scenario.totalParts }, (_, i) => i));
          let finalSeen: string | undefined;
          for (const receipt of shuffled) {
            const result = applyReceipt(state, receipt);
            if (finalSeen) {
              assert.equal(result.state.status, finalSeen);
              assert.equal(result.applied, false);
              assert.equal(result.outcome, 'late');
            }
            if (result.state.status !== 'submitted') finalSeen = result.state.status;
            if (!result.applied) assert.equal(result.state, state, 'a receipt not applied changes nothing');
            state = result.state;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
