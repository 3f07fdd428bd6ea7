// The OCPI 2.2.1 tariff engine: prices one session with one tariff by the rules in
// shared/reference/ocpi-tariffs.md.
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
import { Dec, fourDecimals, plainDecimal, roundToMinorUnit, roundUpToStep, toDec } from './money.js';
import { isoInstant, parseInstantMs, ZoneClock } from './local-time.js';
import { compileRestrictions, restrictionsHold, splitPointsOf, type CompiledRestrictions, type RestrictionContext } from './restrictions.js';
import { splitSession, type Piece, type PieceKind } from './session-pieces.js';
import type {
  CostBreakdown, CostLine, Price, PriceComponent, PricingSession, ReservationRestrictionType, Tariff,
  TariffDimensionType,
} from './ocpi.js';

/** Costs are kept exactly as amount x 3,600,000 so that per-millisecond time costs need no division. */
const MS_PER_HOUR = new Dec(3_600_000);
const WH_PER_KWH = new Dec(1000);
const MS_PER_SECOND = new Dec(1000);

/** What a line is counted in: reservation time is TIME-priced but rounded and totalled on its own. */
type Bucket = 'ENERGY' | 'TIME' | 'PARKING_TIME' | 'RESERVATION_TIME' | 'FLAT' | 'RESERVATION_FLAT';

interface Selection {
  elementIndex: number;
  component: PriceComponent;
}

interface DraftLine {
  bucket: Bucket;
  startMs: Dec;
  endMs: Dec;
  /** kWh for ENERGY, milliseconds for time buckets, 1 for FLAT. */
  quantity: Dec;
  stepExtra: Dec;
  selection: Selection;
}

const DIMENSIONS_OF: Record<PieceKind, Bucket[]> = {
  CHARGING: ['ENERGY', 'TIME'],
  PARKING: ['ENERGY', 'PARKING_TIME'],
  RESERVATION: ['RESERVATION_TIME'],
};

const COMPONENT_TYPE_OF: Record<Bucket, TariffDimensionType> = {
  ENERGY: 'ENERGY', TIME: 'TIME', PARKING_TIME: 'PARKING_TIME', RESERVATION_TIME: 'TIME', FLAT: 'FLAT', RESERVATION_FLAT: 'FLAT',
};

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

function contextAt(piece: Piece, run: Run): RestrictionContext {
  const { clock, sessionStartMs } = run;
  return {
    local: () => clock.localMoment(piece.startMs.toNumber()),
    energySoFarKwh: piece.energyBeforeKwh,
    secondsSinceSessionStart: piece.startMs.minus(sessionStartMs).div(MS_PER_SECOND),
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
    if (previous && previous.piece.periodIndex === current.piece.periodIndex
      && buckets.every((b) => sameSelection(previous.selections[b], current.selections[b]))) {
      previous.piece = { ...previous.piece, endMs: current.piece.endMs, energyKwh: previous.piece.energyKwh.plus(current.piece.energyKwh) };
    } else {
      joined.push({ piece: { ...current.piece }, selections: current.selections });
    }
  }
  return joined;
}

function quantityOf(bucket: Bucket, piece: Piece): Dec {
  return bucket === 'ENERGY' ? piece.energyKwh : piece.endMs.minus(piece.startMs);
}

/**
 * step_size once per session and dimension, with the step of the last component used, the extra
 * billed on the dimension's last line. When charging time is followed by billed parking, only
 * the parking total is rounded and charging time is billed exactly.
 */
