/**
 * `npm run simulate -- [options]`: the options, their defaults and their checks. A bad
 * argument is a UsageError (one line on stderr, exit code 2).
 */
import { TRAINING_GROUPS } from '../../aggregator/src/training/index.ts';
import { UsageError } from './data/errors.ts';
import { MOVIELENS_IN_REPO_DIR } from './data/movielens.ts';
import type { DatasetName } from './population.ts';
import type { Mode } from './round.ts';

export interface SimOptions {
  dataset: DatasetName;
  dataDir: string | null;
  clients: number;
  k: number;
  epsilon: number;
  delta: number;
  rounds: number;
  seed: number;
  dropout: number;
  mode: Mode;
  groups: number;
  candidates: number;
  candidateRounds: number;
  /** Each round's share of ρ is this many times the previous round's (the last round's doubled on top). */
  roundGrowth: number;
  restarts: number;
  reportEpsilon: number;
  json: boolean;
  exportFeatures: string | null;
  exportAssignments: string | null;
  report: string | null;
  viaHttp: string | null;
  token: string | null;
  /** Devices whose weekly counts report takes the real Prio3 path (shard, HPKE, both aggregators' prepare and verify): secure mode only; 0 = none. */
  prio3Sample: number;
  help: boolean;
}

export const USAGE = `npm run simulate -- [options]

  --dataset movielens|synthetic   source of the devices (default movielens)
  --data-dir DIR                  MovieLens-format folder (ratings.csv, movies.csv; tags.csv optional;
                                  default sim/data/movielens-latest-small, shipped in the repository)
  --clients N                     simulated devices (default 10000)
  --k K                           segments (default 8)
  --epsilon E                     total ε per device for the whole training (default 1)
  --delta D                       δ of the whole training (default 1e-9)
  --rounds R                      federated rounds (default 10; 1 with --via-http)
  --seed S                        seed of every draw (default 1)
  --dropout P                     share of devices missing from each round (default 0)
  --mode secure|local             two aggregators (default) or noise on each device
  --groups G                      device groups per slice, combined by median (default ${TRAINING_GROUPS}, the Worker's: one sum per
                                  slice, each report's influence bounded by its Prio3 proof)
  --candidates C                  candidate starts on disjoint slices (default 4; 1 with --rounds 1)
  --candidate-rounds R            rounds before the best candidate is kept (default 3)
  --round-growth W                each round gets W times the previous round's ρ (default 1.4: early rounds only need the clusters' rough place; the last ones set the released centroids)
  --restarts N                    k-means++ seedings of the non-private baseline (default 10)
  --report-epsilon E              ε of each randomized segment report (default 2)
  --json                          one JSON object on stdout
  --export-features FILE.csv      the standardised feature matrix
  --export-assignments FILE.csv   device,private,nonPrivate
  --report FILE.html              self-contained HTML report (runs the ε sweep in both modes)
  --prio3-sample N                secure mode: N devices' reports take the real path (Prio3 shard with proof,
                                  HPKE, both aggregators' prepare and verify, checked to add up; a k-means report
                                  for every 50th of them); the others the fast share path (default 1000; 0 = none)
  --via-http URL                  send reports and contributions through a running stack
  --token T                       admin token for --via-http (default: minted from .dev.vars)
  --help                          this text`;

const FLAGS = new Set(['json', 'help']);
const VALUED = new Set(['dataset', 'data-dir', 'clients', 'k', 'epsilon', 'delta', 'rounds', 'seed', 'dropout', 'mode', 'groups', 'candidates', 'candidate-rounds', 'round-growth', 'restarts', 'report-epsilon', 'export-features', 'export-assignments', 'report', 'via-http', 'token', 'prio3-sample']);

function number(name: string, raw: string, check: (x: number) => boolean, what: string): number {
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`--${name}: ${what}, got ${JSON.stringify(raw)}`);
  return x;
}

const int = (lo: number, hi: number) => (x: number) => Number.isInteger(x) && x >= lo && x <= hi;

/**
 * Parses the CLI arguments (after `--`).
 *
 * @example
 * parseSimArgs(['--dataset', 'synthetic', '--clients', '2000', '--json'])
 */
