// zreport.js — a Z (or X) report drawn as a document: the same figures on
// screen, on a 72 mm receipt printer and on A4 (print stylesheets
// zprint-72.css and zprint-a4.css, one switched on for the print). A Z is
// printed as the original once, when it is made; every later print is
// marked COPY, on the paper too.
import { S, money, when, locationName, tillName } from './state.js';
import { el, fill } from './views.js';

const METHOD = { cash: 'Cash (less change)', card: 'Card', voucher: 'Voucher', other: 'Other' };

const rows = (pairs) => pairs.map(([k, v, cls]) => el('tr', { class: cls || '' }, el('th', {}, k), el('td', { class: 'num' }, v)));

// A figure (an amount, a document number) is one unbreakable piece of text:
// the 72 mm receipt keeps each on one line (zprint-72.css).
const fig = (text) => el('span', { class: 'fig' }, text);
const amount = (minor) => fig(money(minor));

function section(title, ...kids) {
  return el('section', { class: 'zsec' }, el('h3', {}, title), ...kids);
}

/**
 * grid is a table of lines (arrays of cells) under head. kind names its
 * shape on the 72 mm receipt, which has no room for four columns of
 * document numbers (zprint-72.css): in "money" a row's name takes a line
 * and its three amounts the next; the others ("docs", "late", "tills",
 * "heads") are stacked, a line per cell labelled from its data-label. On
 * screen and on A4 every grid is the same table as before.
 */
function grid(kind, head, lines) {
  return el(
    'table',
    { class: `zgrid z-${kind}` },
    el('thead', {}, el('tr', {}, head.map((h, i) => el('th', { class: i ? 'num' : '' }, h)))),
    el('tbody', {}, lines.map((cells) => el('tr', {}, cells.map((c, i) => el('td', { class: i ? 'num' : '', data: { label: head[i] } }, c))))),
  );
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
        ['Previous Z', r.previous ? fig(r.previous.zNumber) : 'none'],
      ]),
    ),
    section(
      'Documents',
      r.series.length
        ? grid('docs', ['Series', 'First', 'Last', 'Count'], r.series.map((s) => [fig(s.series), fig(s.first), fig(s.last), fig(String(s.count))]))
        : el('p', { class: 'hint' }, 'No sales or refunds.'),
    ),
    section(
      'Takings',
      el(
        'table',
        { class: 'zkv' },
        rows([
          [`Sales (${r.salesCount})`, amount(r.gross)],
          [`Refunds (${r.refundsCount})`, amount(-r.refunds)],
          ['Net', amount(r.net), 'total'],
          ['Tax in sales', amount(r.tax.sales)],
          ['Tax in refunds', amount(-r.tax.refunds)],
          ['Net tax', amount(r.tax.net)],
        ]),
      ),
    ),
    section('By payment method', grid('money', ['Method', 'Sales', 'Refunds', 'Net'], r.byMethod.map((m) => [METHOD[m.method] || m.method, amount(m.sales), amount(-m.refunds), amount(m.net)]))),
    section(
      'Tax by rate',
      grid(
        'money',
        ['Rate', 'Base', 'Tax', 'Gross'],
        [
          ...r.byTaxRate.sales.map((x) => [`Sales ${x.rate} %`, amount(x.base), amount(x.tax), amount(x.gross)]),
          ...r.byTaxRate.refunds.map((x) => [`Refunds ${x.rate} %`, amount(-x.base), amount(-x.tax), amount(-x.gross)]),
        ],
      ),
    ),
    section('By till', grid('money', ['Till', 'Sales', 'Refunds', 'Net'], r.byTill.map((p) => [p.name, amount(p.gross), amount(-p.refunds), amount(p.net)]))),
    section('By cashier', grid('money', ['Cashier', 'Sales', 'Refunds', 'Net'], r.byCashier.map((p) => [p.name, amount(p.gross), amount(-p.refunds), amount(p.net)]))),
    section(
      'Cash',
      shifts.length ? shifts.map(shiftBlock) : el('p', { class: 'hint' }, 'No shift closed or open since the previous Z.'),
      el(
        'table',
        { class: 'zkv' },
        rows([
          [`Cash outside any shift (${r.cash.outsideShifts.sales} sales, ${r.cash.outsideShifts.refunds} refunds)`, amount(r.cash.outsideShifts.net)],
        ]),
      ),
    ),
    section(
      `Late arrivals (${r.lateArrivals.length})`,
      r.lateArrivals.length
        ? [
            el('p', { class: 'hint' }, 'Sold before the previous Z, received after it: counted here, with their own date.'),
            grid('late', ['Document', 'Sold on', 'Received', 'Amount'], r.lateArrivals.map((l) => [fig(l.number), when(l.soldAt), when(l.createdAt), amount(l.total)])),
          ]
        : el('p', { class: 'hint' }, 'None.'),
    ),
    section(
      'Tills not reported',
      r.tillsNotReported.length
        ? [
            el('p', { class: 'warn' }, 'These tills may still hold sales: what they send later is in the next Z, as late arrivals.'),
            grid('tills', ['Till', 'Why', 'Last seen'], r.tillsNotReported.map((t) => [t.name, t.reason, t.lastSeenAt ? when(t.lastSeenAt) : 'never'])),
          ]
        : el('p', { class: 'hint' }, 'Every till of the location had sent everything.'),
    ),
    section('Grand total (never resets)', el('table', { class: 'zkv' }, rows([['Sales', amount(r.grandTotal.gross)], ['Refunds', amount(-r.grandTotal.refunds)], ['Net', amount(r.grandTotal.net), 'total']]))),
    r.seriesHeads.length || r.hash
      ? section(
          'Hash chain heads',
          [
            el('p', { class: 'hint' }, 'Keep this page: if a document up to these was changed afterwards, posd verify shows it.'),
            grid(
              'heads',
              ['Series', 'Last', 'Hash'],
              [
                ...r.seriesHeads.map((h) => [fig(h.series), fig(h.number), el('code', { class: 'hash' }, h.hash)]),
                ...(r.hash ? [['This Z', fig(r.zNumber), el('code', { class: 'hash' }, r.hash)], ['Previous Z', '', el('code', { class: 'hash' }, r.previousHash)]] : []),
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
        ['Float', amount(c.float)],
        ['Cash taken', amount(c.cashSales)],
        ['Change given', amount(-c.change)],
        ['Cash refunds', amount(-c.cashRefunds)],
        ...sh.movements.map((m) => [`${m.type === 'pay_in' ? 'Paid in' : 'Paid out'}: ${m.reason}`, amount(m.type === 'pay_in' ? m.amount : -m.amount)]),
        ['Expected', amount(c.expected), 'total'],
        ...(closed
          ? [
              ['Counted', amount(c.counted)],
              ['Difference', amount(c.difference), c.difference < 0 ? 'short' : ''],
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