function applyStepSizes(lines: DraftLine[], pieces: Piece[]): void {
  const lastChargingEnd = pieces.filter((p) => p.kind === 'CHARGING').reduce<Dec | undefined>((end, p) => p.endMs, undefined);
  const parkingAfterCharging = lastChargingEnd !== undefined
    && lines.some((line) => line.bucket === 'PARKING_TIME' && line.startMs.gte(lastChargingEnd));
  const rounded: Bucket[] = ['ENERGY', 'PARKING_TIME', 'RESERVATION_TIME', ...(parkingAfterCharging ? [] : ['TIME' as const])];
  for (const bucket of rounded) {
    const ofBucket = lines.filter((line) => line.bucket === bucket);
    if (ofBucket.length === 0) continue;
    const last = ofBucket[ofBucket.length - 1];
    // Step units: Wh for ENERGY, seconds for time.
    const perStepUnit = bucket === 'ENERGY' ? WH_PER_KWH : MS_PER_SECOND;
    const total = ofBucket.reduce((sum, line) => sum.plus(line.quantity), new Dec(0));
    const totalInStepUnits = bucket === 'ENERGY' ? total.mul(perStepUnit) : total.div(perStepUnit);
    // step_size counts whole step units (1 Wh, 1 s): a step of 0 cannot bill less than one unit.
    const step = Math.max(1, last.selection.component.step_size);
    // Pieces cut inside a period carry interpolated quantities (thirds and the like) that sum back
    // to the period's exact total only up to the last of 60 digits; a whole number of Wh or s must
    // not become one more step because of that residue. Real fractions are far above 1e-20.
    const wholeTotal = totalInStepUnits.toDecimalPlaces(20, Dec.ROUND_HALF_UP);
    const extraInStepUnits = roundUpToStep(wholeTotal, new Dec(step)).minus(wholeTotal);
    last.stepExtra = bucket === 'ENERGY' ? extraInStepUnits.div(perStepUnit) : extraInStepUnits.mul(perStepUnit);
    last.quantity = last.quantity.plus(last.stepExtra);
  }
}

/** Cost excl. and incl. VAT, both times 3,600,000 (see MS_PER_HOUR). */
function scaledCost(line: DraftLine): { excl: Dec; incl: Dec } {
  const price = toDec(line.selection.component.price);
  const perHourUnits = line.bucket === 'ENERGY' || line.bucket === 'FLAT' || line.bucket === 'RESERVATION_FLAT'
    ? line.quantity.mul(MS_PER_HOUR)
    : line.quantity;
  const excl = perHourUnits.mul(price);
  const vat = line.selection.component.vat;
  return { excl, incl: vat === undefined ? excl : excl.mul(toDec(vat).plus(100)).div(100) };
}

