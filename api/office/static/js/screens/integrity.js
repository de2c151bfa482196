// integrity.js — the Integrity screen: every hash chain of the shop, as
// posd recomputes it now (GET /api/integrity), series by series with its
// head and its first break; and a kept export's manifest checked against the
// chains: each document it anchors is read back (GET /api/documents/{n})
// and must still carry the hash the manifest recorded. The words say what
// the chain proves and what it does not: tamper-evident, not certified.
import { S, when } from '../state.js';
import { explain } from '../api.js';
import { el, fill, table, busy, message } from '../views.js';

const KIND = { INV: 'Sales', RET: 'Refunds', RCV: 'Purchase receipts', TRF: 'Transfers', Z: 'Z reports' };

/** seriesName says a series in words: "Sales, November 2026 (INV-202611)". */
export function seriesName(s) {
  const z = /^Z-(.+)$/.exec(s);
  if (z && !/^\d{6}$/.test(z[1])) {
    const loc = S.locations.find((l) => l.id === z[1]);
    return `Z reports, ${loc ? loc.name : 'a location'} (Z-…${z[1].slice(-4)})`;
  }
  const m = /^([A-Z]+)-(\d{4})(\d{2})$/.exec(s);
  if (!m) return s;
  let month = `${m[3]}/${m[2]}`;
  try {
    month = new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(Number(m[2]), Number(m[3]) - 1, 15)));
  } catch {
    /* keep the digits */
  }
  return `${KIND[m[1]] || m[1]}, ${month} (${s})`;
}

/** number writes the n-th number of a series as posd does: INV-202611-0007. */
export const number = (series, n) => `${series}-${String(n).padStart(4, '0')}`;

const short = (h) => (h ? `${h.slice(0, 12)}…` : '—');
const hash = (h) => el('code', { class: 'hash', title: h || '' }, short(h));

/** anchorsOf lists what a manifest anchors: the first and last document of each series. */
export function anchorsOf(m) {
  const out = [];
  for (const s of m.series || []) {
    out.push({ series: s.series, number: number(s.series, s.first), hash: s.firstHash });
    if (s.last !== s.first) out.push({ series: s.series, number: number(s.series, s.last), hash: s.headHash });
  }
  return out;
}

