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

/**
 * qtyOf reads a quantity posd wrote (a JSON number with at most 3 decimals,
 * such as 0.25) into thousandths; 0 for a missing one. The product is
 * rounded because 0.001 × 1000 is not exactly 1 in binary floating point.
 */
export function qtyOf(n) {
  return n ? Math.round(Number(n) * QTY) : 0;
}

/** lineAmount is price × quantity rounded half up, exactly as posd does. */
export function lineAmount(unitPrice, q) {
  return Number((BigInt(unitPrice) * BigInt(q) + BigInt(QTY / 2)) / BigInt(QTY));
}

/** mulDivRound is a × b / c rounded half up, in integers (posd's engine/money.go). */
function mulDivRound(a, b, c) {
  return Number((BigInt(a) * BigInt(b) * 2n + BigInt(c)) / (2n * BigInt(c)));
}

/**
 * refundAmounts works out a refund exactly as posd does: want maps a
 * product ID to the thousandths to refund; each product is taken from the
 * sale's lines in order, as far as each still holds it, and a line pays
 * back the difference between its rounded share after and before this
 * refund, so that refunding a line in several steps pays exactly its line
 * total in the end. items are the sale's lines as posd answers them.
 * It returns the total and, per line touched, {index, qty, amount}.
 */
export function refundAmounts(items, want) {
  const lines = [];
  let total = 0;
  for (const [pid, q] of want) {
    let left = q;
    items.forEach((l, index) => {
      if (l.productId !== pid || left === 0) return;
      const qty = qtyOf(l.quantity);
      const done = qtyOf(l.refundedQuantity);
      const take = Math.min(left, qty - done);
      if (take <= 0) return;
      const amount = mulDivRound(l.lineTotal, done + take, qty) - (l.refundedAmount || 0);
      lines.push({ index, qty: take, amount });
      total += amount;
      left -= take;
    });
  }
  return { total, lines };
}
