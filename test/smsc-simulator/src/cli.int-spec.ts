import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import smpp from 'smpp';
import { TestEsme, withTimeout } from './test-client.js';

const CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

interface LogLine {
  event: string;
  [key: string]: unknown;
}

class CliProcess {
  readonly lines: LogLine[] = [];
  stdout = '';
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.stdout += chunk;
      const complete = this.stdout.split('\n');
      this.stdout = complete.pop() ?? '';
      for (const line of complete) if (line.trim() !== '') this.lines.push(JSON.parse(line) as LogLine);
      for (const waiter of this.waiters) waiter();
    });
  }

  waitForEvent(event: string, ms = 3000): Promise<LogLine> {
    return withTimeout(
      new Promise<LogLine>((resolve) => {
        const check = (): void => {
          const found = this.lines.find((l) => l.event === event);
          if (found !== undefined) {
            this.waiters.delete(check);
            resolve(found);
          }
        };
        this.waiters.add(check);
        check();
      }),
      ms,
      `log event ${event}`,
    );
  }
}

function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
  return new CliProcess(child);
}

void describe('cli', () => {
  void it(
    'starts from flags, logs binds without message content, stops cleanly on SIGTERM',
    { timeout: 8000 },
    async () => {
      const cli = startCli([
        '--port',
        '0',
        '--http-port',
        '0',
        '--system-id',
        'gw',
        '--password',
        'pw',
        '--receipt-delay-ms',
        '10',
      ]);
      try {
        const listening = await cli.waitForEvent('listening');
        const port = listening.port as number;
        const httpPort = listening.httpPort as number;
        assert.ok(port > 0 && httpPort > 0);

        const esme = await TestEsme.bound(port, 'transceiver', { systemId: 'gw', password: 'pw' });
        const resp = await esme.submit({
          destination_addr: '447700900001',
          short_message: Buffer.from('secret body'),
          registered_delivery: 1,
        });
        assert.equal(resp.command_status, smpp.ESME_ROK);
        await esme.deliveries(1);
        const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as {
          binds: number;
        };
        assert.equal(health.binds, 1);
        await esme.request('unbind');
        await cli.waitForEvent('unbind');

        const bind = cli.lines.find((l) => l.event === 'bind');
        assert.equal(bind?.systemId, 'gw');
        assert.equal(bind?.bindType, 'transceiver');
        const everything = cli.lines.map((l) => JSON.stringify(l)).join('\n');
        assert.ok(!everything.includes('secret body') && !everything.includes('447700900001'), everything);

        cli.child.kill('SIGTERM');
        // 'close', not 'exit': only then has all of its stdout been read (the shutdown line is the last).
        const [code] = (await withTimeout(once(cli.child, 'close'), 3000, 'close')) as [number | null];
        assert.equal(code, 0);
        await cli.waitForEvent('shutdown', 100);
      } finally {
        if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      }
    },
  );

  void it(
    'reads SMSC_SIM_* environment variables and rejects bad knob values',
    { timeout: 8000 },
    async () => {
      const cli = startCli([], {
        SMSC_SIM_PORT: '0',
        SMSC_SIM_SYSTEM_ID: 'envsys',
        SMSC_SIM_PASSWORD: 'envpw',
        SMSC_SIM_LATENCY_MS: '5',
      });
      try {
        const listening = await cli.waitForEvent('listening');
        const config = await cli.waitForEvent('config');
        assert.deepEqual(config.accounts, ['envsys']);
        assert.equal((config.knobs as { latencyMs: number }).latencyMs, 5);
        const esme = await TestEsme.bound(listening.port as number, 'transmitter', {
          systemId: 'envsys',
          password: 'envpw',
        });
        esme.destroy();
        cli.child.kill('SIGINT');
        const [code] = (await withTimeout(once(cli.child, 'exit'), 3000, 'exit')) as [number | null];
        assert.equal(code, 0);
      } finally {
        if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      }

      const bad = startCli(['--port', '0', '--drop-response-rate', '3']);
      let stderr = '';
      bad.child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await withTimeout(once(bad.child, 'exit'), 3000, 'exit')) as [number | null];
      assert.equal(code, 2);
      assert.match(stderr, /dropResponseRate must be between 0 and 1/);
    },
  );

  void it('runs an HTTP carrier beside the SMPP port when asked, with the knobs given', { timeout: 8000 }, async () => {
    const cli = startCli(['--port', '0', '--http-carrier-port', '0', '--http-carrier-token', 'tk-123', '--latency-ms', '1']);
    try {
      const started = await cli.waitForEvent('http-carrier');
      const submitUrl = started.submitUrl as string;
      const submit = (token: string) =>
        fetch(submitUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ to: '+447700900001', from: 'ACME', text: 'secret body' }),
        });
      assert.equal((await submit('wrong')).status, 401);
      const accepted = await submit('tk-123');
      assert.equal(accepted.status, 200);
      assert.match(((await accepted.json()) as { messageId: string }).messageId, /^[0-9A-F]+$/);
      const knobs = (await (await fetch(submitUrl.replace('/sms', '/knobs'))).json()) as { latencyMs: number };
      assert.equal(knobs.latencyMs, 1);
      assert.ok(!cli.lines.map((l) => JSON.stringify(l)).join('\n').includes('tk-123'), 'the token is never logged');
      cli.child.kill('SIGTERM');
      const [code] = (await withTimeout(once(cli.child, 'exit'), 3000, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  });
});
