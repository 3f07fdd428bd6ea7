// The chargebench command line: parses and dispatches, nothing more.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startBackend } from '../backend/server.js';
import { runQuoteCommand } from '../backend/billing/quote.js';
import { ScenarioError } from '../scenarios/api.js';
import { expandScenarioPaths, loadScenario } from '../scenarios/load-scenarios.js';
import { BENCH_HEARTBEAT_SIM_SEC, BENCH_TRANSACTIONS, benchPreamble, benchScenario, type BenchOptions, type BenchTransaction } from '../scenarios/bench.js';
import { DURATION_HINT, parseDuration, parseStages } from '../scenarios/durations.js';
import { RunBrokenError, runScenario } from '../scenarios/runner.js';
import { writeReports } from '../reports/summary-writer.js';
import { formatTerminalSummary } from '../reports/terminal.js';
import { compareSummaries, formatComparison } from '../reports/compare.js';
import { parseThresholdArgs, ThresholdError } from '../reports/thresholds.js';
import type { ShardSpec, Summary } from '../reports/model.js';
import { mergeRunResults } from '../reports/merge.js';
import { readRunResult, ResultError } from '../reports/run-result.js';
import { FLOOR_SERVERS, formatFloor, measureTransportFloor, type FloorServerKind } from '../scenarios/transport-floor.js';
import { fleetCapacity } from '../sim/fleet.js';
import { SHARD_ENV, shardFromOptions, shardLabel, shardProblem, ShardSpecError } from '../scenarios/sharding.js';

const EXIT = { passed: 0, failed: 1, usage: 2, broken: 3 } as const;
const SHARD_HELP = `run shard i of n shard processes: every n-th charger and arrival of the fleet; needs --target (default: $${SHARD_ENV}, else the whole fleet)`;

