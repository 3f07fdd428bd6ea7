// Exact rational numbers on bigint. The oracle splits an interval's integer Wh over whole
// seconds (e.g. 10 Wh over 3 s), which no finite decimal holds exactly; keeping fractions
// lets thirds recombine exactly before the single half-up rounding the rules prescribe.
import { Decimal } from 'decimal.js';

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

export class Rational {
  static readonly ZERO = new Rational(0n, 1n);
  static readonly ONE = new Rational(1n, 1n);

  private constructor(
    readonly num: bigint,
    /** Always positive. */
    readonly den: bigint,
  ) {}

  static of(num: bigint | number, den: bigint | number = 1n): Rational {
    let n = BigInt(num);
    let d = BigInt(den);
    if (d === 0n) throw new RangeError('Rational with zero denominator');
    if (d < 0n) [n, d] = [-n, -d];
    const g = gcd(n, d);
    return g > 1n ? new Rational(n / g, d / g) : new Rational(n, d);
  }

  /** Exact value of a decimal given as string or JSON number (via decimal.js, never float maths). */
  static fromDecimal(value: Decimal.Value): Rational {
    const d = new Decimal(value);
    if (!d.isFinite()) throw new RangeError(`not a finite decimal: ${String(value)}`);
    const [intPart, fracPart = ''] = d.toFixed().split('.');
    return Rational.of(BigInt(intPart + fracPart), 10n ** BigInt(fracPart.length));
  }

  add(o: Rational): Rational {
    return this.den === o.den ? Rational.of(this.num + o.num, this.den) : Rational.of(this.num * o.den + o.num * this.den, this.den * o.den);
  }
  sub(o: Rational): Rational {
    return this.add(o.neg());
  }
  mul(o: Rational): Rational {
    return Rational.of(this.num * o.num, this.den * o.den);
  }
  div(o: Rational): Rational {
    return Rational.of(this.num * o.den, this.den * o.num);
  }
  neg(): Rational {
    return new Rational(-this.num, this.den);
  }
  cmp(o: Rational): -1 | 0 | 1 {
    const l = this.num * o.den;
    const r = o.num * this.den;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  lt(o: Rational): boolean {
    return this.cmp(o) < 0;
  }
  isZero(): boolean {
    return this.num === 0n;
  }
  /** Smallest integer >= this. */
  ceil(): bigint {
    const q = this.num / this.den; // truncates toward zero
    return this.num > 0n && q * this.den !== this.num ? q + 1n : q;
  }
  max(o: Rational): Rational {
    return this.cmp(o) >= 0 ? this : o;
  }
  min(o: Rational): Rational {
    return this.cmp(o) <= 0 ? this : o;
  }

  /** Fixed-point string, rounded half-up (away from zero at exactly half, as Decimal.ROUND_HALF_UP). */
  toFixed(places: number): string {
    const scale = 10n ** BigInt(places);
    const abs = this.num < 0n ? -this.num : this.num;
    const scaled = (abs * scale * 2n + this.den) / (this.den * 2n);
    const digits = scaled.toString().padStart(places + 1, '0');
    const sign = this.num < 0n && scaled !== 0n ? '-' : '';
    return places === 0 ? sign + digits : `${sign}${digits.slice(0, -places)}.${digits.slice(-places)}`;
  }

  /** Rounded half-up to `places`, trailing zeros dropped ("20.5", "1", "0.75"). */
  toTrimmed(places: number): string {
    return new Decimal(this.toFixed(places)).toFixed();
  }
}
