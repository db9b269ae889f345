// How many submit_sm/s the simulator sustains from one bind with a fixed window in flight.
//
//   node test/smsc-simulator/dist/bench.js [--window 50] [--duration-s 5] [--rate 0] [--receipts]
//                                          [--client raw|smpp] [--in-process]
//
// By default the simulator runs as a child process (dist/cli.js), as it does next to a gateway, and
// its CPU time is read from /proc so the report shows the headroom left. `--client raw` drives it with
// the simulator's own codec (cheap, so the simulator is what is measured); `--client smpp` uses the npm
// `smpp` client the gateway is built on. `--rate N` offers a fixed N msg/s instead of "as fast as the
// window allows". `--receipts` asks for a delivery receipt per message and acknowledges each one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import smpp from 'smpp';
import {
  CommandId,
  CommandStatus,
  encodeBind,
  encodePdu,
  encodeSubmitSm,
  PduFramer,
  type RawPdu,
} from './pdu.js';
import { startSimulator, type SmscSimulator } from './simulator.js';

const { values } = parseArgs({
  options: {
    window: { type: 'string', default: '50' },
    'duration-s': { type: 'string', default: '5' },
    rate: { type: 'string', default: '0' },
    receipts: { type: 'boolean', default: false },
    client: { type: 'string', default: 'raw' },
    'in-process': { type: 'boolean', default: false },
  },
});

const WINDOW = Number(values.window);
const DURATION_MS = Number(values['duration-s']) * 1000;
const RATE = Number(values.rate);
const RECEIPTS = values.receipts === true;
const CLIENT = values.client;
if (CLIENT !== 'raw' && CLIENT !== 'smpp') throw new Error('--client must be raw or smpp');

