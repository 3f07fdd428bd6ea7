// The OCPI 2.2.1 tariff engine: prices one session with one tariff by the OCPI 2.2.1 tariff
// rules, with the points the specification leaves open decided as docs/billing-rules.md says.
//
// How CostBreakdown.lines are emitted:
// - One FLAT line (quantity "1") for the session's start fee, at the start of the piece where it
//   matched; one more FLAT line, flagged `reservation`, for a reservation fee.
// - Then, in time order, one line per (piece, dimension) that a price component applies to, where
//   a piece is a charging period cut at restriction boundaries and then re-joined with its
//   neighbours in the same period when every dimension is priced by the same element. So a
//   period crossing 17:00 under a day/evening tariff yields two lines per dimension; a period
//   crossing a boundary no element cares about yields one. Within a piece: ENERGY, TIME,
//   PARKING_TIME. Reservation time is a TIME line flagged `reservation`.
// - A dimension that no element prices in a piece has no line there (it is free), nor has a
//   zero quantity (no energy in a parking piece, a zero-length period).
// - step_size rounding adds its extra quantity to the last line of that dimension (`step_extra`).
// - quantity: kWh, or hours with at most 10 decimals; excl_vat/incl_vat: unrounded, 4 decimals.
//   Totals are computed from exact values, never from these rounded line strings.
import { currencyMinorUnits, Dec, fourDecimals, plainDecimal, plainHours, quotientFixed, roundToMinorUnit, roundUpToStep, tariffDec } from './money.js';
import { isoInstant, parseInstantMs, ZoneClock, type LocalMoment } from './local-time.js';
import { compileRestrictions, restrictionsHold, splitPointsOf, type CompiledRestrictions, type RestrictionContext } from './restrictions.js';
import { msCmp, msDec, msFloor, msIsZero, msMinus, msOf, msToNumber, splitSession, type Ms, type Piece, type PieceKind } from './session-pieces.js';
import type {
  CostBreakdown,
  CostLine,
  Decimalish,
  Price,
  PriceComponent,
  PricingSession,
  ReservationRestrictionType,
  Tariff,
  TariffDimensionType,
} from './ocpi.js';

// How the arithmetic stays exact and cheap: every amount is a decimal (60 digits), but instants and
// durations are plain numbers while they are whole milliseconds (always, except where a kWh
// threshold cuts a period), which sum and subtract exactly below 2^53. Tariff numbers are parsed
// once per component, and each text is formatted once. Every shortcut gives the very result the
// general decimal computation gives; where that cannot be shown cheaply, the general path runs.

/** Costs are kept exactly as amount x 3,600,000 so that per-millisecond time costs need no division. */
const MS_PER_HOUR_NUMBER = 3_600_000;
const MS_PER_HOUR = new Dec(MS_PER_HOUR_NUMBER);
const WH_PER_KWH = new Dec(1000);
const MS_PER_SECOND = new Dec(1000);
const ZERO = new Dec(0);
const ONE = new Dec(1);
const ZERO_AMOUNT = fourDecimals(ZERO);

/** What a line is counted in: reservation time is TIME-priced but rounded and totalled on its own. */
type Bucket = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'RESERVATION_TIME' | 'FLAT' | 'RESERVATION_FLAT';

interface Selection {
  elementIndex: number;
  component: PriceComponent;
}

interface DraftLine {
  bucket: Bucket;
  startMs: Ms;
  endMs: Ms;
  /** kWh for ENERGY (a decimal), milliseconds for time buckets, 1 for FLAT (a decimal). */
  quantity: Ms;
  /** Same unit as `quantity`; 0 unless step_size rounding added to this line. */
  stepExtra: Ms;
  selection: Selection;
}

const DIMENSIONS_OF: Record<PieceKind, Bucket[]> = {
  CHARGING: ['ENERGY', 'TIME'],
  PARKING: ['ENERGY', 'PARKING_TIME'],
  RESERVATION: ['RESERVATION_TIME'],
};

const COMPONENT_TYPE_OF: Record<Bucket, TariffDimensionType> = {
  ENERGY: 'ENERGY',
  TIME: 'TIME',
  PARKING_TIME: 'PARKING_TIME',
  RESERVATION_TIME: 'TIME',
  FLAT: 'FLAT',
  RESERVATION_FLAT: 'FLAT',
};

const isTimeBucket = (bucket: Bucket) => bucket === 'TIME' || bucket === 'PARKING_TIME' || bucket === 'RESERVATION_TIME';
const isFlatBucket = (bucket: Bucket) => bucket === 'FLAT' || bucket === 'RESERVATION_FLAT';

