// health.js — the Backups & health screen: the last good backup, the next
// one, failures, what the last verification found, "Back up now" (owner);
// whether writes are failing right now and why; the health indicators with
// their thresholds; replays and refusals of the last 24 hours. It also
// holds the words of the alert strip that Today shows.
import { S, when, clock, ago, pct, isOwner, locationName, every, since } from '../state.js';
import { explain } from '../api.js';
import { el, fill, table, busy, toast, message } from '../views.js';

/** CAUSE says, for an owner, what a failing write means and what to do. */
const CAUSE = {
  disk_full: ['the disk is full', 'Free space on the disk of the back-office PC (or the USB stick or NAS of the backups); sales go on as soon as there is room.'],
  read_only: ['the disk has become read-only', 'The disk may be failing: restart the back-office PC, and if it happens again, restore the last backup onto another disk.'],
  io_error: ['the disk reports errors', 'The disk may be failing: keep the latest backup safe and have the PC checked.'],
  shutting_down: ['posd is stopping', 'Wait for posd to start again (the service restarts it).'],
  other: ['posd cannot write to its database', 'Look at posd’s log on the back-office PC, or restart posd.'],
};

/** writesAlert is the words for failing writes: "Sales are failing: the disk is full (last failure 10:42). Free space…". */
export function writesAlert(w) {
  if (!w || !w.failing) return null;
  const [what, todo] = CAUSE[w.lastFailure.cause] || CAUSE.other;
  const kind = w.lastFailure.route && w.lastFailure.route.startsWith('sales.') ? 'Sales are' : 'Changes are';
  return `${kind} failing: ${what} (last failure ${clock(w.lastFailureAt)}, ${w.failures24h} in 24 h). ${todo}`;
}

/** alertsFrom makes the alert strip: each alert says what is wrong and links to where to act. */
export function alertsFrom({ tills = [], health = {}, negativeStock = [], locationFilter = '' }) {
  const out = [];
  const a = (kind, text, href, linkText) => out.push(el('div', { class: `alert ${kind}`, data: { alert: kind } }, el('span', {}, text), href ? el('a', { href }, linkText) : null));
  const w = writesAlert(health.writes);
  if (w) a('bad', w, '#/health', 'Health');
  const b = health.backup;
  if (b && b.enabled) {
    if (b.failures > 0) a('bad', `The last automatic backup failed (${when(b.lastErrorAt)}): ${b.lastError}.`, '#/health', 'Backups');
    else if (b.overdue) a('bad', `No backup for ${b.lastSuccess ? ago(b.lastSuccess).replace(' ago', '') : 'a long time'}: the automatic backup is overdue.`, '#/health', 'Backups');
    if (b.checkedAt && (b.findings > 0 || b.duplicates > 0)) a('bad', `The last verification of the data found ${b.findings} problem(s)${b.duplicates ? `, ${b.duplicates} duplicate document number(s)` : ''}. Keep the backups; run posd verify on the back-office PC.`, '#/health', 'Health');
  } else if (b && !b.enabled) a('warn', 'Automatic backups are turned off. Turn them on (posd serve --backup-every 24h), or back up by hand.', '#/health', 'Backups');
  for (const t of tills) {
    if (locationFilter && t.locationId && t.locationId !== locationFilter) continue;
    if (t.lastSeenAt && !t.online) {
      const q = t.queued ? `, with ${t.queued} sale${t.queued === 1 ? '' : 's'} not yet sent` : '';
      a(t.queued ? 'bad' : 'warn', `${t.name} is offline since ${since(t.lastSeenAt)}${q}. A till out of the network sells on; its sales arrive when it is back.`, '#/tills', 'Tills');
    } else if (t.online && t.queued) a('warn', `${t.name} has ${t.queued} sale${t.queued === 1 ? '' : 's'} waiting to be sent.`, '#/tills', 'Tills');
    if (t.parked) a('bad', `${t.name} holds ${t.parked} sale${t.parked === 1 ? '' : 's'} posd refused: open the till’s queue to see why.`, '#/tills', 'Tills');
  }
  if (negativeStock.length) {
    const names = negativeStock.slice(0, 3).map((n) => `${n.name} (${n.quantity}${locationFilter ? '' : ` at ${locationName(n.locationId)}`})`);
    a('warn', `${negativeStock.length} product${negativeStock.length === 1 ? ' is' : 's are'} below zero in stock: ${names.join(', ')}${negativeStock.length > 3 ? '…' : ''}.`, `#/stock?negative=1${locationFilter ? `&location=${locationFilter}` : ''}`, 'Stock');
  }
  if (health.error) a('warn', `The health view could not be read: ${explain(health.error)}`);
  if (!out.length) a('ok', 'All is well: every till reported, backups and writes are fine.');
  return out;
}

/** indicatorTable shows each indicator with its value, its threshold and whether it holds. */
export function indicatorTable(list) {
  return table({
    columns: [
      { title: 'Indicator', get: (i) => i.title },
      { title: 'Now', num: true, get: (i) => i.display },
      { title: 'Target', num: true, get: (i) => i.threshold },
      { title: '', get: (i) => (i.ok === null ? el('span', { class: 'badge' }, 'no data yet') : i.ok ? el('span', { class: 'badge ok' }, 'OK') : el('span', { class: 'badge bad' }, 'Attention')) },
      { title: 'From', get: (i) => el('span', { class: 'hint' }, i.detail || '') },
    ],
    rows: list,
    pageSize: 20,
    rowAttrs: (i) => ({ class: 'indicator', data: { indicator: i.id, ok: String(i.ok) } }),
  }).el;
}

