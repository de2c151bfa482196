// zreport.js — a Z (or X) report drawn as a document: the same figures on
// screen, on a 72 mm receipt printer and on A4 (print stylesheets
// zprint-72.css and zprint-a4.css, one switched on for the print). A Z is
// printed as the original once, when it is made; every later print is
// marked COPY, on the paper too.
import { S, money, when, locationName, tillName } from './state.js';
import { el, fill } from './views.js';

const METHOD = { cash: 'Cash (less change)', card: 'Card', voucher: 'Voucher', other: 'Other' };

const rows = (pairs) => pairs.map(([k, v, cls]) => el('tr', { class: cls || '' }, el('th', {}, k), el('td', { class: 'num' }, v)));

function section(title, ...kids) {
  return el('section', { class: 'zsec' }, el('h3', {}, title), ...kids);
}

function grid(head, body) {
  return el('table', { class: 'zgrid' }, el('thead', {}, el('tr', {}, head.map((h, i) => el('th', { class: i ? 'num' : '' }, h)))), el('tbody', {}, body));
}

function line(cells) {
  return el('tr', {}, cells.map((c, i) => el('td', { class: i ? 'num' : '' }, c)));
}

function cashierName(id) {
  if (!id) return '';
  const c = (S.cashiers || []).find((x) => x.id === id);
  return c ? c.name : '';
}

/**
 * zDocument draws report r: a Z (with zNumber) or an X. copy marks a
 * reprint. The element carries data-z (the number) and data-copy.
 */
export function zDocument(r, { copy = false } = {}) {
  const isZ = !!r.zNumber;
  const title = isZ ? `Z report ${r.zNumber}` : 'X report (not a closing)';
  const shifts = r.cash.shifts || [];
  return el(
    'article',
    { class: `zreport${copy ? ' copy' : ''}`, data: { z: r.zNumber || 'X', copy: String(copy) }, 'aria-label': title },
    copy ? el('p', { class: 'copy-mark', 'aria-label': 'This is a copy' }, 'COPY') : null,
    el('header', {}, el('h2', {}, S.me.business.name), el('p', {}, locationName(r.locationId)), el('p', { class: 'znum' }, title)),
    el(
      'table',
      { class: 'zkv' },
      rows([
        ['Business day', r.businessDay],
        [isZ ? 'Closed at' : 'Taken at', when(isZ ? r.createdAt : r.at)],
        ['Covers what arrived', `${r.from ? `from ${when(r.from)}` : 'since the start'} to ${when(r.to)}`],
        ['Previous Z', r.previous ? r.previous.zNumber : 'none'],
      ]),
    ),
    section(
      'Documents',
      r.series.length
        ? grid(['Series', 'First', 'Last', 'Count'], r.series.map((s) => line([s.series, s.first, s.last, String(s.count)])))
        : el('p', { class: 'hint' }, 'No sales or refunds.'),
    ),
    section(
      'Takings',
      el(
        'table',
        { class: 'zkv' },
        rows([
          [`Sales (${r.salesCount})`, money(r.gross)],
          [`Refunds (${r.refundsCount})`, money(-r.refunds)],
          ['Net', money(r.net), 'total'],
          ['Tax in sales', money(r.tax.sales)],
          ['Tax in refunds', money(-r.tax.refunds)],
          ['Net tax', money(r.tax.net)],
        ]),
      ),
    ),
    section('By payment method', grid(['Method', 'Sales', 'Refunds', 'Net'], r.byMethod.map((m) => line([METHOD[m.method] || m.method, money(m.sales), money(-m.refunds), money(m.net)])))),
    section(
      'Tax by rate',
      grid(
        ['Rate', 'Base', 'Tax', 'Gross'],
        [
          ...r.byTaxRate.sales.map((x) => line([`Sales ${x.rate} %`, money(x.base), money(x.tax), money(x.gross)])),
          ...r.byTaxRate.refunds.map((x) => line([`Refunds ${x.rate} %`, money(-x.base), money(-x.tax), money(-x.gross)])),
        ],
      ),
    ),
    section('By till', grid(['Till', 'Sales', 'Refunds', 'Net'], r.byTill.map((p) => line([p.name, money(p.gross), money(-p.refunds), money(p.net)])))),
    section('By cashier', grid(['Cashier', 'Sales', 'Refunds', 'Net'], r.byCashier.map((p) => line([p.name, money(p.gross), money(-p.refunds), money(p.net)])))),
    section(
      'Cash',
      shifts.length ? shifts.map(shiftBlock) : el('p', { class: 'hint' }, 'No shift closed or open since the previous Z.'),
      el(
        'table',
        { class: 'zkv' },
        rows([
          [`Cash outside any shift (${r.cash.outsideShifts.sales} sales, ${r.cash.outsideShifts.refunds} refunds)`, money(r.cash.outsideShifts.net)],
        ]),
      ),
    ),
    section(
      `Late arrivals (${r.lateArrivals.length})`,
      r.lateArrivals.length
        ? [
            el('p', { class: 'hint' }, 'Sold before the previous Z, received after it: counted here, with their own date.'),
            grid(['Document', 'Sold on', 'Received', 'Amount'], r.lateArrivals.map((l) => line([l.number, when(l.soldAt), when(l.createdAt), money(l.total)]))),
          ]
        : el('p', { class: 'hint' }, 'None.'),
    ),
    section(
      'Tills not reported',
      r.tillsNotReported.length
        ? [
            el('p', { class: 'warn' }, 'These tills may still hold sales: what they send later is in the next Z, as late arrivals.'),
            grid(['Till', 'Why', 'Last seen'], r.tillsNotReported.map((t) => line([t.name, t.reason, t.lastSeenAt ? when(t.lastSeenAt) : 'never']))),
          ]
        : el('p', { class: 'hint' }, 'Every till of the location had sent everything.'),
    ),
    section('Grand total (never resets)', el('table', { class: 'zkv' }, rows([['Sales', money(r.grandTotal.gross)], ['Refunds', money(-r.grandTotal.refunds)], ['Net', money(r.grandTotal.net), 'total']]))),
    r.seriesHeads.length || r.hash
      ? section(
          'Hash chain heads',
          [
            el('p', { class: 'hint' }, 'Keep this page: if a document up to these was changed afterwards, posd verify shows it.'),
            grid(
              ['Series', 'Last', 'Hash'],
              [
                ...r.seriesHeads.map((h) => line([h.series, h.number, el('code', { class: 'hash' }, h.hash)])),
                ...(r.hash ? [line(['This Z', r.zNumber, el('code', { class: 'hash' }, r.hash)]), line(['Previous Z', '', el('code', { class: 'hash' }, r.previousHash)])] : []),
              ],
            ),
          ],
        )
      : null,
    el('footer', {}, copy ? 'COPY — the original was printed when the day was closed.' : isZ ? 'posd · a Z report is never changed.' : 'posd · an X report closes nothing.'),
  );
}

