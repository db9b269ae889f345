import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** CPU time (s) and resident memory (bytes) of one process, from /proc. */
export interface ProcSample {
  cpuSeconds: number;
  rssBytes: number;
}

const ticksPerSecond = 100; // USER_HZ on Linux

export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), which ends at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    return { cpuSeconds: (utime + stime) / ticksPerSecond, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants (PostgreSQL runs a backend process per connection). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** The pid listening on a TCP port on this machine (for Kafka/PostgreSQL we did not start), via socket inodes. */
export function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // state 0A = LISTEN
        if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A') inodes.add(cols[9]!);
      }
    } catch {
      // no such table
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${entry}/fd/${fd}`));
          if (m && inodes.has(m[1]!)) return Number(entry);
        } catch {
          // fd closed
        }
      }
    } catch {
      // not ours to read
    }
  }
  return undefined;
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

export interface WatchedProcess {
  name: string;
  pid: number;
  /** Sum over the process and its descendants. */
  tree: boolean;
}

export interface ProcessReport {
  name: string;
  pid: number;
  cpuAvgPercent: number;
  cpuPeakPercent: number;
  rssPeakMb: number;
  rssEndMb: number;
  /** CPU average while load was offered (start → end of sending); the whole-run average includes the drain. */
  cpuSendAvgPercent?: number;
}

/** Samples CPU and RSS of named processes every interval; CPU% is of one core (200 % = both cores of a 2-core box). */
export class ProcessSampler {
  private timer?: NodeJS.Timeout;
  private readonly state = new Map<string, { first?: { t: number; cpu: number }; last?: { t: number; cpu: number }; sendEnd?: { t: number; cpu: number }; peakCpu: number; peakRss: number; endRss: number }>();

  constructor(private readonly processes: WatchedProcess[]) {}

  private sampleOne(p: WatchedProcess): ProcSample | undefined {
    const pids = p.tree ? processTree(p.pid) : [p.pid];
    let cpu = 0;
    let rss = 0;
    let any = false;
    for (const pid of pids) {
      const s = readProc(pid);
      if (!s) continue;
      any = true;
      cpu += s.cpuSeconds;
      rss += s.rssBytes;
    }
    return any ? { cpuSeconds: cpu, rssBytes: rss } : undefined;
  }

  sample(): void {
    const t = performance.now();
    for (const p of this.processes) {
      const s = this.sampleOne(p);
      if (!s) continue;
      const st = this.state.get(p.name) ?? { peakCpu: 0, peakRss: 0, endRss: 0 };
      if (st.last && t > st.last.t) {
        const pct = ((s.cpuSeconds - st.last.cpu) / ((t - st.last.t) / 1000)) * 100;
        st.peakCpu = Math.max(st.peakCpu, pct);
      }
      st.first ??= { t, cpu: s.cpuSeconds };
      st.last = { t, cpu: s.cpuSeconds };
      st.peakRss = Math.max(st.peakRss, s.rssBytes);
      st.endRss = s.rssBytes;
      this.state.set(p.name, st);
    }
  }

  /** Marks the end of sending: CPU from the start to here is reported as the CPU under load. */
  markSendEnd(): void {
    this.sample();
    for (const st of this.state.values()) if (st.last) st.sendEnd = { ...st.last };
  }

  start(intervalMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): ProcessReport[] {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.processes.map((p) => {
      const st = this.state.get(p.name);
      const span = st?.first && st.last ? (st.last.t - st.first.t) / 1000 : 0;
      return {
        name: p.name,
        pid: p.pid,
        cpuAvgPercent: st?.first && st.last && span > 0 ? ((st.last.cpu - st.first.cpu) / span) * 100 : 0,
        cpuPeakPercent: st?.peakCpu ?? 0,
        cpuSendAvgPercent: st?.first && st.sendEnd && st.sendEnd.t > st.first.t ? ((st.sendEnd.cpu - st.first.cpu) / ((st.sendEnd.t - st.first.t) / 1000)) * 100 : undefined,
        rssPeakMb: (st?.peakRss ?? 0) / 2 ** 20,
        rssEndMb: (st?.endRss ?? 0) / 2 ** 20,
      };
    });
  }
}
