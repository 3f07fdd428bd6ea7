// `chargebench quote`: price one session described in JSON (an OCPI tariff plus a session with
// charging periods) and print the OCPI cost breakdown. Everything a user wrote is validated
// first; problems come back as QuoteInputError naming the field, e.g.
// `session.charging_periods[1].dimensions[0].volume`.
import { readFileSync } from 'node:fs';
import { isValidTimeZone, parseInstantMs } from './local-time.js';
import { toDec } from './money.js';
import type { CdrDimensionType, CostBreakdown, PricingSession, Tariff } from './ocpi.js';
import { priceSession } from './pricing.js';
import { FieldReader, readTariff, withoutNulls } from './tariff-validation.js';

export class QuoteInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Exit code for invalid input (README, Run: 2 = bad usage). */
export const QUOTE_INVALID_INPUT_EXIT_CODE = 2;

const CDR_DIMENSION_TYPES: CdrDimensionType[] = [
  'CURRENT',
  'ENERGY',
  'ENERGY_EXPORT',
  'ENERGY_IMPORT',
  'MAX_CURRENT',
  'MIN_CURRENT',
  'MAX_POWER',
  'MIN_POWER',
  'PARKING_TIME',
  'POWER',
  'RESERVATION_TIME',
  'STATE_OF_CHARGE',
  'TIME',
];
/** A period's hours may be rounded to 0.0005 h (1.8 s) and still agree with its clock length. */
const TIME_VOLUME_TOLERANCE_SECONDS = 1.8;

const throwQuoteError = (field: string, message: string): never => {
  throw new QuoteInputError(field, message);
};

export function validateQuoteTariff(tariffJson: unknown): Tariff {
  return readTariff(FieldReader.root(tariffJson, 'tariff', throwQuoteError));
}

/** Check a session as `quote` takes it: the periods must cover the session in order, without gaps. */
export function validateQuoteSession(sessionJson: unknown): PricingSession {
  const session = FieldReader.root(sessionJson, 'session', throwQuoteError);
  const startMs = parseInstantMs(session.instant('start_date_time'));
  const endMs = parseInstantMs(session.instant('end_date_time'));
  if (endMs < startMs) session.error('end_date_time', 'must not be earlier than start_date_time');
  const zone = session.string('time_zone', { expected: 'an IANA time zone like "Europe/Berlin"' });
  if (!isValidTimeZone(zone))
    session.error('time_zone', `unknown IANA time zone ${JSON.stringify(zone)}; use a name like "Europe/Berlin" or "America/New_York"`);
  if (session.has('reservation')) session.oneOf('reservation', ['RESERVATION', 'RESERVATION_EXPIRES']);

  const periods = session.array('charging_periods', { nonEmpty: true });
  const starts = periods.map((raw, i) => parseInstantMs(session.item('charging_periods', i, raw).instant('start_date_time')));
  // Order first: a period's length (for the TIME check) is only meaningful once the order is right.
  periods.forEach((raw, i) => {
    const period = session.item('charging_periods', i, raw);
    if (i === 0 && starts[0] !== startMs)
      period.error('start_date_time', 'the first period must start at the session start_date_time (periods cover the session without gaps)');
    if (i > 0 && starts[i] <= starts[i - 1])
      period.error('start_date_time', `must be later than charging_periods[${i - 1}].start_date_time (periods are in time order)`);
    if (starts[i] >= endMs && endMs > startMs) period.error('start_date_time', 'must be before the session end_date_time');
  });
  periods.forEach((raw, i) => {
    const periodEnd = i + 1 < starts.length ? starts[i + 1] : endMs;
    readDimensions(session.item('charging_periods', i, raw), (periodEnd - starts[i]) / 1000);
  });
  return withoutNulls(session.data()) as unknown as PricingSession;
}

function readDimensions(period: FieldReader, lengthSeconds: number): void {
  const seen = new Map<string, number>();
  const volumes = new Map<string, ReturnType<typeof toDec>>();
  period.array('dimensions', { nonEmpty: true }).forEach((raw, i) => {
    const dimension = period.item('dimensions', i, raw);
    const type = dimension.oneOf('type', CDR_DIMENSION_TYPES);
    const volume = dimension.decimal('volume');
    if (seen.has(type)) dimension.error('type', `${type} appears twice in this period (also at dimensions[${seen.get(type)}])`);
    seen.set(type, i);
    volumes.set(type, toDec(volume));
    if (type === 'TIME' || type === 'PARKING_TIME' || type === 'RESERVATION_TIME') {
      const seconds = toDec(volume).mul(3600);
      if (seconds.minus(lengthSeconds).abs().gt(TIME_VOLUME_TOLERANCE_SECONDS)) {
        dimension.error(
          'volume',
          `${type} of ${volume} h (${seconds.toDecimalPlaces(1).toFixed()} s) does not match the period's length of ${lengthSeconds} s ` +
            "(from its start_date_time to the next period's, or to the session end); time is billed by the clock",
        );
      }
    }
  });
  const positive = (type: string) => volumes.get(type)?.gt(0) ?? false;
  if (positive('TIME') && positive('PARKING_TIME')) {
    period.error('dimensions', 'a period is either charging (TIME) or parking (PARKING_TIME), not both; split it into two periods');
  }
}

/** Validate both inputs and price the session with the back end's engine. */
export function quote(tariffJson: unknown, sessionJson: unknown): CostBreakdown {
  return priceSession(validateQuoteTariff(tariffJson), validateQuoteSession(sessionJson));
}

function readJsonFile(path: string, field: 'tariff' | 'session'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new QuoteInputError(field, `cannot read --${field} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QuoteInputError(field, `--${field} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** `quote` on two JSON files. */
export function quoteFiles(tariffPath: string, sessionPath: string): CostBreakdown {
  return quote(readJsonFile(tariffPath, 'tariff'), readJsonFile(sessionPath, 'session'));
}

export interface QuoteCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * The whole `chargebench quote --tariff t.json --session s.json` command: prints the breakdown as
 * JSON and returns the exit code (0, or 2 for missing/invalid input). Other errors propagate.
 */
export function runQuoteCommand(options: { tariff?: string; session?: string }, io: QuoteCommandIo = process): number {
  if (!options.tariff || !options.session) {
    io.stderr.write('usage: chargebench quote --tariff tariff.json --session session.json\n');
    return QUOTE_INVALID_INPUT_EXIT_CODE;
  }
  try {
    io.stdout.write(`${JSON.stringify(quoteFiles(options.tariff, options.session), null, 2)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof QuoteInputError)) throw error;
    io.stderr.write(`chargebench quote: invalid input: ${error.message}\n`);
    return QUOTE_INVALID_INPUT_EXIT_CODE;
  }
}
