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

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/**
 * A size as the Docker CLI prints it (go-units `HumanSize`: powers of 1000, four significant
 * digits, no space): "24.1MB", "1.2GB", "0B" — what `docker system df` and `docker images` show.
 */
export function dockerHumanSize(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  // Go's %.4g: four significant digits, trailing zeros dropped.
  return `${Number(value.toPrecision(4))}${DECIMAL_UNITS[unit]}`;
}
