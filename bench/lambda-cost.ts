/**
 * The Slido paper's Figure 3 as a table: what a single-threaded engine's measured latency becomes
 * on each AWS Lambda memory size, and what a million predictions cost there.
 *
 * Lambda allocates CPU in proportion to memory: 1769 MB buys one full vCPU. Below that the
 * function gets a time slice of one core, so a single-threaded run takes 1/share as long; above
 * it the extra vCPUs do nothing for an engine that uses one thread, so the share is capped at 1.
 */

export const LAMBDA_MEMORY_MB = [512, 1024, 1536, 1769, 2048, 3008] as const;
/** Memory size at which a function gets one full vCPU. */
const FULL_VCPU_MB = 1769;

/** us-east-1 list prices; AWS may change them. */
export const LAMBDA_PRICES = {
  asOf: '2026-12',
  region: 'us-east-1',
  x86_64PerGbSecond: 0.0000166667,
  arm64PerGbSecond: 0.0000133334,
  perMillionRequests: 0.2,
} as const;

export interface LambdaCostRow {
  memoryMb: number;
  vcpuShare: number;
  q50Ms: number;
  q99Ms: number;
  /** Dollars per million predictions at the q50 latency, one prediction per invocation. */
  x86_64PerMillion: number;
  arm64PerMillion: number;
}

/**
 * Rows for each memory size from a single-core p50/p99 (ms). Billed duration is the latency
 * rounded up to the next millisecond, as Lambda bills; memory is billed in GB of 1024 MB.
 * The arm64 column applies arm64's price to the x86 latency: it assumes equal per-core speed,
 * which a Graviton measurement would have to confirm.
 */
export function lambdaCostTable(p50Ms: number, p99Ms: number): LambdaCostRow[] {
  return LAMBDA_MEMORY_MB.map((memoryMb) => {
    const vcpuShare = Math.min(1, memoryMb / FULL_VCPU_MB);
    const q50Ms = p50Ms / vcpuShare;
    const q99Ms = p99Ms / vcpuShare;
    const gbSeconds = (memoryMb / 1024) * (Math.ceil(q50Ms) / 1000);
    const perMillion = (pricePerGbSecond: number) => 1e6 * gbSeconds * pricePerGbSecond + LAMBDA_PRICES.perMillionRequests;
    return {
      memoryMb,
      vcpuShare,
      q50Ms,
      q99Ms,
      x86_64PerMillion: perMillion(LAMBDA_PRICES.x86_64PerGbSecond),
      arm64PerMillion: perMillion(LAMBDA_PRICES.arm64PerGbSecond),
    };
  });
}

export function formatLambdaPrices(): string {
  const p = LAMBDA_PRICES;
  return (
    `Lambda prices (${p.region} list prices as of ${p.asOf}; they may change): ` +
    `x86_64 $${p.x86_64PerGbSecond}/GB-s, arm64 $${p.arm64PerGbSecond}/GB-s, $${p.perMillionRequests.toFixed(2)} per million requests. ` +
    `Billed duration = q50 rounded up to 1 ms; vCPU share = MB/${FULL_VCPU_MB}, capped at 1 (single-threaded engine).`
  );
}

/** A markdown table of {@link lambdaCostTable}'s rows. */
export function formatLambdaCostTable(rows: readonly LambdaCostRow[]): string {
  const lines = [
    '| memory (MB) | vCPU share | q50 (ms) | q99 (ms) | $/M predictions x86_64 | $/M predictions arm64 |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.memoryMb} | ${r.vcpuShare.toFixed(3)} | ${r.q50Ms.toFixed(1)} | ${r.q99Ms.toFixed(1)} | ` +
        `${r.x86_64PerMillion.toFixed(2)} | ${r.arm64PerMillion.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}
