// money.js — money in integer minor units and quantities in thousandths,
// as posd stores them. No float ever touches an amount: parsing and
// formatting go through strings, sums through integers.

/** QTY is the number of quantity units in one item (posd's 3 decimals). */
export const QTY = 1000;

/** digitsOf returns the currency's minor-unit digits (EUR 2, JPY 0). */
export function digitsOf(currency) {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

function decimalString(n, digits) {
  const neg = n < 0;
  let s = String(Math.abs(n)).padStart(digits + 1, '0');
  if (digits > 0) s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return (neg ? '-' : '') + s;
}

/** Money formats minor units in one currency, the shop's way. */
export class Money {
  constructor(currency = 'EUR', locale = undefined) {
    this.currency = currency;
    this.digits = digitsOf(currency);
    try {
      this.nf = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      this.nf = new Intl.NumberFormat(locale, { minimumFractionDigits: this.digits, maximumFractionDigits: this.digits });
    }
  }
  /** format shows an integer amount of minor units, e.g. 1250 → €12.50. */
  format(minor) {
    return this.nf.format(decimalString(minor, this.digits));
  }
  /** plain shows an amount for an input box: 1250 → "12.50". */
  plain(minor) {
    return decimalString(minor, this.digits);
  }
  /** parse reads "12.50", "12,50" or "12" into minor units; null if it is not an amount. */
  parse(text) {
    const t = String(text).trim().replace(/\s/g, '').replace(',', '.');
    const m = /^(\d{1,13})(?:\.(\d*))?$/.exec(t);
    if (!m) return null;
    const frac = m[2] || '';
    if (frac.length > this.digits) return null;
    return Number(m[1]) * 10 ** this.digits + (frac ? Number(frac.padEnd(this.digits, '0')) : 0);
  }
}

/** parseQty reads "2", "0.25" or "0,25" into thousandths; null if not a positive quantity with ≤3 decimals. */
export function parseQty(text) {
  const t = String(text).trim().replace(',', '.');
  const m = /^(\d{1,7})(?:\.(\d{1,3}))?$/.exec(t);
  if (!m) return null;
  const q = Number(m[1]) * QTY + (m[2] ? Number(m[2].padEnd(3, '0')) : 0);
  return q > 0 && q <= 1e6 * QTY ? q : null;
}

/** qtyText writes thousandths as posd's JSON number text: 250 → "0.25". */
export function qtyText(q) {
  const whole = Math.floor(q / QTY);
  const frac = String(q % QTY).padStart(3, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** qtyJSON is the quantity as the number posd expects (exact for ≤3 decimals). */
export function qtyJSON(q) {
  return Number(qtyText(q));
}

/** lineAmount is price × quantity rounded half up, exactly as posd does. */
export function lineAmount(unitPrice, q) {
  return Number((BigInt(unitPrice) * BigInt(q) + 500n) / 1000n);
}
