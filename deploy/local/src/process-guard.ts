import { spawn } from 'node:child_process';
import { sleep } from './net.js';

/**
 * Keeps a server process (the Kafka JVM, the postmaster) from outliving the Node process that started it.
 *
 * - Normal exit / uncaught exception: a synchronous 'exit' listener signals every guarded pid.
 * - SIGKILL / OOM-kill of Node (no listener runs): a tiny detached `sh` watchdog polls the parent pid
 *   once a second and signals the child when the parent is gone. It exits by itself as soon as the
 *   child is gone, so it never lingers. Linux has PR_SET_PDEATHSIG for this, but Node cannot set it.
 */

interface Guarded {
  pid: number;
  signal: NodeJS.Signals;
}

const guarded = new Map<number, Guarded>();
let exitListenerInstalled = false;

// $1 parent pid, $2 child pid, $3 polite signal without "SIG" (dash's kill rejects -SIGTERM).
// Escalates to KILL if the child ignores it for 30 s.
const WATCHDOG = `
while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
kill -0 "$2" 2>/dev/null || exit 0
kill -"$3" "$2" 2>/dev/null
i=0; while kill -0 "$2" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
kill -KILL "$2" 2>/dev/null
exit 0`;

export function guardChild(pid: number, signal: NodeJS.Signals): void {
  guarded.set(pid, { pid, signal });
  if (!exitListenerInstalled) {
    exitListenerInstalled = true;
    process.on('exit', () => {
      for (const g of guarded.values()) signalQuietly(g.pid, g.signal);
    });
  }
  // detached: own process group, so a Ctrl-C aimed at the CLI does not kill the watchdog first.
  const watchdog = spawn(
    'sh',
    ['-c', WATCHDOG, 'sms-gateway-watchdog', String(process.pid), String(pid), signal.replace(/^SIG/, '')],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  watchdog.on('error', () => undefined); // no sh: the exit listener still covers the common cases
  watchdog.unref();
}

export function unguardChild(pid: number): void {
  guarded.delete(pid);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means it exists but belongs to someone else (postgres runs as another user when we are root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Polls until the pid is gone. Used where we do not own a ChildProcess handle (or its events may be missed). */
export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

/** Polite signal, then SIGKILL if the process is still there after graceMs. */
export async function terminate(pid: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  signalQuietly(pid, signal);
  if (await waitForPidExit(pid, graceMs)) return;
  signalQuietly(pid, 'SIGKILL');
  await waitForPidExit(pid, 5000);
}
