import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ProcessSampler, processTree, readProc } from './procstat.js';

test('reads CPU time and RSS of a process and finds its children', async () => {
  const own = readProc(process.pid)!;
  assert.ok(own.rssBytes > 10 * 2 ** 20 && own.cpuSeconds > 0);
  assert.equal(readProc(2 ** 22 + 12345), undefined, 'a pid that does not exist');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(processTree(process.pid).includes(child.pid!));
    const sampler = new ProcessSampler([{ name: 'self', pid: process.pid, tree: true }]);
    sampler.start(50);
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random()); // burn some CPU to measure
    const [report] = sampler.stop();
    assert.equal(report!.name, 'self');
    assert.ok(report!.cpuAvgPercent > 10, `cpu ${report!.cpuAvgPercent}`);
    assert.ok(report!.rssPeakMb > 10);
  } finally {
    child.kill();
  }
});
