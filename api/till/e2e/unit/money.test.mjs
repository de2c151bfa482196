// The till's money rules against the engine's golden vectors
// (engine/testdata/money.json, also checked by engine/money_vectors_test.go):
// line amounts and refunds are worked out on the till exactly as posd does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { lineAmount, refundAmounts, qtyOf, parseQty, qtyText, qtyJSON, QTY, Money } from '../../static/js/money.js';

const V = JSON.parse(readFileSync(new URL('../../../../engine/testdata/money.json', import.meta.url), 'utf8'));

test('vectors: every section is there', () => {
  for (const k of ['lineAmount', 'includedTax', 'refunds']) assert.ok(V[k].length > 0, k);
});

test('vectors: lineAmount', () => {
  for (const c of V.lineAmount) assert.equal(lineAmount(c.unitPrice, qtyOf(c.quantity)), c.amount, `${c.unitPrice} × ${c.quantity}`);
});

test('vectors: refunds, step by step, as posd records them', () => {
  for (const c of V.refunds) {
    // The sale as posd answers it: lines with their totals, refunded amounts growing with each step.
    const items = c.lines.map((l) => ({ productId: l.product, quantity: l.quantity, unitPrice: l.unitPrice, lineTotal: lineAmount(l.unitPrice, qtyOf(l.quantity)), refundedQuantity: 0, refundedAmount: 0 }));
    assert.deepEqual(items.map((l) => l.lineTotal), c.lines.map((l) => l.lineTotal), `${c.name}: line totals`);
    c.steps.forEach((step, i) => {
      const want = new Map(step.items.map((it) => [it.product, qtyOf(it.quantity)]));
      const r = refundAmounts(items, want);
      assert.equal(r.total, step.total, `${c.name}: step ${i}`);
      for (const l of r.lines) {
        items[l.index].refundedQuantity = qtyJSON(qtyOf(items[l.index].refundedQuantity) + l.qty);
        items[l.index].refundedAmount += l.amount;
      }
    });
    for (const l of items) if (qtyOf(l.refundedQuantity) === qtyOf(l.quantity)) assert.equal(l.refundedAmount, l.lineTotal, `${c.name}: a fully refunded line pays back its total`);
  }
});

test('quantities: typed, written and read back without a float error', () => {
  assert.equal(parseQty('0.25'), 250);
  assert.equal(parseQty('0,25'), 250);
  assert.equal(parseQty('2'), 2 * QTY);
  for (const bad of ['abc', '-1', '0', '1.2345', '', '1e3', '0.000', '2O']) assert.equal(parseQty(bad), null, bad);
  for (let q = 1; q <= 3000; q += 7) {
    assert.equal(qtyOf(qtyJSON(q)), q, `${q}`);
    assert.equal(parseQty(qtyText(q)), q, `${q}`);
  }
  assert.equal(qtyOf(undefined), 0);
  assert.equal(qtyOf(0.001), 1);
});

test('money: typed amounts in minor units, never a float', () => {
  const m = new Money('EUR', 'en');
  assert.equal(m.parse('20'), 2000);
  assert.equal(m.parse('20.5'), 2050);
  assert.equal(m.parse('0,07'), 7);
  for (const bad of ['2O.00', '20.505', '-1', 'abc', '1e3']) assert.equal(m.parse(bad), null, bad);
  assert.equal(m.plain(1250), '12.50');
});