export async function render({ root }) {
  const status = el('div', { id: 'integrity-status' });
  const series = el('div', { id: 'integrity-series' });
  const findings = el('div', { id: 'integrity-findings' });
  const checkBtn = el('button', { type: 'button', id: 'integrity-check' }, 'Check again');
  const file = el('input', { type: 'file', id: 'manifest-file', accept: '.json,application/json' });
  const anchorOut = el('div', { id: 'anchor-result' });
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Integrity'), checkBtn),
    el(
      'p',
      { class: 'hint' },
      'Every sale, refund, purchase receipt and transfer is chained by its hash to the one before it, in the moment it gets its number. ' +
        'posd recomputes the chains here from what the database holds: a document changed, removed or reordered afterwards shows. ' +
        'This is tamper evidence, not a fiscal certification.',
    ),
    status,
    el('section', { class: 'panel' }, el('h2', {}, 'Chains'), series, findings),
    el(
      'section',
      { class: 'panel', id: 'anchor-panel' },
      el('h2', {}, 'Check a kept export'),
      el(
        'p',
        { class: 'hint' },
        'Someone with the database file and posd’s code could rewrite a whole chain so that it checks out. What shows that is a copy kept elsewhere: the manifest.json of each monthly export ' +
          '(on the USB stick, or in the e-mail to your accountant). Choose one here: every document it recorded must still carry the same hash.',
      ),
      el('div', { class: 'row' }, el('label', { for: 'manifest-file' }, 'Manifest of an export'), file),
      anchorOut,
    ),
  );

  async function load() {
    fill(status, el('p', { class: 'hint' }, 'Recomputing every chain…'));
    let r;
    try {
      r = await S.api.get('/api/integrity');
    } catch (e) {
      fill(status, message('bad', explain(e)));
      return;
    }
    const docs = r.documents;
    fill(
      status,
      r.ok
        ? message('ok', `All ${docs} numbered document${docs === 1 ? '' : 's'} in ${r.series.length} series are unchanged and chained one to the next (checked ${when(r.checkedAt)}).`)
        : message('bad', `posd found ${r.findings.length} problem${r.findings.length === 1 ? '' : 's'} in the chains (checked ${when(r.checkedAt)}). The documents named below were changed, removed or reordered after they were made. Keep your backups and exports, and have the back-office PC checked (posd verify).`),
    );
    fill(
      series,
      table({
        columns: [
          { title: 'Series', get: (s) => seriesName(s.series) },
          { title: 'Documents', num: true, get: (s) => (s.documents === s.last ? `${s.documents}` : `${s.documents} of ${s.last}`) },
          { title: 'Last', get: (s) => (s.last ? number(s.series, s.last) : '') },
          { title: 'Head hash', get: (s) => hash(s.headHash) },
          { title: '', get: (s) => (s.firstBreak ? el('span', { class: 'badge bad' }, `Breaks at ${s.firstBreak}`) : el('span', { class: 'badge ok' }, 'OK')) },
        ],
        rows: r.series,
        pageSize: 24,
        empty: 'No numbered document yet.',
        rowAttrs: (s) => ({ data: { series: s.series, ok: String(!s.firstBreak) } }),
      }).el,
    );
    fill(findings, r.findings.length ? el('ul', { class: 'findings' }, r.findings.map((f) => el('li', {}, f))) : null);
  }

  async function checkManifest() {
    const f = file.files && file.files[0];
    if (!f) return;
    let m;
    try {
      m = JSON.parse(await f.text());
    } catch {
      fill(anchorOut, message('bad', `${f.name} is not a manifest.json of a posd export (it is not JSON). Choose the manifest.json inside the export’s folder or zip.`));
      return;
    }
    if (m.format !== 'posd-export' || !m.business) {
      fill(anchorOut, message('bad', `${f.name} is not the manifest.json of a posd export. Choose the manifest.json inside the export’s folder or zip.`));
      return;
    }
    if (m.business.id !== S.me.business.id) {
      fill(anchorOut, message('warn', `This manifest is of another shop (${m.business.name}); sign in to that shop to check it.`));
      return;
    }
    const list = anchorsOf(m);
    fill(anchorOut, el('p', { class: 'hint' }, `Reading back the ${list.length} documents the export of ${m.from} to ${m.to} recorded…`));
    const rows = [];
    for (const a of list) {
      let now = null;
      let missing = false;
      try {
        const d = await S.api.get(`/api/documents/${encodeURIComponent(a.number)}`);
        now = d.document && d.document.hash;
      } catch (e) {
        if (e.status === 404) missing = true;
        else {
          fill(anchorOut, message('bad', explain(e)));
          return;
        }
      }
      rows.push({ ...a, now, missing, ok: !missing && now === a.hash });
    }
    const bad = rows.filter((r) => !r.ok);
    fill(
      anchorOut,
      bad.length
        ? message('bad', `${bad.length} of ${rows.length} documents no longer carry the hash the export of ${m.from} to ${m.to} recorded: the chain was rewritten after that export. Keep this manifest and the backups; have the back-office PC checked.`)
        : message('ok', `All ${rows.length} documents the export of ${m.from} to ${m.to} recorded still carry the same hashes: nothing before them was changed since.`),
      table({
        columns: [
          { title: 'Document', get: (r) => r.number },
          { title: 'Recorded', get: (r) => hash(r.hash) },
          { title: 'Now', get: (r) => (r.missing ? 'missing' : hash(r.now)) },
          { title: '', get: (r) => (r.ok ? el('span', { class: 'badge ok' }, 'Same') : el('span', { class: 'badge bad' }, r.missing ? 'Missing' : 'Changed')) },
        ],
        rows,
        rowAttrs: (r) => ({ data: { anchor: r.number, ok: String(r.ok) } }),
      }).el,
    );
  }

  checkBtn.addEventListener('click', () => busy(checkBtn, 'Checking…', load));
  file.addEventListener('change', () => checkManifest());
  await load();
}