/**
 * A price component's numbers, parsed and formatted once per component object (and again only
 * when its price or VAT is changed).
 */
interface CompiledComponent {
  rawPrice: Decimalish;
  rawVat: Decimalish | undefined;
  price: Dec;
  priceText: string;
  vatText: string | null;
  /**
   * (VAT + 100) / 100, so that incl = excl x inclFactor. That is excl x (VAT + 100) / 100 of
   * the rules to the last digit: rounding to 60 significant digits does not care about a factor
   * of 100, and dividing by 100 is exact.
   */
  inclFactor: Dec | undefined;
  /** Cost of a FLAT line (quantity 1) with this component, made on first use. */
  flat?: LineCost;
}

const compiledComponents = new WeakMap<PriceComponent, CompiledComponent>();

function compileComponent(component: PriceComponent): CompiledComponent {
  const known = compiledComponents.get(component);
  if (known !== undefined && known.rawPrice === component.price && known.rawVat === component.vat) return known;
  const price = tariffDec(component.price);
  const vat = component.vat === undefined ? undefined : tariffDec(component.vat);
  const compiled: CompiledComponent = {
    rawPrice: component.price,
    rawVat: component.vat,
    price,
    priceText: price.toFixed(),
    vatText: vat === undefined ? null : vat.toFixed(),
    inclFactor: vat === undefined ? undefined : vat.plus(100).div(100),
  };
  compiledComponents.set(component, compiled);
  return compiled;
}

/**
 * The tariff valid at an instant: start_date_time inclusive, end_date_time exclusive. Among several,
 * the one that became valid latest wins, then the latest last_updated, then the later in the list.
 */
export function tariffValidAt(tariffs: Tariff[], at: string): Tariff | undefined {
  const atMs = parseInstantMs(at);
  const msOr = (text: string | undefined, fallback: number) => (text === undefined ? fallback : parseInstantMs(text));
  let best: Tariff | undefined;
  for (const tariff of tariffs) {
    if (msOr(tariff.start_date_time, -Infinity) > atMs || msOr(tariff.end_date_time, Infinity) <= atMs) continue;
    if (best === undefined) {
      best = tariff;
      continue;
    }
    const byStart = msOr(tariff.start_date_time, -Infinity) - msOr(best.start_date_time, -Infinity);
    const byUpdate = msOr(tariff.last_updated, -Infinity) - msOr(best.last_updated, -Infinity);
    if (byStart > 0 || (byStart === 0 && byUpdate >= 0)) best = tariff;
  }
  return best;
}

/** Elements a piece may take components from: reservation elements only for reservation time. */
function candidateElements(tariff: Tariff, kind: PieceKind, reservation: ReservationRestrictionType | undefined): number[] {
  const indexes = tariff.elements.map((_, index) => index);
  if (kind !== 'RESERVATION') return indexes.filter((i) => tariff.elements[i].restrictions?.reservation === undefined);
  // An expired reservation is priced by RESERVATION_EXPIRES elements first, then by RESERVATION ones.
  const preference: ReservationRestrictionType[] = reservation === 'RESERVATION_EXPIRES' ? ['RESERVATION_EXPIRES', 'RESERVATION'] : ['RESERVATION'];
  return preference.flatMap((type) => indexes.filter((i) => tariff.elements[i].restrictions?.reservation === type));
}

/** What one pricing run needs at hand: the tariff with parsed restrictions, the session's clock. */
interface Run {
  tariff: Tariff;
  restrictions: (CompiledRestrictions | undefined)[];
  clock: ZoneClock;
  sessionStartMs: number;
  reservation: ReservationRestrictionType | undefined;
}

function selectComponent(run: Run, candidates: number[], type: TariffDimensionType, at: RestrictionContext): Selection | undefined {
  for (const elementIndex of candidates) {
    const component = run.tariff.elements[elementIndex].price_components.find((c) => c.type === type);
    if (component && restrictionsHold(run.restrictions[elementIndex], at)) return { elementIndex, component };
  }
  return undefined;
}

/** What restrictions see at a piece's start; the local time and the seconds are worked out when first asked. */
function contextAt(piece: Piece, run: Run): RestrictionContext {
  const { clock, sessionStartMs } = run;
  let local: LocalMoment | undefined;
  let seconds: Dec | undefined;
  return {
    local: () => (local ??= clock.localMoment(msToNumber(piece.startMs))),
    energySoFarKwh: piece.energyBeforeKwh,
    get secondsSinceSessionStart() {
      return (seconds ??= msDec(piece.startMs).minus(sessionStartMs).div(MS_PER_SECOND));
    },
    power: piece.power,
    current: piece.current,
  };
}