export async function render({ root }) {
  const status = el('div', { id: 'health-status' });
  const backup = el('section', { class: 'panel', id: 'backup-panel' });
  const writes = el('section', { class: 'panel', id: 'writes-panel' });
  const ind = el('section', { class: 'panel' });
  const rates = el('section', { class: 'panel' });
  fill(root, el('div', { class: 'head' }, el('h1', {}, 'Backups & health')), status, el('div', { class: 'grid2' }, backup, writes), ind, rates);
  let waitingSince = null;

  async function load() {
    const h = await S.api.get('/api/health/details');
    fill(status, h.status === 'ok' ? message('ok', 'posd is healthy.') : message('bad', 'Needs attention: ', h.problems.join(' ')));
    const b = h.backup;
    const kv = (pairs) => el('dl', { class: 'kv' }, pairs.filter(Boolean).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    const btn = isOwner() ? el('button', { type: 'button', class: 'primary', id: 'backup-now', disabled: !(b && b.enabled) || (b && b.running), onclick: (e) => backupNow(e.currentTarget) }, b && b.running ? 'Backing up…' : 'Back up now') : el('p', { class: 'hint' }, 'Only the owner can start a backup.');
    if (waitingSince && b && b.lastSuccess && new Date(b.lastSuccess) >= waitingSince) {
      toast(`Backup written: ${b.lastFile} (${(b.lastSizeBytes / 1024 / 1024).toFixed(1)} MB), verified.`);
      waitingSince = null;
    } else if (waitingSince && b && b.lastErrorAt && new Date(b.lastErrorAt) >= waitingSince) {
      toast(`The backup failed: ${b.lastError}`, 'bad');
      waitingSince = null;
    }
    fill(
      backup,
      el('h2', {}, 'Backups'),
      !b
        ? el('p', { class: 'hint' }, 'This posd reports no backups.')
        : !b.enabled
          ? message('warn', 'Automatic backups are turned off on this posd (--backup-every 0).')
          : kv([
              ['Last good backup', b.lastSuccess ? `${when(b.lastSuccess)} (${ago(b.lastSuccess)})` : 'none yet'],
              b.lastFile && ['File', el('code', {}, b.lastFile)],
              ['Next', b.running ? 'running now' : b.next ? when(b.next) : '—'],
              ['How often', every(b.every)],
              ['Folder', el('code', {}, b.dir)],
              ['Failures', b.failures ? el('span', { class: 'negative' }, `${b.failures} since the last success: ${b.lastError} (${when(b.lastErrorAt)})`) : 'none'],
              ['Verified', b.checkedAt ? `${when(b.checkedAt)}: ${b.findings ? `${b.findings} finding(s)` : 'no findings'}` : 'not yet (every backup verifies the data)'],
            ]),
      btn,
    );
    const w = h.writes || {};
    fill(
      writes,
      el('h2', {}, 'Writes'),
      w.failing ? message('bad', writesAlert(w)) : message('ok', w.failures24h ? `Writes work again (last failure ${when(w.lastFailureAt)}).` : 'Every write of the last 24 hours succeeded.'),
      kv([
        ['Failed writes, 24 h', String(w.failures24h || 0)],
        w.byCause && Object.keys(w.byCause).length && ['By cause', Object.entries(w.byCause).map(([c, n]) => `${(CAUSE[c] || CAUSE.other)[0]}: ${n}`).join('; ')],
        ['Last good write', w.lastSuccessAt ? when(w.lastSuccessAt) : '—'],
        ['Database', `${(h.database.sizeBytes / 1024 / 1024).toFixed(1)} MB`],
        ['Running since', `${when(h.startedAt)}`],
      ]),
    );
    fill(ind, el('h2', {}, 'Health indicators'), indicatorTable(h.indicators || []));
    const routes = Object.entries(h.idempotency || {}).map(([route, r]) => ({ route, ...r }));
    const refused = Object.entries(h.refused || {}).map(([code, n]) => ({ code, n }));
    fill(
      rates,
      el('h2', {}, 'Last 24 hours'),
      el('div', { class: 'grid2' },
        el('div', {}, el('h3', {}, 'Replays by route'), el('p', { class: 'hint' }, 'A replay is a retry posd had already answered: counted once, answered again. Many replays mean a flaky network or slow answers.'),
          table({ columns: [{ title: 'Route', get: (r) => r.route }, { title: 'Writes', num: true, get: (r) => String(r.requests) }, { title: 'Replays', num: true, get: (r) => String(r.replays) }, { title: 'Rate', num: true, get: (r) => pct(r.rate) }], rows: routes, empty: 'No writes in the last 24 hours.', pageSize: 10 }).el),
        el('div', {}, el('h3', {}, 'Refusals by reason'), el('p', { class: 'hint' }, 'Requests posd refused, by the contract’s error code.'),
          table({ columns: [{ title: 'Code', get: (r) => r.code }, { title: 'Count', num: true, get: (r) => String(r.n) }], rows: refused, empty: 'None.', pageSize: 10 }).el),
      ),
    );
  }

  async function backupNow(b) {
    await busy(b, 'Starting…', async () => {
      try {
        await S.api.write('POST', '/api/backups', {});
        waitingSince = new Date(Date.now() - 2000);
        toast('Backup started: it is written, read back and verified before it counts. This page says when it is done.');
      } catch (e) {
        toast(explain(e), 'bad');
      }
    });
    load();
  }

  await load();
  const timer = setInterval(() => load().catch((e) => fill(status, message('bad', explain(e)))), 3000);
  return () => clearInterval(timer);
}
