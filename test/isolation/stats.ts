/**
 * What a run counts, in fixed memory: requests per route, answers that were not the expected
 * one (the first few kept in full for the report), and latencies in a log-scale histogram.
 */

export interface Problem {
  route: string;
  server: number;
  what: string;
}

// Buckets of ~12% width from 1 ms to ~2 min: percentiles within a bucket's width.
const BUCKETS = 100;
const bucketOf = (ms: number): number => Math.min(BUCKETS - 1, Math.max(0, Math.floor(Math.log(Math.max(ms, 1)) / Math.log(1.125))));
const upperOf = (bucket: number): number => 1.125 ** (bucket + 1);

export class RunStats {
  readonly perRoute = new Map<string, number>();
  readonly perServer: number[];
  readonly problems: Problem[] = [];
  problemCount = 0;
  readonly problemKinds = new Map<string, number>();
  readonly #latency = new Array<number>(BUCKETS).fill(0);
  requests = 0;
  maxMs = 0;

  constructor(servers: number) {
    this.perServer = new Array<number>(servers).fill(0);
  }

  request(route: string, server: number, ms: number): void {
    this.requests++;
    this.perRoute.set(route, (this.perRoute.get(route) ?? 0) + 1);
    this.perServer[server] = (this.perServer[server] ?? 0) + 1;
    this.#latency[bucketOf(ms)] = (this.#latency[bucketOf(ms)] ?? 0) + 1;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  problem(p: Problem, kind: string): void {
    this.problemCount++;
    this.problemKinds.set(kind, (this.problemKinds.get(kind) ?? 0) + 1);
    if (this.problems.length < 20) this.problems.push(p);
  }

  /** The latency under which `q` (0..1) of the requests were answered, to the bucket's upper bound. */
  percentile(q: number): number {
    const target = q * this.requests;
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#latency[b] ?? 0;
      if (seen >= target && seen > 0) return Math.round(upperOf(b));
    }
    return Math.round(this.maxMs);
  }
}