interface PricedPiece {
  piece: Piece;
  selections: Partial<Record<Bucket, Selection>>;
}

const sameSelection = (a?: Selection, b?: Selection) => a?.elementIndex === b?.elementIndex && a?.component === b?.component;

/** Re-join neighbouring pieces of one period that are priced identically (fewer, clearer lines). */
function joinIdenticallyPriced(priced: PricedPiece[]): PricedPiece[] {
  const joined: PricedPiece[] = [];
  for (const current of priced) {
    const previous = joined[joined.length - 1];
    const buckets = DIMENSIONS_OF[current.piece.kind];
    if (
      previous &&
      previous.piece.periodIndex === current.piece.periodIndex &&
      buckets.every((b) => sameSelection(previous.selections[b], current.selections[b]))
    ) {
      previous.piece = { ...previous.piece, endMs: current.piece.endMs, energyKwh: previous.piece.energyKwh.plus(current.piece.energyKwh) };
    } else {
      joined.push({ piece: { ...current.piece }, selections: current.selections });
    }
  }
  return joined;
}

function quantityOf(bucket: Bucket, piece: Piece): Ms {
  return bucket === 'ENERGY' ? piece.energyKwh : msMinus(piece.endMs, piece.startMs);
}

/**
 * A sum of whole milliseconds kept as a number while that is exact, switching to a decimal for
 * a fraction: the same value, summand by summand, as a decimal sum from 0 would have.
 */
function addMs(total: Ms, term: Ms): Ms {
  if (typeof total === 'number' && typeof term === 'number') {
    const sum = total + term;
    if (Number.isSafeInteger(sum)) return sum;
  }
  return msDec(total).plus(msDec(term));
}

/** What a step of `step` units adds to a whole number `total` of units; undefined when that needs decimals. */
function wholeStepExtra(total: number, step: number): number | undefined {
  if (!Number.isSafeInteger(total) || total < 0 || !Number.isSafeInteger(step) || step < 1) return undefined;
  const beyond = total % step;
  return beyond === 0 ? 0 : step - beyond;
}

/**
 * step_size once per session and dimension, with the step of the last component used, the extra
 * billed on the dimension's last line. When charging time is followed by billed parking, only
 * the parking total is rounded and charging time is billed exactly.
 */
function applyStepSizes(lines: DraftLine[], pieces: Piece[]): void {
  let lastChargingEnd: Ms | undefined;
  for (const piece of pieces) if (piece.kind === 'CHARGING') lastChargingEnd = piece.endMs;
  const parkingAfterCharging =
    lastChargingEnd !== undefined && lines.some((line) => line.bucket === 'PARKING_TIME' && msCmp(line.startMs, lastChargingEnd) >= 0);
  const rounded: Bucket[] = ['ENERGY', 'PARKING_TIME', 'RESERVATION_TIME', ...(parkingAfterCharging ? [] : ['TIME' as const])];
  for (const bucket of rounded) {
    let last: DraftLine | undefined;
    let count = 0;
    for (const line of lines) {
      if (line.bucket !== bucket) continue;
      last = line;
      count++;
    }
    if (last === undefined) continue;
    // step_size counts whole step units (1 Wh, 1 s): a step of 0 cannot bill less than one unit.
    const step = Math.max(1, last.selection.component.step_size);
    if (bucket === 'ENERGY') {
      // 0 + q is q itself: every line quantity is already a 60-digit result.
      let total = last.quantity as Dec;
      if (count > 1) {
        total = ZERO;
        for (const line of lines) if (line.bucket === bucket) total = total.plus(line.quantity);
      }
      const totalInStepUnits = total.mul(WH_PER_KWH);
      // Pieces cut inside a period carry interpolated quantities (thirds and the like) that sum back
      // to the period's exact total only up to the last of 60 digits; a whole number of Wh or s must
      // not become one more step because of that residue. Real fractions are far above 1e-20.
      const wholeTotal = totalInStepUnits.decimalPlaces() <= 20 ? totalInStepUnits : totalInStepUnits.toDecimalPlaces(20, Dec.ROUND_HALF_UP);
      // Whole Wh and a whole step: the extra is whole Wh too, worked out without decimals.
      const extraWh = wholeTotal.isInteger() ? wholeStepExtra(wholeTotal.toNumber(), step) : undefined;
      if (extraWh !== undefined) {
        last.stepExtra = extraWh === 0 ? ZERO : new Dec(extraWh).div(WH_PER_KWH);
      } else {
        const extraInStepUnits = roundUpToStep(wholeTotal, new Dec(step)).minus(wholeTotal);
        last.stepExtra = extraInStepUnits.div(WH_PER_KWH);
      }
      last.quantity = (last.quantity as Dec).plus(last.stepExtra);
      continue;
    }
    // Time in milliseconds: whole milliseconds and a whole number of seconds per step need no decimals.
    let total: Ms = 0;
    for (const line of lines) if (line.bucket === bucket) total = addMs(total, line.quantity);
    const extraMs =
      typeof total === 'number' && Number.isSafeInteger(step) && Number.isSafeInteger(step * 1000) ? wholeStepExtra(total, step * 1000) : undefined;
    if (extraMs !== undefined) {
      last.stepExtra = extraMs;
      last.quantity = addMs(last.quantity, extraMs);
      continue;
    }
    const totalInStepUnits = msDec(total).div(MS_PER_SECOND);
    const wholeTotal = totalInStepUnits.toDecimalPlaces(20, Dec.ROUND_HALF_UP);
    const extraInStepUnits = roundUpToStep(wholeTotal, new Dec(step)).minus(wholeTotal);
    last.stepExtra = extraInStepUnits.mul(MS_PER_SECOND);
    last.quantity = msDec(last.quantity).plus(last.stepExtra);
  }
}

