/**
 * How `npm test` runs each tier with `node --test`. Unit files run in parallel (node's default: one fewer
 * than the cores). Integration and e2e files run one at a time on every machine: they share one broker and
 * one database server, several read shared topics from their end or count what a group consumed there, and
 * some measure latency or rates. node's default would run them in parallel on a machine with more than two
 * cores, so a developer's laptop would see interference that CI (two cores: one file at a time) never does.
 */
export type TestTier = 'unit' | 'integration' | 'e2e';

export const tierTimeoutMs: Record<TestTier, number> = { unit: 60_000, integration: 300_000, e2e: 600_000 };

export function testRunnerArgs(tier: TestTier, files: readonly string[], tapFile: string): string[] {
  return [
    '--test',
    ...(tier === 'unit' ? [] : ['--test-concurrency=1']),
    `--test-timeout=${tierTimeoutMs[tier]}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
}
