// Where a round's CPU went, by part of the stack: user + system time of each part's process tree (Linux /proc), the
// children it already reaped included (Postgres backends that ended), and how busy the whole machine was. Read
// before and after a round; the difference is the round's share. Off Linux, or for a process that is gone, a part
// reads as nothing.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const TICKS = 100;

export interface CpuReading {
  /** Seconds of CPU per part, over its whole process tree. */
  parts: Record<string, number>;
  /** Seconds the machine's cores were busy (all processes and the kernel) and idle. */
  busy: number;
  idle: number;
  at: number;
}

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const at = (i: number) => Number(fields[i - 3]);
    return { ppid: at(4), ticks: at(14) + at(15) + at(16) + at(17) };
  } catch {
    return undefined;
  }
}

/** CPU so far of each part (its root processes and every descendant), and the machine's busy and idle time. */
export function readCpu(roots: Record<string, number[]>): CpuReading {
  const stats = new Map<number, ProcStat>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    // Not Linux: every part reads as nothing.
  }
  for (const name of pids) {
    const stat = readStat(Number(name));
    if (stat) stats.set(Number(name), stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(pid);
    else children.set(ppid, [pid]);
  }
  const tree = (pid: number): number =>
    (stats.get(pid)?.ticks ?? 0) + (children.get(pid) ?? []).reduce((sum, child) => sum + tree(child), 0);
  const parts: Record<string, number> = {};
  for (const [part, pidsOfPart] of Object.entries(roots)) {
    parts[part] = pidsOfPart.reduce((sum, pid) => sum + tree(pid), 0) / TICKS;
  }
  let busy = 0;
  let idle = 0;
  try {
    const [, ...times] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal
    idle = ((times[3] ?? 0) + (times[4] ?? 0)) / TICKS;
    busy = times.slice(0, 8).reduce((sum, t) => sum + t, 0) / TICKS - idle;
  } catch {
    // Not Linux.
  }
  return { parts, busy, idle, at: performance.now() };
}

export interface CpuSplit {
  /** Seconds of CPU per part over the interval. */
  parts: Record<string, number>;
  /** Seconds the machine was busy in all, and the interval's length (cores × seconds is the most it can be busy). */
  machineBusy: number;
  seconds: number;
}

/** What each part used between two readings. */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuSplit {
  const parts: Record<string, number> = {};
  for (const part of Object.keys(after.parts)) {
    parts[part] = Number(Math.max(0, after.parts[part]! - (before.parts[part] ?? 0)).toFixed(1));
  }
  return {
    parts,
    machineBusy: Number((after.busy - before.busy).toFixed(1)),
    seconds: Number(((after.at - before.at) / 1000).toFixed(1)),
  };
}

/** "temporal 45.1 · worker 24.0 · …, machine 88.2 of 2 × 46.0 s": a round's split in a line. */
export function cpuLine(split: CpuSplit, cores: number): string {
  const parts = Object.entries(split.parts)
    .sort((a, b) => b[1] - a[1])
    .map(([part, seconds]) => `${part} ${seconds}`)
    .join(' · ');
  return `${parts} · machine busy ${split.machineBusy} of ${cores} × ${split.seconds} s`;
}