interface Target {
  port: number;
  cpuSeconds(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ

function procCpuSeconds(pid: number): number {
  // Fields 14 and 15 (utime, stime) after the ")" that ends the command name.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function procRssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] === undefined ? Number.NaN : Math.round(Number(match[1]) / 1024);
}

async function startTarget(): Promise<Target> {
  const receiptDelayMs = 200;
  if (values['in-process'] === true) {
    const sim: SmscSimulator = await startSimulator({
      credentials: [{ systemId: 'bench', password: 'bench' }],
      receiptDelayMs,
    });
    return {
      port: sim.port,
      cpuSeconds: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1e6;
      },
      rssMb: () => Math.round(process.memoryUsage().rss / 2 ** 20),
      stop: () => sim.stop(),
    };
  }
  const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      cli,
      '--port',
      '0',
      '--system-id',
      'bench',
      '--password',
      'bench',
      '--receipt-delay-ms',
      String(receiptDelayMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const match = /"event":"listening"[^\n]*"port":(\d+)/.exec(buffered);
      if (match?.[1] !== undefined) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${String(code)}`)));
  });
  const pid = child.pid ?? 0;
  return {
    port,
    cpuSeconds: () => procCpuSeconds(pid),
    rssMb: () => procRssMb(pid),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Result {
  sent: number;
  answered: number;
  errors: number;
  receipts: number;
  latenciesMs: number[];
  elapsedMs: number;
}

// Last four digits 1000-9999: load traffic must never end in a magic suffix (0001-0009).
const destination = (i: number): string => `44770090${1000 + (i % 9000)}`;
const shortMessage = (i: number): Buffer => Buffer.from(`benchmark message number ${i} with some text`);

/** Paces sends: as fast as the window allows, or RATE per second in 10 ms ticks. */
function pacer(onBudget: (budget: number) => void): () => void {
  if (RATE <= 0) {
    onBudget(Number.POSITIVE_INFINITY);
    return () => undefined;
  }
  const started = performance.now();
  let released = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    if (due > released) {
      onBudget(due - released);
      released = due;
    }
  }, 1000 / TICKS_PER_SECOND);
  return () => clearInterval(timer);
}

function runRaw(port: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const framer = new PduFramer();
    const sentAt = new Map<number, number>();
    const result: Result = { sent: 0, answered: 0, errors: 0, receipts: 0, latenciesMs: [], elapsedMs: 0 };
    let sequence = 1;
    let inFlight = 0;
    let budget = 0;
    let started = 0;
    let deadline = 0;
    let stopPacer = (): void => undefined;

    const pump = (): void => {
      socket.cork();
      while (inFlight < WINDOW && budget > 0 && performance.now() < deadline) {
        const seq = ++sequence;
        socket.write(
          encodeSubmitSm(seq, {
            serviceType: '',
            sourceAddrTon: 5,
            sourceAddrNpi: 0,
            sourceAddr: 'BENCH',
            destAddrTon: 1,
            destAddrNpi: 1,
            destinationAddr: destination(seq),
            esmClass: 0,
            protocolId: 0,
            priorityFlag: 0,
            scheduleDeliveryTime: '',
            validityPeriod: '',
            registeredDelivery: RECEIPTS ? 1 : 0,
            replaceIfPresentFlag: 0,
            dataCoding: 0,
            smDefaultMsgId: 0,
            shortMessage: shortMessage(seq),
          }),
        );
        sentAt.set(seq, performance.now());
        inFlight++;
        budget--;
        result.sent++;
      }
      socket.uncork();
      if (performance.now() >= deadline && inFlight === 0) finish();
    };

    const finish = (): void => {
      stopPacer();
      result.elapsedMs = performance.now() - started;
      socket.destroy();
      resolve(result);
    };

    const onPdu = (pdu: RawPdu): void => {
      if (pdu.commandId === CommandId.bind_transceiver_resp) {
        if (pdu.commandStatus !== CommandStatus.ESME_ROK) reject(new Error('bind failed'));
        started = performance.now();
        deadline = started + DURATION_MS;
        stopPacer = pacer((n) => {
          budget += n;
          pump();
        });
        // Also end a run whose window is idle at the deadline.
        setTimeout(pump, DURATION_MS + 5);
        return;
      }
      if (pdu.commandId === CommandId.submit_sm_resp) {
        inFlight--;
        result.answered++;
        if (pdu.commandStatus !== CommandStatus.ESME_ROK) result.errors++;
        const at = sentAt.get(pdu.sequenceNumber);
        if (at !== undefined) {
          result.latenciesMs.push(performance.now() - at);
          sentAt.delete(pdu.sequenceNumber);
        }
        return;
      }
      if (pdu.commandId === CommandId.deliver_sm) {
        result.receipts++;
        socket.write(
          encodePdu(CommandId.deliver_sm_resp, CommandStatus.ESME_ROK, pdu.sequenceNumber, Buffer.from([0])),
        );
      }
    };

    socket.on('data', (chunk: Buffer) => {
      for (const pdu of framer.push(chunk)) onPdu(pdu);
      if (started > 0) pump();
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(encodeBind(CommandId.bind_transceiver, 1, 'bench', 'bench')));
  });
}

function runSmppClient(port: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: '127.0.0.1', port });
    const result: Result = { sent: 0, answered: 0, errors: 0, receipts: 0, latenciesMs: [], elapsedMs: 0 };
    let inFlight = 0;
    let budget = 0;
    let started = 0;
    let deadline = 0;
    let stopPacer = (): void => undefined;
    let finished = false;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      stopPacer();
      result.elapsedMs = performance.now() - started;
      session.destroy();
      resolve(result);
    };
    const pump = (): void => {
      while (inFlight < WINDOW && budget > 0 && performance.now() < deadline) {
        const i = result.sent++;
        const at = performance.now();
        inFlight++;
        budget--;
        session.submit_sm(
          {
            source_addr: 'BENCH',
            destination_addr: destination(i),
            registered_delivery: RECEIPTS ? 1 : 0,
            data_coding: 0,
            short_message: shortMessage(i),
          },
          (resp) => {
            inFlight--;
            result.answered++;
            if (resp.command_status !== 0) result.errors++;
            result.latenciesMs.push(performance.now() - at);
            pump();
          },
        );
      }
      if (performance.now() >= deadline && inFlight === 0) finish();
    };
    session.on('deliver_sm', (pdu) => {
      result.receipts++;
      session.send(pdu.response());
    });
    session.on('error', reject);
    session.on('connect', () => {
      session.bind_transceiver({ system_id: 'bench', password: 'bench' }, (resp) => {
        if (resp.command_status !== 0) reject(new Error('bind failed'));
        started = performance.now();
        deadline = started + DURATION_MS;
        stopPacer = pacer((n) => {
          budget += n;
          pump();
        });
        setTimeout(pump, DURATION_MS + 5);
      });
    });
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function main(): Promise<void> {
  const target = await startTarget();
  const cpuBefore = target.cpuSeconds();
  const result = CLIENT === 'raw' ? await runRaw(target.port) : await runSmppClient(target.port);
  const cpuAfter = target.cpuSeconds();
  const rssMb = target.rssMb();
  await target.stop();
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const seconds = result.elapsedMs / 1000;
  const report = {
    client: CLIENT,
    simulator: values['in-process'] === true ? 'in-process' : 'child process',
    window: WINDOW,
    offeredRate: RATE > 0 ? RATE : 'max',
    receipts: RECEIPTS,
    durationS: Number(seconds.toFixed(2)),
    submitsAnswered: result.answered,
    errors: result.errors,
    submitsPerSecond: Math.round(result.answered / seconds),
    receiptsPerSecond: Math.round(result.receipts / seconds),
    latencyMs: {
      p50: Number(percentile(sorted, 50).toFixed(2)),
      p99: Number(percentile(sorted, 99).toFixed(2)),
      max: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)),
    },
    simulatorCpuPercentOfOneCore: Math.round(((cpuAfter - cpuBefore) / seconds) * 100),
    simulatorRssMb: rssMb,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
