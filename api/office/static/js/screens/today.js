// today.js — the Today screen, the office's first page: today's takings
// (sales, gross, refunds, net; by payment method and by till) against the
// same weekday last week, worked out by posd in the shop's time zone; an
// alert strip of what needs the owner now (tills offline or with sales
// waiting, negative stock, backups, verification, writes failing); and the
// health indicators with their thresholds. It refreshes itself.
import { S, money, clock, dayName, weekday, locationLabel } from '../state.js';
import { explain } from '../api.js';
import { el, fill, stat, table, message } from '../views.js';
import { alertsFrom, indicatorTable } from './health.js';

const METHOD = { cash: 'Cash (less change)', card: 'Card', voucher: 'Voucher', other: 'Other' };

export async function render({ root, params, go }) {
  const locSel = el('select', { id: 'today-location', 'aria-label': 'Location' }, el('option', { value: '' }, 'All locations'), S.locations.map((l) => el('option', { value: l.id, selected: l.id === params.get('location') }, locationLabel(l))));
  const alerts = el('div', { class: 'alerts', id: 'alerts' });
  const figures = el('div', { class: 'stats', id: 'figures' });
  const byMethod = el('div');
  const byTill = el('div');
  const indicators = el('div');
  const stamp = el('span', { class: 'hint', id: 'today-updated' });
  const title = el('h1', {}, 'Today');
  fill(
    root,
    el('div', { class: 'head' }, title, locSel, stamp),
    alerts,
    figures,
    el('div', { class: 'grid2' }, el('section', { class: 'panel' }, el('h2', {}, 'By payment method'), byMethod), el('section', { class: 'panel' }, el('h2', {}, 'By till'), byTill)),
    el('section', { class: 'panel' }, el('h2', {}, 'Health indicators'), indicators),
  );
  locSel.addEventListener('change', () => go(`today${locSel.value ? `?location=${locSel.value}` : ''}`));

  function compare(now, then) {
    if (!then) return null;
    if (then === 0) return now > 0 ? el('span', { class: 'up' }, 'none last week') : 'same as last week (none)';
    const d = Math.round(((now - then) / Math.abs(then)) * 100);
    return el('span', { class: d > 0 ? 'up' : d < 0 ? 'down' : '' }, `${d > 0 ? '+' : ''}${d} % vs ${money(then)}`);
  }

  async function load() {
    const q = locSel.value ? `?locationId=${encodeURIComponent(locSel.value)}` : '';
    const [rep, tills, health] = await Promise.all([S.api.get(`/api/reports/today${q}`), S.api.get('/api/tills'), S.api.get('/api/health/details').catch((e) => ({ error: e }))]);
    S.tills = tills.tills;
    const lw = rep.lastWeek;
    title.textContent = `Today, ${dayName(rep.day)}`;
    const vs = (k) => (lw ? compare(rep.sales[k], lw[k]) : null);
    fill(
      figures,
      stat('Sales', String(rep.sales.count), lw ? `${lw.count} last ${weekday(lw.day)} by ${clock(rep.to)}` : null, { data: { figure: 'count' } }),
      stat('Gross', money(rep.sales.gross), vs('gross'), { data: { figure: 'gross' } }),
      stat('Refunds', money(rep.sales.refunds), `${rep.sales.refundCount} refund${rep.sales.refundCount === 1 ? '' : 's'}`, { data: { figure: 'refunds' } }),
      stat('Net', money(rep.sales.net), vs('net'), { data: { figure: 'net' } }),
      stat('Tax included', money(rep.sales.tax), null, { data: { figure: 'tax' } }),
    );
    if (lw && rep.lastWeekWholeDay) {
      figures.append(stat(`Last ${weekday(lw.day)}, whole day`, money(rep.lastWeekWholeDay.net), `${rep.lastWeekWholeDay.count} sales`));
    }
    fill(
      byMethod,
      rep.byMethod.length
        ? table({ columns: [{ title: 'Method', get: (m) => METHOD[m.method] || m.method }, { title: 'Payments', num: true, get: (m) => String(m.count) }, { title: 'Amount', num: true, get: (m) => money(m.amount) }], rows: rep.byMethod, pageSize: 10 }).el
        : el('p', { class: 'hint' }, 'No payments yet today.'),
    );
    fill(
      byTill,
      rep.byTill.length
        ? table({
            columns: [
              { title: 'Till', get: (x) => x.name },
              { title: 'Sales', num: true, get: (x) => String(x.count) },
              { title: 'Gross', num: true, get: (x) => money(x.gross) },
              { title: 'Refunds', num: true, get: (x) => money(x.refunds) },
              { title: 'Net', num: true, get: (x) => money(x.net) },
            ],
            rows: rep.byTill,
            pageSize: 10,
            rowAttrs: (x) => ({ data: { till: x.name } }),
          }).el
        : el('p', { class: 'hint' }, 'No sales yet today.'),
    );
    fill(alerts, alertsFrom({ tills: tills.tills, health, negativeStock: rep.negativeStock, locationFilter: locSel.value }));
    fill(indicators, health.error ? message('bad', explain(health.error)) : indicatorTable(health.indicators || []));
    stamp.textContent = `Updated ${clock(new Date().toISOString())}`;
  }

  try {
    await load();
  } catch (e) {
    fill(alerts, message('bad', explain(e)));
  }
  const timer = setInterval(() => load().catch((e) => fill(alerts, message('bad', explain(e)))), 5000);
  return () => clearInterval(timer);
}
