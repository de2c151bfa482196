// dayclose.js — the Day close screen: the day so far (the X report, which
// closes nothing), closing the day (the Z report, numbered Z-0001, Z-0002, …
// per location and never changed), the Zs made so far, and printing one on
// a 72 mm receipt printer or on A4. The Z is printed as the original right
// after it is made; every print from the list afterwards is marked COPY.
import { S, money, when, locationLabel } from '../state.js';
import { explain, newKey, Waiting } from '../api.js';
import { el, fill, table, stat, message, busy, dialog, toast } from '../views.js';
import { zDocument, printReport } from '../zreport.js';

export async function render({ root, params, go }) {
  const locId = params.get('location') || (S.locations[0] && S.locations[0].id);
  const locSel = el('select', { id: 'close-location', 'aria-label': 'Location' }, S.locations.map((l) => el('option', { value: l.id, selected: l.id === locId }, locationLabel(l))));
  locSel.addEventListener('change', () => go(`dayclose?location=${locSel.value}`));
  const closeBtn = el('button', { type: 'button', class: 'primary', id: 'close-day' }, 'Close the day (Z report)');
  const xBox = el('div', { id: 'x-report' });
  const note = el('div');
  const zs = table({
    columns: [
      { title: 'Z', get: (z) => el('strong', {}, z.zNumber) },
      { title: 'Business day', get: (z) => z.businessDay },
      { title: 'Closed', get: (z) => when(z.createdAt) },
      { title: 'Sales', num: true, get: (z) => String(z.salesCount) },
      { title: 'Net', num: true, get: (z) => money(z.net) },
      { title: 'Late arrivals', num: true, get: (z) => (z.lateArrivals.length ? el('span', { class: 'badge warn' }, String(z.lateArrivals.length)) : '0') },
      { title: '', get: (z) => el('button', { type: 'button', class: 'small', data: { open: z.zNumber }, onclick: () => show(z, true) }, 'View / print copy') },
    ],
    empty: 'No day closed yet at this location.',
    rowAttrs: (z) => ({ data: { z: z.zNumber } }),
  });
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Day close'), S.locations.length > 1 ? locSel : null, closeBtn),
    el('p', { class: 'hint' }, 'The Z report closes the day of this location: every sale and refund that reached posd since the previous Z. Sales a till still holds (offline) come in the next Z, listed as late arrivals with their own date. A Z is never changed.'),
    note,
    el('section', { class: 'panel' }, el('h2', {}, 'The day so far (X report — closes nothing)'), xBox),
    el('h2', {}, 'Z reports'),
    zs.el,
  );

  async function loadX() {
    const x = await S.api.get(`/api/x-report?locationId=${encodeURIComponent(locId)}`);
    const late = x.lateArrivals.length;
    fill(
      xBox,
      el(
        'div',
        { class: 'stats' },
        stat('Sales', String(x.salesCount), null, { data: { figure: 'sales' } }),
        stat('Gross', money(x.gross), null, { data: { figure: 'gross' } }),
        stat('Refunds', money(x.refunds), `${x.refundsCount} refund${x.refundsCount === 1 ? '' : 's'}`, { data: { figure: 'refunds' } }),
        stat('Net', money(x.net), null, { data: { figure: 'net' } }),
        stat('Late arrivals', String(late), late ? 'sold before the last Z' : null, { data: { figure: 'late' } }),
      ),
      x.tillsNotReported.length ? message('warn', `Not reported: ${x.tillsNotReported.map((t) => `${t.name} (${t.reason})`).join('; ')}. What they send later goes into the next Z.`) : null,
      el('button', { type: 'button', class: 'small', id: 'show-x', onclick: () => show(x, false) }, 'View the X report'),
    );
    return x;
  }

  async function loadZs() {
    const r = await S.api.get(`/api/z-reports?locationId=${encodeURIComponent(locId)}`);
    zs.update(r.zReports);
  }

  async function loadCashiers() {
    try {
      S.cashiers = (await S.api.get('/api/cashiers?includeInactive=true')).cashiers;
    } catch {
      S.cashiers = S.cashiers || [];
    }
  }

  /** show opens a report; copy marks it (a Z shown again is a copy). */
  function show(r, copy) {
    const doc = zDocument(r, { copy });
    const h = dialog(r.zNumber ? `${r.zNumber}${copy ? ' (copy)' : ''}` : 'X report', el('div', { class: 'zwrap' }, doc), { wide: true, id: 'z-dialog' });
    h.button('Print on the receipt printer (72 mm)', () => printReport(doc, '72'));
    h.button('Print on A4', () => printReport(doc, 'a4'));
    h.button('Close', () => h.close(), 'primary');
  }

  let key = null;
  closeBtn.addEventListener('click', async () => {
    let x;
    try {
      x = await loadX();
    } catch (e) {
      return toast(explain(e), 'bad');
    }
    const warn = x.tillsNotReported.length
      ? message('warn', `${x.tillsNotReported.map((t) => `${t.name}: ${t.reason}`).join('; ')}. You can close the day anyway: what these tills send later is in the next Z, as late arrivals.`)
      : null;
    const h = dialog(
      'Close the day?',
      el(
        'div',
        {},
        el('p', {}, `This makes the next Z report of ${locSel.selectedOptions[0] ? locSel.selectedOptions[0].textContent : 'this location'}: ${x.salesCount} sales, ${x.refundsCount} refunds, net ${money(x.net)}. It cannot be changed or undone.`),
        warn,
      ),
      { id: 'close-confirm' },
    );
    h.button('Cancel', () => h.close());
    h.button(
      'Close the day',
      async (b) => {
        key = key || newKey(); // the same intent if the answer is lost and the button is pressed again
        await busy(b, 'Closing…', async () => {
          let z;
          try {
            z = await S.api.write('POST', '/api/z-reports', { locationId: locId }, key);
          } catch (e) {
            if (e instanceof Waiting) return h.say('warn', explain(e));
            return h.say('bad', explain(e));
          }
          key = null;
          h.close();
          toast(`Closed the day: ${z.zNumber}, net ${money(z.net)}.`);
          await Promise.all([loadX(), loadZs()]);
          // The original, printed once: every later print is a copy.
          show(z, !!z._replayed);
        });
      },
      'primary',
    );
  });

  try {
    await loadCashiers();
    await Promise.all([loadX(), loadZs()]);
  } catch (e) {
    fill(note, message('bad', explain(e)));
  }
  const timer = setInterval(() => loadX().catch(() => {}), 30000); // an X walks the open day: not every few seconds
  return () => clearInterval(timer);
}
