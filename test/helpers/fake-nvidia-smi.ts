// Writes a stand-in nvidia-smi that answers our CSV queries with output recorded on a real H100 (see test/fixtures/nvidia-smi).
import fs from 'node:fs';
import path from 'node:path';

const FIXTURES = new URL('../fixtures/nvidia-smi/', import.meta.url);

function recordedLine(file: string, heading: string): string[] {
  const text = fs.readFileSync(new URL(file, FIXTURES), 'utf8');
  const section = text.split('\n## ').find((s) => s.startsWith(heading));
  if (!section) throw new Error(`no section ${heading} in ${file}`);
  return section.split('\n')[1].split(', ');
}

/** Our --query-gpu field order, cut from a recorded row of the full query. */
function ourGpuRow(recorded: string[], index: number, uuid: string): string {
  // recorded: index, name, uuid, pci.bus_id, driver, mem.total, mem.used, mem.free, util.gpu, util.mem, temp, power.draw, …
  return [String(index), recorded[1], uuid, recorded[5], recorded[6], recorded[7], recorded[8], recorded[10], recorded[11]].join(', ');
}

export type FakeGpuMode = 'two-gpus' | 'no-devices' | 'driver-error';

/** Creates the script in `dir` and returns its path; `busyPid` is listed on GPU 0 as the recorded 4458 MiB process. */
export function writeFakeNvidiaSmi(dir: string, mode: FakeGpuMode, busyPid = 1065): string {
  const file = path.join(dir, 'nvidia-smi');
  let gpuOut = '';
  let appsOut = '';
  let exitCode = 0;
  if (mode === 'two-gpus') {
    const busy = recordedLine(
      'h100-busy.txt',
      'nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,driver_version,memory.total,memory.used,memory.free,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,clocks.sm,fan.speed,compute_mode --format=csv,noheader,nounits',
    );
    const idle = recordedLine('h100-idle.txt', 'nvidia-smi --query-gpu=... --format=csv,noheader,nounits');
    gpuOut = `${ourGpuRow(busy, 0, busy[2])}\n${ourGpuRow(idle, 1, 'GPU-1bbd8076-7aaa-25b7-927d-945e0fc717b4')}\n`;
    const app = recordedLine(
      'h100-busy.txt',
      'nvidia-smi --query-compute-apps=pid,process_name,used_memory,gpu_uuid --format=csv,noheader,nounits',
    );
    appsOut = `${[String(busyPid), ...app.slice(1)].join(', ')}\n`;
  } else if (mode === 'no-devices') {
    gpuOut = 'No devices were found\n';
    exitCode = 6;
  } else {
    gpuOut =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";
    exitCode = 9;
  }
  const script = `#!/bin/sh
case "$*" in
  *--query-compute-apps*) printf '%s' '${appsOut.replace(/'/g, "'\\''")}'; exit ${exitCode} ;;
  *) printf '%s' '${gpuOut.replace(/'/g, "'\\''")}'; exit ${exitCode} ;;
esac
`;
  fs.writeFileSync(file, script, { mode: 0o755 });
  return file;
}