function shiftBlock(sh) {
  const c = sh.cash;
  const closed = sh.status === 'closed';
  const who = (ev) => (ev && ev.cashierId ? cashierName(ev.cashierId) : '');
  return el(
    'div',
    { class: 'zshift', data: { shift: sh.id } },
    el('p', { class: 'zshift-head' }, `${tillName(sh.tillId) || 'Till'} · ${closed ? 'closed' : 'still open'} · opened ${when(sh.opened.at)}${who(sh.opened) ? ` by ${who(sh.opened)}` : ''}${closed ? `, closed ${when(sh.closed.at)}` : ''}`),
    el(
      'table',
      { class: 'zkv' },
      rows([
        ['Float', money(c.float)],
        ['Cash taken', money(c.cashSales)],
        ['Change given', money(-c.change)],
        ['Cash refunds', money(-c.cashRefunds)],
        ...sh.movements.map((m) => [`${m.type === 'pay_in' ? 'Paid in' : 'Paid out'}: ${m.reason}`, money(m.type === 'pay_in' ? m.amount : -m.amount)]),
        ['Expected', money(c.expected), 'total'],
        ...(closed
          ? [
              ['Counted', money(c.counted)],
              ['Difference', money(c.difference), c.difference < 0 ? 'short' : ''],
              ['Approved by', sh.closed.approvedBy ? sh.closed.approvedBy.name : sh.closed.needsApproval ? 'NOT APPROVED (over the limit)' : '—'],
            ]
          : []),
      ]),
    ),
  );
}

/** printReport prints doc on a 72 mm receipt ("72") or on A4 ("a4"). */
export function printReport(doc, size) {
  const area = document.getElementById('print-area') || document.body.appendChild(el('div', { id: 'print-area' }));
  fill(area, doc.cloneNode(true));
  for (const l of document.querySelectorAll('link[data-print]')) l.disabled = l.dataset.print !== size;
  document.body.dataset.printing = size;
  const done = () => {
    delete document.body.dataset.printing;
    fill(area);
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
  window.print();
}
