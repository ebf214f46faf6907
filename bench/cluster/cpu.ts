/**
 * CPU time of running processes, read from /proc (Linux): user + system time of a process
 * and of its live descendants, all threads included (a JVM's compiler and GC threads, a
 * Node process's worker and libuv threads). Read while the process runs, at the moment the
 * benchmark sees its output complete.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks (children that exited and were waited for count too). */
  readonly ticks: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
}

/** CPU seconds used so far by `pid` and its live descendants; 0 for a process that is gone. */
export function cpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    const s = stat(p);
    if (!s) continue;
    const list = children.get(s.ppid);
    if (list) list.push(p);
    else children.set(s.ppid, [p]);
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    ticks += stat(p)?.ticks ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}
