import { readFileSync } from "node:fs";

/**
 * One process's CPU and memory from /proc (Linux; NaN elsewhere or once the process is gone): for a bench
 * that drives a server in another process and must say which process spent what.
 */

const HZ = 100; // USER_HZ: /proc tick units

/** utime + stime of `pid`, in seconds. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) / HZ;
  } catch {
    return Number.NaN;
  }
}

/** Starts timing `pid`'s CPU; the returned function gives cores' worth of CPU (CPU seconds per wall second) since. */
export function watchProcessCpu(pid: number): () => number {
  const cpu0 = processCpuSeconds(pid);
  const t0 = performance.now();
  return () => (processCpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
}

/** Peak (VmHWM: since the process started) and current (VmRSS) resident memory of `pid`, in MiB. */
export function processMemory(pid: number): { peakMiB: number; rssMiB: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { peakMiB: kib("VmHWM") / 1024, rssMiB: kib("VmRSS") / 1024 };
  } catch {
    return { peakMiB: Number.NaN, rssMiB: Number.NaN };
  }
}
