// What Linux's /proc says of a process measured from outside (the ingest server of bench:sync,
// bench:server-cpu and bench:server-memory): CPU time used, by the process or by each of its
// threads, and resident memory. CPU is in clock ticks of 10 ms (USER_HZ 100), so it only means
// something over runs of seconds.
import fs from "node:fs";

/** µs of CPU (user + system) a /proc `stat` file reports; throws if the process or thread is gone. */
function statCpuMicros(file) {
  const fields = fs.readFileSync(file, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** µs of CPU (user + system) process `pid` has used so far, all its threads together; 0 once it is gone. */
export function processCpuMicros(pid) {
  try {
    return statCpuMicros(`/proc/${pid}/stat`);
  } catch {
    return 0;
  }
}

/** µs of CPU each thread of process `pid` has used so far, by thread id (the main thread's is the pid). */
export function threadsCpuMicros(pid) {
  const byThread = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      byThread.set(tid, statCpuMicros(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return byThread;
}

/** Resident and peak resident set size of process `pid`, in MiB; 0 once it is gone. */
export function readRss(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}
