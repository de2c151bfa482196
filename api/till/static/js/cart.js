// cart.js — the sale being rung up: lines, totals and payment. It is kept
// in localStorage after every change, so a reload loses nothing, and it
// remembers the idempotency key of its sale once the cashier has pressed
// Complete sale (the key is saved here before the sale is stored or sent).
import { lineAmount, qtyJSON, QTY } from './money.js';

const KEY = 'posd.cart';

export class Cart {
  constructor(storage = globalThis.localStorage) {
    this.storage = storage;
    this.lines = [];
    this.method = 'cash'; // cash | card | split
    this.cashGiven = null; // minor units, null: exact
    this.cardAmount = null; // split only
    this.intentKey = null;
    this.load();
  }
  load() {
    try {
      const v = JSON.parse(this.storage.getItem(KEY) || 'null');
      if (v) Object.assign(this, { lines: v.lines || [], method: v.method || 'cash', cashGiven: v.cashGiven ?? null, cardAmount: v.cardAmount ?? null, intentKey: v.intentKey || null });
    } catch {
      /* a damaged cart starts empty */
    }
  }
  save() {
    const { lines, method, cashGiven, cardAmount, intentKey } = this;
    this.storage.setItem(KEY, JSON.stringify({ lines, method, cashGiven, cardAmount, intentKey }));
  }
  /** changed forgets the sale's key: a changed cart is a new intent. */
  changed() {
    this.intentKey = null;
    this.save();
  }
  add(p, qty = QTY) {
    const l = this.lines.find((x) => x.productId === p.id && x.unitPrice === p.price);
    if (l) l.qty += qty;
    else this.lines.push({ productId: p.id, sku: p.sku, name: p.name, unitPrice: p.price, qty });
    this.changed();
  }
  setQty(i, q) {
    this.lines[i].qty = q;
    this.changed();
  }
  remove(i) {
    this.lines.splice(i, 1);
    this.changed();
  }
  clear() {
    Object.assign(this, { lines: [], method: 'cash', cashGiven: null, cardAmount: null, intentKey: null });
    this.save();
  }
  get total() {
    return this.lines.reduce((s, l) => s + lineAmount(l.unitPrice, l.qty), 0);
  }
  /**
   * payment works out the tenders. It returns {payments, change, paid, ok,
   * problem}: problem is a sentence for the cashier when ok is false.
   */
  payment() {
    const total = this.total;
    if (!this.lines.length) return { ok: false, problem: 'Add a product to start a sale.', payments: [], change: 0, paid: 0 };
    let payments;
    if (this.method === 'card') payments = [{ method: 'card', amount: total }];
    else if (this.method === 'cash') payments = [{ method: 'cash', amount: this.cashGiven ?? total }];
    else {
      const card = this.cardAmount ?? 0;
      if (card > total) return { ok: false, problem: 'The card part is more than the total.', payments: [], change: 0, paid: card };
      const rest = total - card;
      const cash = this.cashGiven ?? rest;
      payments = [
        { method: 'card', amount: card },
        { method: 'cash', amount: cash },
      ].filter((p) => p.amount > 0);
    }
    const paid = payments.reduce((s, p) => s + p.amount, 0);
    if (total > 0 && paid < total) return { ok: false, problem: 'The payment does not cover the total yet.', payments, change: 0, paid };
    if (!payments.length) payments = [{ method: 'cash', amount: 0 }];
    return { ok: payments.every((p) => p.amount > 0), problem: payments.every((p) => p.amount > 0) ? '' : 'Nothing to pay.', payments, change: paid - total, paid };
  }
  /** request is the body of POST /api/sales for this cart. Prices are the
   * ones the customer saw on the till, even if posd changed them meanwhile. */
  request(locationId) {
    return {
      locationId,
      items: this.lines.map((l) => ({ productId: l.productId, quantity: qtyJSON(l.qty), unitPrice: l.unitPrice })),
      payments: this.payment().payments,
    };
  }
}