/** Cost excl. and incl. VAT, both times 3,600,000 (see MS_PER_HOUR), and their 4-decimal texts once made. */
interface LineCost {
  excl: Dec;
  incl: Dec;
  exclText?: string;
  inclText?: string;
}

function scaledCost(line: DraftLine, component: CompiledComponent): LineCost {
  const { price, inclFactor } = component;
  if (isFlatBucket(line.bucket) && line.quantity === ONE) {
    // Every FLAT line has quantity 1, so its cost is the component's.
    if (component.flat === undefined) {
      const excl = MS_PER_HOUR.mul(price);
      component.flat = { excl, incl: inclFactor === undefined ? excl : excl.mul(inclFactor) };
    }
    return component.flat;
  }
  const excl = line.bucket === 'ENERGY' || isFlatBucket(line.bucket) ? (line.quantity as Dec).mul(MS_PER_HOUR).mul(price) : msDec(line.quantity).mul(price);
  return { excl, incl: inclFactor === undefined ? excl : excl.mul(inclFactor) };
}

/** The 4-decimal texts of a cost (made once: a FLAT component's cost is shared between sessions). */
function costTexts(cost: LineCost): { exclText: string; inclText: string } {
  cost.exclText ??= amountText(cost.excl);
  cost.inclText ??= cost.incl === cost.excl ? cost.exclText : amountText(cost.incl);
  return cost as { exclText: string; inclText: string };
}

/** `fourDecimals(scaled.div(MS_PER_HOUR))`: an amount x 3,600,000 as its 4-decimal text. */
function amountText(scaled: Dec): string {
  return quotientFixed(scaled, MS_PER_HOUR_NUMBER, 4);
}

/** Hours with at most 10 decimals from milliseconds. */
function hoursText(ms: Ms): string {
  return typeof ms === 'number' ? plainHours(ms) : plainDecimal(ms.div(MS_PER_HOUR));
}

function toCostLine(line: DraftLine, component: CompiledComponent, cost: LineCost): CostLine {
  const { elementIndex } = line.selection;
  const isTime = isTimeBucket(line.bucket);
  const { exclText, inclText } = costTexts(cost);
  const costLine: CostLine = {
    dimension: COMPONENT_TYPE_OF[line.bucket],
    period_start: isoInstant(msFloor(line.startMs)),
    quantity: isTime ? hoursText(line.quantity) : plainDecimal(line.quantity as Dec),
    unit_price: component.priceText,
    vat: component.vatText,
    excl_vat: exclText,
    incl_vat: inclText,
    tariff_element: elementIndex,
  };
  if (!isFlatBucket(line.bucket)) costLine.period_end = isoInstant(msFloor(line.endMs));
  if (!msIsZero(line.stepExtra)) costLine.step_extra = isTime ? hoursText(line.stepExtra) : plainDecimal(line.stepExtra as Dec);
  if (line.bucket.startsWith('RESERVATION')) costLine.reservation = true;
  return costLine;
}

