/** Small numeric helpers shared by the benchmark reports. */

export interface Point {
  x: number;
  y: number;
}

/** The least-squares slope of y over x (undefined with fewer than two distinct x). */
export function leastSquaresSlope(points: readonly Point[]): number | undefined {
  if (points.length < 2) return undefined;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY);
    variance += (p.x - meanX) ** 2;
  }
  return variance === 0 ? undefined : covariance / variance;
}

/**
 * About `target` indices out of `0..length-1`, evenly spread, always with the first and last ones and
 * every index in `keep` (sorted, no duplicates).
 */
export function thinIndices(length: number, target: number, keep: readonly number[] = []): number[] {
  if (length <= 0) return [];
  const chosen = new Set<number>([0, length - 1, ...keep.filter((i) => i >= 0 && i < length)]);
  const step = Math.max(1, (length - 1) / Math.max(1, target - 1));
  for (let position = 0; position < length; position += step) chosen.add(Math.round(position));
  return [...chosen].sort((a, b) => a - b);
}

export const MB = 1024 * 1024;

/** Bytes as MB with one decimal. */
export function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}

/** A signed figure with the given decimals, e.g. `+1.25` / `-0.40`. */
export function signed(value: number, decimals: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(decimals)}`;
}

/** The median of `values` (the mean of the two middle ones for an even count); undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The `q`-quantile (0…1) of `values` by the nearest-rank method (p99 of 500 samples is the 495th smallest);
 * undefined when empty.
 */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}
