// The result model every report is written from. summary.json is `RunReport.summary`;
// the HTML report also uses the time series and the reconciliation rows.

export interface LatencyStats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export interface ThresholdResult {
  /** Metric name as written, e.g. "latency.StartTransaction". */
  metric: string;
  /** Expression as written, e.g. "p(99)<200". */
  expression: string;
  passed: boolean;
  /** The value the expression was judged on. */
  actual: number;
  /** Why a threshold failed beyond the comparison itself, e.g. "no samples recorded for this metric". */
  note?: string;
}

export interface SessionCounts {
  truth: number;
  billed: number;
  matched: number;
  mismatched: number;
  missing: number;
  duplicate: number;
  /** Sessions the back end has that the simulator never lived. */
  unexpected: number;
}

export interface Summary {
  scenario: string;
  seed: number;
  passed: boolean;
  target: string; // "embedded" or the URL
  startedAt: string;
  wallMs: number;
  simStart: string;
  simSpeed: number;
  chargers: number;
  connectors: number;
  /** What a transaction sends ('full' or 'minimal') and whether chargers show cost messages; absent in older summaries. */
  transactionMessages?: 'full' | 'minimal';
  costDisplay?: boolean;
  /** MeterValueSampleInterval of the chargers, sim seconds (how many MeterValues a transaction sends); absent in older summaries. */
  meterValueSampleIntervalSec?: number;
  workers: number;
  sessions: SessionCounts;
  billing: {
    currency: string;
    expectedTotal: string;
    billedTotal: string;
    maxAbsError: string;
    /** Billed amounts excl. VAT and quantities per tariff dimension, summed over the run, and how many sessions had one. */
    byDimension?: Partial<Record<'ENERGY' | 'TIME' | 'PARKING_TIME' | 'FLAT', { exclVat: string; quantity: string; sessions: number }>>;
  };
  throughput: { transactionsPerSec: number; callsPerSec: number; calls: number; transactions: number };
  latencyMs: Record<string, LatencyStats>;
  serviceTimeMs: Record<string, LatencyStats>;
  /**
   * dropped: load models' work that could not start on time. turnedAway: drivers of the
   * per-connector model who found every connector busy or the charger down, demand the site
   * could not serve (absent in summaries written before it was counted apart).
   */
  counters: { callErrors: number; timeouts: number; dropped: number; reconnects: number; turnedAway?: number };
  resources: {
    fleetCpuMicrosPerCall: number;
    backendCpuMicrosPerCall: number | null;
    fleetCpuMicros: number;
    backendCpuMicros: number | null;
    /** Bytes the embedded back end wrote towards its disk (database and WAL) in the same window; null for another CSMS. */
    backendDiskWriteBytes?: number | null;
    /** backendDiskWriteBytes per transaction of the window. */
    backendDiskBytesPerTransaction?: number | null;
    /**
     * Threads of the fleet / of the embedded back end that were ready to run but waited for a core,
     * on average over the same window (Linux run-queue wait); null where unknown. Well above 0 the
     * machine was short of CPU and every latency figure carries that wait.
     */
    fleetThreadsWaitingForCpu?: number | null;
    backendThreadsWaitingForCpu?: number | null;
    /** 'steady': CPU and calls counted from the end of the warm-up to the end of arrivals; 'run': the whole run. */
    cpuWindow?: 'steady' | 'run';
    /** Fleet process RSS with its workers up but no charger yet, and at the end of arrivals. */
    fleetRssBaselineBytes?: number;
    fleetRssBytes?: number;
    /**
     * (RSS at the end of arrivals - baseline) / most chargers connected at once; null when it
     * cannot be measured at this size (too few chargers, or no growth), the reason beside it.
     */
    fleetBytesPerCharger?: number | null;
    fleetBytesPerChargerUnmeasured?: string;
  };
  checks: CheckResult[];
  thresholds: ThresholdResult[];
  /** The load model, when the scenario set one (absent = per-connector Poisson). */
  load?: { model: string; [field: string]: unknown };
  /** Wall ms after sim start left out of latency, throughput and CPU per call. */
  warmUpMs?: number;
  /** Most chargers connected at once. */
  chargersConnectedMax?: number;
  /** From the end of the warm-up to the end of arrivals (wall ms since fleet start). */
  steady?: SteadyFigures;
  /** What charger displays showed of the cost, against the bills. */
  display?: DisplaySummary;
  /** Set when this run is one shard of a larger fleet; its thresholds are judged on the merged result. */
  shard?: ShardSpec;
  /** Set on a merged result: how many shard results it was merged from. */
  shards?: number;
}