const integer =
  (name: string, min = 0) =>
  (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
const collect = (value: string, previous: string[] = []) => [...previous, value];

const program = new Command('chargebench')
  .description('Simulation and load-testing harness for EV charging back ends, with a reference OCPP billing back end.')
  .exitOverride()
  .showHelpAfterError();

program
  .command('backend')
  .description('run the reference CSMS: OCPP at ws://HOST:PORT/ocpp/{chargerId}, REST under /api')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0 = any free port)', integer('--port'), 8180)
  .option('--db <file>', 'sqlite database file', 'data/chargebench.db')
  .option('--unknown-tags <policy>', 'answer for idTags the back end does not know: reject | accept', 'reject')
  .option(
    '--running-cost-interval <sec>',
    'simulated seconds between running-cost messages to charger displays (0 = none)',
    integer('--running-cost-interval', 0),
    300,
  )
  .option(
    '--heartbeat-interval <sec>',
    'heartbeat interval given to chargers in BootNotification answers, simulated seconds',
    integer('--heartbeat-interval', 1),
    300,
  )
  .action(async (opts: { host: string; port: number; db: string; unknownTags: string; runningCostInterval: number; heartbeatInterval: number }) => {
    if (opts.unknownTags !== 'reject' && opts.unknownTags !== 'accept') usage('--unknown-tags must be reject or accept');
    const backend = await startBackend({
      host: opts.host,
      port: opts.port,
      dbPath: resolve(opts.db),
      unknownTagPolicy: opts.unknownTags as 'reject' | 'accept',
      runningCostIntervalSec: opts.runningCostInterval,
      heartbeatIntervalSec: opts.heartbeatInterval,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(
      `chargebench backend listening on http://${backend.host}:${backend.port} (OCPP at ws://${backend.host}:${backend.port}/ocpp/{chargerId}, db ${resolve(opts.db)})\n`,
    );
    const shutdown = () => {
      backend.close().then(
        () => process.exit(EXIT.passed),
        (err: Error) => {
          process.stderr.write(`error while closing the back end: ${err.message}\n`);
          process.exit(EXIT.broken);
        },
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

program
  .command('run')
  .description('run scenarios (against an embedded back end unless --target) and check every bill')
  .argument('<scenarios...>', 'scenario files (.ts) or folders of them')
  .option('--target <url>', 'OCPP endpoint of a running CSMS, e.g. ws://127.0.0.1:8180/ocpp')
  .option('--seed <n>', 'override the scenario seed', integer('--seed'))
  .option('--report-dir <dir>', 'where summary.json, junit.xml, report.html and result.json go', 'reports/out')
  .option('--workers <n>', 'fleet worker threads (default: one per CPU; half of them for the embedded back end or a loopback target)', integer('--workers', 1))
  .option('--threshold <metric:expr>', 'extra threshold, e.g. "latency.StartTransaction:p(99)<200" (repeatable)', collect)
  .option('--shard <i/n>', SHARD_HELP)
  .option('--no-progress', 'no live progress display')
  .action(
    async (
      paths: string[],
      opts: { target?: string; seed?: number; reportDir: string; workers?: number; threshold?: string[]; shard?: string; progress: boolean },
    ) => {
      if (opts.target) checkTarget(opts.target);
      const shard = shardOption(opts.shard, opts.target);
      const files = expandScenarioPaths(paths);
      const scenarios = [];
      for (const file of files) scenarios.push(await loadScenario(file));
      const thresholds = parseThresholdArgs(opts.threshold ?? []);
      let allPassed = true;
      for (const scenario of scenarios) {
        const dir = scenarios.length > 1 ? resolve(opts.reportDir, scenario.name) : resolve(opts.reportDir);
        const slice = shard.count > 1 ? `, ${shardLabel(shard)}` : '';
        process.stderr.write(`chargebench: running ${scenario.name} (${scenario.chargers.count} chargers${slice}, seed ${opts.seed ?? scenario.seed})\n`);
        const { report, passed } = await runScenario(scenario, {
          target: opts.target,
          seed: opts.seed,
          workers: opts.workers,
          thresholds,
          progress: opts.progress,
          shard,
          log: (line) => process.stderr.write(`${line}\n`),
        });
        const written = await writeReports(dir, report);
        process.stdout.write(`${formatTerminalSummary(report.summary)}\n`);
        process.stdout.write(`${reportsLine(written)}\n`);
        allPassed &&= passed;
      }
      process.exitCode = allPassed ? EXIT.passed : EXIT.failed;
    },
  );

const duration = (name: string) => (value: string) => {
  const ms = parseDuration(value);
  if (ms === null) throw new InvalidArgumentError(`${name}: ${DURATION_HINT}`);
  return ms;
};
/** `--rate N` or `--rate N/s`, at least `min`. */
const perSecond = (min: number, hint: string) => (value: string) => {
  const n = Number(value.replace(/\/s$/, ''));
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`--rate: ${hint}`);
  return n;
};
const ratePerSec = perSecond(0, 'give transactions per second, e.g. 500 or 500/s (0 = idle fleet)');
const callsPerSec = perSecond(Number.MIN_VALUE, 'give calls per second, e.g. 6000 or 6000/s');
/** One call at a time per socket: a socket asked again sooner than this would mostly skip. */
const CALIBRATE_MIN_GAP_MS = 10;

program
  .command('bench')
  .description('throughput benchmark: open-model arrivals (constant or ramping rate) with live progress, every bill checked, the same reports')
  .option('--chargers <n>', 'simulated chargers', integer('--chargers', 1), 100)
  .option('--connectors <n>', 'connectors per charger', integer('--connectors', 1), 2)
  .option(
    '--rate <r/s>',
    'transactions started per wall second across the fleet (default: a quarter of the connectors per second, at most 1,000; 0 = idle)',
    ratePerSec,
  )
  .option('--stages <list>', 'ramping arrival rate instead of --rate, k6-style DURATION:TARGET stages, e.g. "30s:200,60s:1000"')
  .option('--duration <d>', "how long transactions arrive, e.g. 90s, 2m, 1h (default 60s, or the stages' total); includes the warm-up", duration('--duration'))
  .option('--warm-up <d>', 'first part of the run left out of latency, throughput and CPU figures, e.g. 10s', duration('--warm-up'))
  .addOption(
    new Option('--transaction <kind>', 'what a transaction sends: full = 9 calls and cost messages to a display; minimal = the 6 calls billing needs')
      .choices(BENCH_TRANSACTIONS as BenchTransaction[])
      .default('full'),
  )
  .option('--target <url>', 'OCPP endpoint of a running CSMS, e.g. ws://127.0.0.1:8180/ocpp')
  .option('--seed <n>', 'seed of the run', integer('--seed'), 1)
  .option('--report-dir <dir>', 'where summary.json, junit.xml, report.html and result.json go', 'reports/out/bench')
  .option('--workers <n>', 'fleet worker threads (default: one per CPU; half of them for the embedded back end or a loopback target)', integer('--workers', 1))
  .option('--threshold <metric:expr>', 'extra threshold, e.g. "latency.StartTransaction:p(99)<100" (repeatable)', collect)
  .option('--shard <i/n>', SHARD_HELP)
  .option('--no-progress', 'no live progress display')
  .action(
    async (opts: {
      chargers: number;
      connectors: number;
      rate?: number;
      stages?: string;
      duration?: number;
      warmUp?: number;
      transaction: BenchTransaction;
      target?: string;
      seed: number;
      reportDir: string;
      workers?: number;
      threshold?: string[];
      shard?: string;
      progress: boolean;
    }) => {
      if (opts.target) checkTarget(opts.target);
      const shard = shardOption(opts.shard, opts.target, opts.chargers);
      if (opts.stages !== undefined && opts.rate !== undefined)
        usage('give either --rate (constant arrival rate) or --stages (ramping arrival rate), not both');
      let stages;
      try {
        stages = opts.stages === undefined ? undefined : parseStages(opts.stages);
      } catch (err) {
        usage(`--stages: ${(err as Error).message}`);
      }
      if (stages && opts.duration !== undefined) usage('--duration comes from the stages when --stages is given; leave --duration out');
      const bench: BenchOptions = {
        chargers: opts.chargers,
        connectors: opts.connectors,
        rate: opts.rate,
        stages,
        durationMs: opts.duration,
        warmUpMs: opts.warmUp,
        transaction: opts.transaction,
        seed: opts.seed,
        workers: opts.workers,
        shard,
      };
      const scenario = benchScenario(bench);
      for (const line of benchPreamble(bench, opts.target)) process.stderr.write(`chargebench: ${line}\n`);
      const { report, passed } = await runScenario(scenario, {
        target: opts.target,
        seed: opts.seed,
        workers: opts.workers,
        thresholds: parseThresholdArgs(opts.threshold ?? []),
        progress: opts.progress,
        requireAllConnected: true,
        backendHeartbeatSec: BENCH_HEARTBEAT_SIM_SEC,
        shard,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      const written = await writeReports(resolve(opts.reportDir), report);
      process.stdout.write(`${formatTerminalSummary(report.summary)}\n`);
      process.stdout.write(`${reportsLine(written)}\n`);
      process.exitCode = passed ? EXIT.passed : EXIT.failed;
    },
  );

program
  .command('calibrate')
  .description(
    "measure the transport floor on this machine: CPU per call of a bare client (the fleet's sockets and OCPP-J framing, no charger logic) and of a server that only answers, in its own process, over loopback",
  )
  .option('--sockets <n>', 'client sockets, like chargers', integer('--sockets', 1), 2000)
  .option('--rate <calls/s>', 'calls per second across the sockets (bench:throughput sends 6,000)', callsPerSec, 6000)
  .addOption(new Option('--duration <d>', 'how long calls are sent, warm-up included, e.g. 90s').argParser(duration('--duration')).default(30_000, '30s'))
  .addOption(new Option('--warm-up <d>', 'first part left out of the figures, e.g. 10s').argParser(duration('--warm-up')).default(5_000, '5s'))
  .addOption(
    new Option('--server <kind>', "what answers: bare = an OCPP-J endpoint and nothing else; ocpp-rpc = ocpp-rpc's RPCServer in strict mode, nothing behind it")
      .choices([...FLOOR_SERVERS])
      .default('bare'),
  )
  .option('--json', 'print the result as JSON')
  .action(async (opts: { sockets: number; rate: number; duration: number; warmUp: number; server: FloorServerKind; json?: boolean }) => {
    if (opts.warmUp >= opts.duration) usage('--warm-up must be shorter than --duration, which includes it');
    if (opts.rate / opts.sockets > 1000 / CALIBRATE_MIN_GAP_MS)
      usage(
        `--rate ${opts.rate} over ${opts.sockets} sockets sends each socket a call every ${((1000 * opts.sockets) / opts.rate).toFixed(1)} ms; give at least ${CALIBRATE_MIN_GAP_MS} ms each (more --sockets or a lower --rate)`,
      );
    const capacity = fleetCapacity('ws://127.0.0.1/');
    if (opts.sockets > capacity.maxChargers)
      usage(`--sockets ${opts.sockets} is more than this process can hold (${capacity.maxChargers}). ${capacity.explanation}`);
    const result = await measureTransportFloor({
      sockets: opts.sockets,
      callsPerSec: opts.rate,
      durationMs: opts.duration,
      warmUpMs: opts.warmUp,
      server: opts.server,
    });
    process.stdout.write(`${opts.json ? JSON.stringify(result, null, 2) : formatFloor(result)}\n`);
  });

program
  .command('quote')
  .description('price one session (OCPI tariff + charging periods) with the back end engine; prints the OCPI cost breakdown')
  .option('--tariff <file>', 'OCPI 2.2.1 tariff JSON')
  .option('--session <file>', 'session JSON: start_date_time, end_date_time, time_zone, charging_periods')
  .action((opts: { tariff?: string; session?: string }) => {
    process.exitCode = runQuoteCommand(opts);
  });

const report = program.command('report').description('work with finished runs');
report
  .command('compare')
  .description('compare two summary.json files; exit 1 if B regressed beyond the tolerance')
  .argument('<a>', 'baseline summary.json')
  .argument('<b>', 'candidate summary.json')
  .option('--tolerance <fraction>', 'allowed relative regression, e.g. 0.1 for 10 %', '0.1')
  .action((a: string, b: string, opts: { tolerance: string }) => {
    const tolerance = Number(opts.tolerance);
    if (!(tolerance >= 0)) usage('--tolerance must be a number >= 0, e.g. 0.1');
    const result = compareSummaries(readSummary(a), readSummary(b), { tolerance });
    process.stdout.write(`${formatComparison(result)}\n`);
    process.exitCode = result.regressions > 0 ? EXIT.failed : EXIT.passed;
  });

report
  .command('merge')
  .description('merge the results of the shards of one run (--shard i/n) into the result of the whole run; judges checks and thresholds on it')
  .argument('<results...>', "each shard's --report-dir, or its result.json")
  .option('--report-dir <dir>', 'where the merged summary.json, junit.xml, report.html and result.json go', 'reports/out/merged')
  .action(async (paths: string[], opts: { reportDir: string }) => {
    const inputs = [];
    for (const path of paths) inputs.push(await readRunResult(resolve(path)));
    const merged = mergeRunResults(inputs);
    const written = await writeReports(resolve(opts.reportDir), merged);
    process.stdout.write(`${formatTerminalSummary(merged.summary)}\n`);
    process.stdout.write(`merged ${inputs.length} shard result${inputs.length === 1 ? '' : 's'}; ${reportsLine(written)}\n`);
    process.exitCode = merged.summary.passed ? EXIT.passed : EXIT.failed;
  });

function readSummary(path: string): Summary {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Summary;
  } catch (err) {
    usage(`cannot read ${path}: ${(err as Error).message} (give the summary.json of a run)`);
  }
}

function reportsLine(w: { summaryPath: string; junitPath: string; htmlPath: string; resultPath?: string }): string {
  return `reports: ${[w.summaryPath, w.junitPath, w.htmlPath, w.resultPath].filter(Boolean).join(', ')}`;
}

/** --shard, else CHARGEBENCH_SHARD, validated: n > 1 needs --target (all shards drive one CSMS). */
function shardOption(flag: string | undefined, target: string | undefined, fleetChargers?: number): ShardSpec {
  let shard: ShardSpec;
  try {
    shard = shardFromOptions(flag);
  } catch (err) {
    if (err instanceof ShardSpecError) usage(err.message);
    throw err;
  }
  const problem = shardProblem(shard, target, fleetChargers);
  if (problem) usage(problem);
  return shard;
}

function checkTarget(target: string): void {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    usage(`--target ${target} is not a URL; write e.g. ws://127.0.0.1:8180/ocpp`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') usage(`--target must be a ws:// or wss:// URL, e.g. ws://127.0.0.1:8180/ocpp`);
}

class UsageError extends Error {}
function usage(message: string): never {
  throw new UsageError(message);
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.passed : EXIT.usage;
      return;
    }
    if (err instanceof UsageError || err instanceof ScenarioError || err instanceof ThresholdError || err instanceof ResultError) {
      process.stderr.write(`chargebench: ${err.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    if (err instanceof RunBrokenError) {
      process.stderr.write(`chargebench: the run broke: ${err.message}\n`);
      process.exitCode = EXIT.broken;
      return;
    }
    process.stderr.write(`chargebench: unexpected failure: ${(err as Error).stack ?? err}\n`);
    process.exitCode = EXIT.broken;
  }
}

await main();