/**
 * min_price / max_price bound excl. and incl. VAT each on its own (reference rule 8; OCPI 2.2.1
 * Tariff notes: "they both apply"). A limit without `incl_vat` names one amount with no VAT
 * figure, like a price component without `vat`: the same amount bounds the total incl. VAT.
 */
function applyPriceLimits(excl: Dec, incl: Dec, tariff: Tariff): { excl: Dec; incl: Dec; limits: CostBreakdown['price_limit_applied'] } {
  const limits: NonNullable<CostBreakdown['price_limit_applied']> = {};
  const bound = (limit: Price | undefined, kind: 'MIN_PRICE' | 'MAX_PRICE') => {
    if (!limit) return;
    const outside = (value: Dec, edge: Dec) => (kind === 'MIN_PRICE' ? value.lt(edge) : value.gt(edge));
    const exclEdge = tariffDec(limit.excl_vat);
    const inclEdge = tariffDec(limit.incl_vat ?? limit.excl_vat);
    if (outside(excl, exclEdge)) {
      excl = exclEdge;
      limits.excl_vat = kind;
    }
    if (outside(incl, inclEdge)) {
      incl = inclEdge;
      limits.incl_vat = kind;
    }
  };
  bound(tariff.min_price, 'MIN_PRICE');
  bound(tariff.max_price, 'MAX_PRICE');
  return { excl, incl, limits: Object.keys(limits).length > 0 ? limits : undefined };
}

