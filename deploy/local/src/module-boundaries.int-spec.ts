import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './gateway/services.js';

/**
 * The Nx module boundaries are real constraints, not decoration: this writes files that break them and
 * checks that lint refuses each one (and accepts a legal import).
 */
const probes = [
  { file: 'services/ingest/src/__boundary_probe__.ts', code: "import { RoutedMessagesRepository } from '@sms/router';\nexport const probe = RoutedMessagesRepository;\n", expect: /type:service.*can only depend on/ },
  { file: 'libs/contracts/src/__boundary_probe__.ts', code: "import { Injectable } from '@nestjs/common';\nexport const probe = Injectable;\n", expect: /type:contracts.*not allowed to import "@nestjs\/common"/ },
  { file: 'services/notifier/src/__boundary_probe__.ts', code: "import { SmppClientSession } from '@sms/smpp';\nexport const probe = SmppClientSession;\n", expect: /scope:carrier-only/ },
  { file: 'libs/kafka/src/__boundary_probe__.ts', code: "import { RoutedMessagesRepository } from '@sms/router';\nexport const probe = RoutedMessagesRepository;\n", expect: /type:lib.*can only depend on/ },
];

test('lint refuses a service importing a service, a framework in contracts, and libs/smpp outside carrier-dispatch', () => {
  const legal = { file: 'services/router/src/__boundary_probe__.ts', code: "import { AcceptedOtpV1 } from '@sms/contracts';\nexport const probe = AcceptedOtpV1;\n" };
  try {
    for (const p of [...probes, legal]) writeFileSync(join(repoRoot, p.file), p.code);
    // The rule reads the Nx project graph; compute it so the rule cannot silently skip.
    execFileSync('npx', ['nx', 'show', 'projects'], { cwd: repoRoot, stdio: 'ignore' });
    let output = '[]';
    try {
      output = execFileSync('npx', ['eslint', '--no-cache', '--format', 'json', ...[...probes, legal].map((p) => p.file)], {
        cwd: repoRoot,
        encoding: 'utf8',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? '[]');
    }
    const results = JSON.parse(output) as { filePath: string; messages: { ruleId: string | null; message: string }[] }[];
    const boundaryErrors = (file: string) =>
      results
        .filter((r) => r.filePath.endsWith(file))
        .flatMap((r) => r.messages)
        .filter((m) => m.ruleId === '@nx/enforce-module-boundaries')
        .map((m) => m.message);
    for (const p of probes) {
      const messages = boundaryErrors(p.file);
      assert.ok(messages.some((m) => p.expect.test(m)), `expected a boundary error in ${p.file}, got: ${JSON.stringify(messages)}`);
    }
    assert.deepEqual(boundaryErrors(legal.file), [], 'a legal import was refused');
  } finally {
    for (const p of [...probes, legal]) rmSync(join(repoRoot, p.file), { force: true });
  }
});