export function parseSimArgs(argv: readonly string[]): SimOptions {
  const o: SimOptions = {
    dataset: 'movielens',
    dataDir: null,
    clients: 10_000,
    k: 8,
    epsilon: 1,
    delta: 1e-9,
    rounds: 10,
    seed: 1,
    dropout: 0,
    mode: 'secure',
    groups: TRAINING_GROUPS,
    candidates: 4,
    candidateRounds: 3,
    roundGrowth: 1.4,
    restarts: 10,
    reportEpsilon: 2,
    json: false,
    exportFeatures: null,
    exportAssignments: null,
    report: null,
    viaHttp: null,
    token: null,
    prio3Sample: 1000,
    help: false,
  };
  let candidatesGiven = false;
  let roundsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (try --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    if (FLAGS.has(name)) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      if (name === 'json') o.json = true;
      else o.help = true;
      continue;
    }
    if (!VALUED.has(name)) throw new UsageError(`unknown option --${name} (try --help)`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    switch (name) {
      case 'dataset':
        if (value !== 'movielens' && value !== 'synthetic') throw new UsageError(`--dataset: must be movielens or synthetic, got ${JSON.stringify(value)}`);
        o.dataset = value;
        break;
      case 'data-dir':
        o.dataDir = value;
        break;
      case 'clients':
        o.clients = number(name, value, int(10, 10_000_000), 'must be an integer in [10, 10000000]');
        break;
      case 'k':
        o.k = number(name, value, int(2, 64), 'must be an integer in [2, 64]');
        break;
      case 'epsilon':
        o.epsilon = number(name, value, (x) => x > 0 && x <= 100, 'must be a number in (0, 100]');
        break;
      case 'delta':
        o.delta = number(name, value, (x) => x >= 1e-15 && x <= 1e-3, 'must be in [1e-15, 1e-3]');
        break;
      case 'rounds':
        roundsGiven = true;
        o.rounds = number(name, value, int(1, 200), 'must be an integer in [1, 200]');
        break;
      case 'seed':
        o.seed = number(name, value, int(0, 2 ** 32 - 1), 'must be an integer in [0, 2^32)');
        break;
      case 'dropout':
        o.dropout = number(name, value, (x) => x >= 0 && x < 1, 'must be a number in [0, 1)');
        break;
      case 'mode':
        if (value !== 'secure' && value !== 'local') throw new UsageError(`--mode: must be secure or local, got ${JSON.stringify(value)}`);
        o.mode = value;
        break;
      case 'groups':
        o.groups = number(name, value, int(1, 64), 'must be an integer in [1, 64]');
        break;
      case 'candidates':
        o.candidates = number(name, value, int(1, 16), 'must be an integer in [1, 16]');
        candidatesGiven = true;
        break;
      case 'candidate-rounds':
        o.candidateRounds = number(name, value, int(1, 100), 'must be an integer in [1, 100]');
        break;
      case 'round-growth':
        o.roundGrowth = number(name, value, (x) => Number.isFinite(x) && x >= 1 && x <= 4, 'must be a number in [1, 4]');
        break;
      case 'restarts':
        o.restarts = number(name, value, int(1, 100), 'must be an integer in [1, 100]');
        break;
      case 'prio3-sample':
        o.prio3Sample = number(name, value, int(0, 1_000_000), 'must be an integer in [0, 1000000]');
        break;
      case 'report-epsilon':
        o.reportEpsilon = number(name, value, (x) => x >= 0.01 && x <= 20, 'must be a number in [0.01, 20]');
        break;
      case 'export-features':
        o.exportFeatures = value;
        break;
      case 'export-assignments':
        o.exportAssignments = value;
        break;
      case 'report':
        o.report = value;
        break;
      case 'via-http':
        if (!/^https?:\/\/[^\s]+$/.test(value)) throw new UsageError(`--via-http: must be an http(s) URL, got ${JSON.stringify(value)}`);
        o.viaHttp = value.replace(/\/+$/, '');
        break;
      case 'token':
        o.token = value;
        break;
      default:
        throw new UsageError(`unknown option --${name} (try --help)`);
    }
  }
  // The copy in the repository, so a fresh clone runs with nothing beside it.
  if (o.dataset === 'movielens' && o.dataDir === null) o.dataDir = MOVIELENS_IN_REPO_DIR;
  // Over HTTP every device seals with HPKE and posts each round (about 10 ms a device
  // here): one round by default, so `--via-http URL --clients 5000` takes a minute, not ten.
  if (o.viaHttp !== null && !roundsGiven) o.rounds = 1;
  // One round leaves no room for a candidate phase: by default there is none then.
  if (!candidatesGiven && o.rounds < 2) o.candidates = 1;
  if (o.candidates > 1 && o.rounds < 2) throw new UsageError('--rounds: candidate starts need at least 2 rounds (or --candidates 1)');
  if (o.clients < o.k) throw new UsageError(`--clients ${o.clients} is fewer than --k ${o.k}`);
  return o;
}