/** Price one session with one OCPI tariff by the rules in the pricing reference. */
export function priceSession(tariff: Tariff, session: PricingSession): CostBreakdown {
  const sessionStartMs = parseInstantMs(session.start_date_time);
  const clock = new ZoneClock(session.time_zone, sessionStartMs, Math.max(sessionStartMs, parseInstantMs(session.end_date_time)));
  const pieces = splitSession(session, splitPointsOf(tariff), clock);
  const reservation = session.reservation ?? (pieces.some((p) => p.kind === 'RESERVATION') ? 'RESERVATION' : undefined);
  const run: Run = { tariff, restrictions: tariff.elements.map((e) => compileRestrictions(e.restrictions)), clock, sessionStartMs, reservation };
  // Charging and parking take the same elements; reservation elements matter only with a reservation.
  const notReserved = candidateElements(tariff, 'CHARGING', reservation);
  const candidatesFor: Record<PieceKind, number[]> = {
    CHARGING: notReserved,
    PARKING: notReserved,
    RESERVATION: reservation === undefined ? [] : candidateElements(tariff, 'RESERVATION', reservation),
  };

  const priced: PricedPiece[] = pieces.map((piece) => {
    const at = contextAt(piece, run);
    const selections: PricedPiece['selections'] = {};
    for (const bucket of DIMENSIONS_OF[piece.kind]) {
      const selection = selectComponent(run, candidatesFor[piece.kind], COMPONENT_TYPE_OF[bucket], at);
      if (selection) selections[bucket] = selection;
    }
    return { piece, selections };
  });

  const flatLines = [
    ...flatFee(
      run,
      'FLAT',
      candidatesFor.CHARGING,
      pieces.filter((p) => p.kind !== 'RESERVATION'),
    ),
    ...(reservation ? flatFee(run, 'RESERVATION_FLAT', candidatesFor.RESERVATION, reservationFeePieces(pieces, sessionStartMs)) : []),
  ];
  const timedLines: DraftLine[] = [];
  for (const { piece, selections } of joinIdenticallyPriced(priced)) {
    for (const bucket of DIMENSIONS_OF[piece.kind]) {
      const selection = selections[bucket];
      if (!selection) continue;
      const quantity = quantityOf(bucket, piece);
      if (!msIsZero(quantity)) timedLines.push({ bucket, startMs: piece.startMs, endMs: piece.endMs, quantity, stepExtra: 0, selection });
    }
  }
  applyStepSizes(timedLines, pieces);
  const lines = [...flatLines, ...timedLines];
  if (lines.length > 1) lines.sort((a, b) => msCmp(a.startMs, b.startMs));

  // Costs in line order (a malformed price or VAT fails at the first line that uses it); the sum
  // of all lines and those per bucket, each from 0 and in line order.
  const components = lines.map((line) => compileComponent(line.selection.component));
  const costs = lines.map((line, i) => scaledCost(line, components[i]));
  let allExcl = ZERO;
  let allIncl = ZERO;
  for (const cost of costs) {
    allExcl = allExcl.plus(cost.excl);
    allIncl = allIncl.plus(cost.incl);
  }
  const subtotal = (...buckets: Bucket[]) => {
    const ofBuckets = costs.filter((_, i) => buckets.includes(lines[i].bucket));
    if (ofBuckets.length === 0) return { excl_vat: ZERO_AMOUNT, incl_vat: ZERO_AMOUNT };
    if (ofBuckets.length === 1) {
      // The sum of one line is that line's cost (already a 60-digit result): its texts.
      const { exclText, inclText } = costTexts(ofBuckets[0]);
      return { excl_vat: exclText, incl_vat: inclText };
    }
    let excl = ZERO;
    let incl = ZERO;
    for (const cost of ofBuckets) {
      excl = excl.plus(cost.excl);
      incl = incl.plus(cost.incl);
    }
    return { excl_vat: amountText(excl), incl_vat: amountText(incl) };
  };
  // Without price limits the totals are only to be rounded: straight from the sums.
  const bounded = tariff.min_price || tariff.max_price ? applyPriceLimits(allExcl.div(MS_PER_HOUR), allIncl.div(MS_PER_HOUR), tariff) : undefined;
  const totalCost = () =>
    bounded
      ? { excl_vat: roundToMinorUnit(bounded.excl, tariff.currency), incl_vat: roundToMinorUnit(bounded.incl, tariff.currency) }
      : {
          excl_vat: quotientFixed(allExcl, MS_PER_HOUR_NUMBER, currencyMinorUnits(tariff.currency)),
          incl_vat: quotientFixed(allIncl, MS_PER_HOUR_NUMBER, currencyMinorUnits(tariff.currency)),
        };

  // Session quantities: everything measured (free stretches included) plus step_size extras.
  const measuredTime = (kind: PieceKind, bucket: Bucket): Ms => {
    let total: Ms = 0;
    for (const p of pieces) if (p.kind === kind) total = addMs(total, msMinus(p.endMs, p.startMs));
    let extras: Ms = 0;
    for (const l of timedLines) if (l.bucket === bucket) extras = addMs(extras, l.stepExtra);
    return addMs(total, extras);
  };
  let energy = ZERO;
  for (const p of pieces) if (p.kind !== 'RESERVATION') energy = energy.plus(p.energyKwh);
  let energyExtra = ZERO;
  for (const l of timedLines) if (l.bucket === 'ENERGY') energyExtra = energyExtra.plus(l.stepExtra);
  energy = energy.plus(energyExtra);

  const breakdown: CostBreakdown = {
    currency: tariff.currency,
    total_cost: totalCost(),
    total_fixed_cost: subtotal('FLAT'),
    total_energy: plainDecimal(energy),
    total_energy_cost: subtotal('ENERGY'),
    total_time: hoursText(measuredTime('CHARGING', 'TIME')),
    total_time_cost: subtotal('TIME'),
    total_parking_time: hoursText(measuredTime('PARKING', 'PARKING_TIME')),
    total_parking_cost: subtotal('PARKING_TIME'),
    total_reservation_cost: subtotal('RESERVATION_TIME', 'RESERVATION_FLAT'),
    lines: lines.map((line, i) => toCostLine(line, components[i], costs[i])),
    tariff_id: tariff.id,
  };
  if (bounded?.limits) breakdown.price_limit_applied = bounded.limits;
  return breakdown;
}

/** The reservation fee is judged at the first reservation piece, or at the session start without one. */
function reservationFeePieces(pieces: Piece[], sessionStartMs: number): Piece[] {
  const reservationPieces = pieces.filter((p) => p.kind === 'RESERVATION');
  if (reservationPieces.length > 0) return reservationPieces;
  const start = msOf(sessionStartMs);
  return [{ startMs: start, endMs: start, kind: 'RESERVATION', energyKwh: ZERO, energyBeforeKwh: ZERO, power: {}, current: {}, periodIndex: -1 }];
}

/**
 * FLAT is charged once: at the earliest piece where some element's FLAT component matches, the
 * first such element in list order.
 */
function flatFee(run: Run, bucket: 'FLAT' | 'RESERVATION_FLAT', candidates: number[], pieces: Piece[]): DraftLine[] {
  for (const piece of pieces) {
    const selection = selectComponent(run, candidates, 'FLAT', contextAt(piece, run));
    if (selection) return [{ bucket, startMs: piece.startMs, endMs: piece.startMs, quantity: ONE, stepExtra: 0, selection }];
  }
  return [];
}