/** Shard `index` (1-based) of `count` shard processes that together run one fleet. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Which run checks apply, kept with a result so that a merge can judge them again on merged counts. */
export interface CheckPlan {
  /** "all chargers connected" (bench). */
  requireAllConnected: boolean;
  /** "sessions happened": the load model plans transactions. */
  expectSessions: boolean;
  /** The back end is known to send FinalCost (the embedded one). */
  finalCostRequired: boolean;
}

/** What a run keeps beyond the reports so that shard results merge exactly (written as result.json). */
export interface MergeInputs {
  shard: ShardSpec;
  /** Chargers of the whole fleet, over all shards. */
  fleetChargers: number;
  /** Per OCPP action, µs, hdr-histogram-js compressed base64. */
  latency: Record<string, string>;
  serviceTime: Record<string, string>;
  /** The fleet's counters at the end of the run (calls, transactions, sessionsDone, ...). */
  counters: Record<string, number>;
  /** Per timeline point (same index): latency over all actions in that interval, µs, compressed base64; null when none. */
  intervalLatency: Array<string | null>;
  /** The threshold spec the run was judged with (scenario + command line). */
  thresholds: Record<string, string[]>;
  checkPlan: CheckPlan;
}

export interface DisplaySummary {
  /** Billed sessions whose charger showed a final cost. */
  finalCostShown: number;
  finalCostMatches: number;
  finalCostMismatched: number;
  /** Billed sessions whose charger showed no final cost. */
  finalCostMissing: number;
  /** Sessions with at least two running costs shown, and those where one went down. */
  runningCostSessions: number;
  runningCostDecreases: number;
}

export interface SteadyFigures {
  fromMs: number;
  toMs: number;
  calls: number;
  callsPerSec: number;
  transactions: number;
  transactionsPerSec: number;
  /** Sessions billed (matched or mismatched) whose start lies in the window. */
  billedTransactions: number;
  billedTransactionsPerSec: number;
  dropped: number;
  /** Drivers turned away in the window (absent in older summaries). */
  turnedAway?: number;
}

/** One second of the run, as seen by the fleet (merged over workers). */
export interface TimelinePoint {
  wallMs: number;
  simTime: string;
  callsPerSec: number;
  transactionsPerSec: number;
  chargersConnected: number;
  sessionsActive: number;
  sessionsDone: number;
  errors: number;
  dropped: number;
  /** Latency percentiles over all actions in this interval, ms. */
  p50: number;
  p90: number;
  p99: number;
}

export interface ReconciliationRow {
  chargerId: string;
  connectorId: number;
  startAt: string;
  status: 'matched' | 'mismatched' | 'missing' | 'duplicate' | 'unexpected';
  expectedTotal: string | null;
  billedTotal: string | null;
  /** |expected - billed| of the total incl. VAT, for sorting worst first. */
  absError: string;
  /** Which dimension differs and how: "ENERGY expected 4.2500 billed 4.0000; ...". */
  detail: string;
}

export interface RunReport {
  summary: Summary;
  timeline: TimelinePoint[];
  /** Per action: [percentile, ms] pairs for a percentile-distribution chart. */
  latencyDistribution: Record<string, Array<[number, number]>>;
  errorsByKind: Record<string, number>;
  reconciliation: ReconciliationRow[];
  /** Present on runs and merges; absent on reports built from a summary alone. */
  mergeInputs?: MergeInputs;
}
