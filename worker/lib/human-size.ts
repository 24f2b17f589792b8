// The human-readable sizes of the Docker management API (seed 001): memory in binary units with
// two decimals ("128.50 MiB", "0.00 B"); network totals as whole bytes below 1 KB, else two
// decimals with K/M/G/T prefixes of 1024 ("1.25 MB", "512.00 KB", "0 B").

const MEMORY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const NETWORK_UNITS = ["KB", "MB", "GB", "TB", "PB"];

export function formatMemory(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < MEMORY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${MEMORY_UNITS[unit]}`;
}

export function formatNetwork(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < NETWORK_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${NETWORK_UNITS[unit]}`;
}