function toCostLine(line: DraftLine, { excl, incl }: { excl: Dec; incl: Dec }): CostLine {
  const { component, elementIndex } = line.selection;
  const isTime = line.bucket === 'TIME' || line.bucket === 'PARKING_TIME' || line.bucket === 'RESERVATION_TIME';
  const costLine: CostLine = {
    dimension: COMPONENT_TYPE_OF[line.bucket],
    period_start: isoInstant(line.startMs.floor().toNumber()),
    quantity: plainDecimal(isTime ? line.quantity.div(MS_PER_HOUR) : line.quantity),
    unit_price: toDec(component.price).toFixed(),
    vat: component.vat === undefined ? null : toDec(component.vat).toFixed(),
    excl_vat: fourDecimals(excl.div(MS_PER_HOUR)),
    incl_vat: fourDecimals(incl.div(MS_PER_HOUR)),
    tariff_element: elementIndex,
  };
  if (line.bucket !== 'FLAT' && line.bucket !== 'RESERVATION_FLAT') costLine.period_end = isoInstant(line.endMs.floor().toNumber());
  if (!line.stepExtra.isZero()) costLine.step_extra = plainDecimal(isTime ? line.stepExtra.div(MS_PER_HOUR) : line.stepExtra);
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
    const exclEdge = toDec(limit.excl_vat);
    const inclEdge = toDec(limit.incl_vat ?? limit.excl_vat);
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
  const candidatesFor: Record<PieceKind, number[]> = {
    CHARGING: candidateElements(tariff, 'CHARGING', reservation),
    PARKING: candidateElements(tariff, 'PARKING', reservation),
    RESERVATION: candidateElements(tariff, 'RESERVATION', reservation),
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
    ...flatFee(run, 'FLAT', candidatesFor.CHARGING, pieces.filter((p) => p.kind !== 'RESERVATION')),
    ...(reservation ? flatFee(run, 'RESERVATION_FLAT', candidatesFor.RESERVATION, reservationFeePieces(pieces, sessionStartMs)) : []),
  ];
  const timedLines: DraftLine[] = joinIdenticallyPriced(priced).flatMap(({ piece, selections }) =>
    DIMENSIONS_OF[piece.kind].flatMap((bucket) => {
      const selection = selections[bucket];
      return selection && !quantityOf(bucket, piece).isZero()
        ? [{ bucket, startMs: piece.startMs, endMs: piece.endMs, quantity: quantityOf(bucket, piece), stepExtra: new Dec(0), selection }]
        : [];
    }));
  applyStepSizes(timedLines, pieces);
  const lines = [...flatLines, ...timedLines].sort((a, b) => a.startMs.cmp(b.startMs));

  const costs = new Map(lines.map((line) => [line, scaledCost(line)]));
  const sum = (buckets: Bucket[]) => lines
    .filter((line) => buckets.includes(line.bucket))
    .map((line) => costs.get(line)!)
    .reduce((total, cost) => ({ excl: total.excl.plus(cost.excl), incl: total.incl.plus(cost.incl) }), { excl: new Dec(0), incl: new Dec(0) });
  const subtotal = (buckets: Bucket[]) => {
    const { excl, incl } = sum(buckets);
    return { excl_vat: fourDecimals(excl.div(MS_PER_HOUR)), incl_vat: fourDecimals(incl.div(MS_PER_HOUR)) };
  };
  const all = sum(['ENERGY', 'TIME', 'PARKING_TIME', 'RESERVATION_TIME', 'FLAT', 'RESERVATION_FLAT']);
  const bounded = applyPriceLimits(all.excl.div(MS_PER_HOUR), all.incl.div(MS_PER_HOUR), tariff);

  // Session quantities: everything measured (free stretches included) plus step_size extras.
  const measured = (kinds: PieceKind[], bucket: Bucket, quantity: (p: Piece) => Dec) => pieces
    .filter((p) => kinds.includes(p.kind))
    .reduce((total, p) => total.plus(quantity(p)), new Dec(0))
    .plus(timedLines.filter((l) => l.bucket === bucket).reduce((total, l) => total.plus(l.stepExtra), new Dec(0)));
  const hours = (ms: Dec) => plainDecimal(ms.div(MS_PER_HOUR));

  const breakdown: CostBreakdown = {
    currency: tariff.currency,
    total_cost: { excl_vat: roundToMinorUnit(bounded.excl, tariff.currency), incl_vat: roundToMinorUnit(bounded.incl, tariff.currency) },
    total_fixed_cost: subtotal(['FLAT']),
    total_energy: plainDecimal(measured(['CHARGING', 'PARKING'], 'ENERGY', (p) => p.energyKwh)),
    total_energy_cost: subtotal(['ENERGY']),
    total_time: hours(measured(['CHARGING'], 'TIME', (p) => p.endMs.minus(p.startMs))),
    total_time_cost: subtotal(['TIME']),
    total_parking_time: hours(measured(['PARKING'], 'PARKING_TIME', (p) => p.endMs.minus(p.startMs))),
    total_parking_cost: subtotal(['PARKING_TIME']),
    total_reservation_cost: subtotal(['RESERVATION_TIME', 'RESERVATION_FLAT']),
    lines: lines.map((line) => toCostLine(line, costs.get(line)!)),
    tariff_id: tariff.id,
  };
  if (bounded.limits) breakdown.price_limit_applied = bounded.limits;
  return breakdown;
}

/** The reservation fee is judged at the first reservation piece, or at the session start without one. */
function reservationFeePieces(pieces: Piece[], sessionStartMs: number): Piece[] {
  const reservationPieces = pieces.filter((p) => p.kind === 'RESERVATION');
  if (reservationPieces.length > 0) return reservationPieces;
  const start = new Dec(sessionStartMs);
  return [{ startMs: start, endMs: start, kind: 'RESERVATION', energyKwh: new Dec(0), energyBeforeKwh: new Dec(0), power: {}, current: {}, periodIndex: -1 }];
}

/**
 * FLAT is charged once: at the earliest piece where some element's FLAT component matches, the
 * first such element in list order.
 */
function flatFee(run: Run, bucket: 'FLAT' | 'RESERVATION_FLAT', candidates: number[], pieces: Piece[]): DraftLine[] {
  for (const piece of pieces) {
    const selection = selectComponent(run, candidates, 'FLAT', contextAt(piece, run));
    if (selection) return [{ bucket, startMs: piece.startMs, endMs: piece.startMs, quantity: new Dec(1), stepExtra: new Dec(0), selection }];
  }
  return [];
}
