// integrity.js — the Integrity screen: every hash chain of the shop, as
// posd recomputes it now (GET /api/integrity), series by series with its
// head and its first break, each location's Z reports among them; the
// series heads every Z recorded when it closed the day, each checked
// against the chain now; every finding in posd's words, with the Z that
// counted the document (to compare with the printed Z) and a link to it in
// the Journal; and a kept export's manifest checked against the chains:
// each document it anchors is read back (GET /api/documents/{n}) and must
// still carry the hash the manifest recorded. The words say what the chain
// proves and what it does not: tamper-evident, not certified.
import { S, when, locationName, locationLabel, knowsLocation } from '../state.js';
import { explain } from '../api.js';
import { el, fill, table, busy, message } from '../views.js';

const KIND = { INV: 'Sales', RET: 'Refunds', RCV: 'Purchase receipts', TRF: 'Transfers', Z: 'Z reports' };

/** zLocation is the location ID of a location's Z series (Z-<location ID>), or null for any other series. */
export const zLocation = (series) => (/^Z-/.test(series) && !/^Z-\d{6}$/.test(series) ? series.slice(2) : null);

/**
 * seriesName says a series in words: "Sales, November 2026 (INV-202611)";
 * a location's Z reports by the location's name alone ("Z reports, Main"),
 * as the owner knows it: the series' key is that location's ID.
 */
export function seriesName(s) {
  const loc = zLocation(s);
  if (loc) {
    const l = S.locations.find((x) => x.id === loc);
    return l ? `Z reports, ${locationLabel(l)}` : 'Z reports of a removed location';
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

/**
 * learnLocations reads the locations again (refresh, the office's
 * loadShared) when series name one the office does not know yet: one added
 * since the office was opened, by another back office or the API.
 */
export async function learnLocations(series, refresh) {
  if (refresh && series.some((s) => zLocation(s) && !knowsLocation(zLocation(s)))) await refresh();
}

/**
 * shownNumber is the n-th number of a series as the shop knows it: a Z by
 * its own number (Z-0002, as printed; beside it the series' name says the
 * location), anything else as posd numbers it. posd's key of that Z,
 * Z-<location ID>-0002, is for the API, not for the owner.
 */
export const shownNumber = (series, n) => (zLocation(series) ? number('Z', n) : number(series, n));

/** zName names a document alone, where no series' name stands beside it: "Z-0002 of Main", "INV-202611-0007". */
export const zName = (series, n) => (zLocation(series) ? `${number('Z', n)} of ${locationName(zLocation(series))}` : number(series, n));

export const lastNumber = (s) => shownNumber(s.series, s.last);

/** list writes names in words: "A", "A and B", "A, B and C". */
function list(names) {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** anchorNumber is the document an anchor of GET /api/integrity names. */
const anchorNumber = (a) => number(a.series, a.number);

/** zOrder is the number of the Z an anchor's source names ("Z-0012 of Main" → 12), 0 for another source. */
const zOrder = (a) => Number((/^Z-(\d+) /.exec(a.source) || [])[1] || 0);

/** journalSeries is the Journal's series of a document number (INV, RET, RCV, TRF), or null. */
const journalSeries = (n) => (/^(INV|RET|RCV|TRF)-\d{6}-\d+$/.exec(n) || [])[1] || null;

/** A finding is posd's sentence "NUMBER: what is wrong"; number is what it names ("INV-202611-0007", "Z-0002 of Main"). */
function splitFinding(f) {
  const i = f.indexOf(': ');
  const text = /[.…]$/.test(f) ? f : `${f}.`;
  return i > 0 ? { number: f.slice(0, i), text } : { number: '', text };
}

/** at most this many documents named by findings are looked up for the Z that counted them */
const MAX_LOOKUPS = 10;

/**
 * countedIn finds, for sales and refunds named by findings, the Z report
 * that counted each: the document's location (GET /api/documents/{n}),
 * then that location's Zs, newest first, until the one whose range of the
 * document's series holds its number. A location's documents are numbered
 * in the order they were committed and each Z takes those since the one
 * before, so the ranges of one location's Zs never overlap. It returns
 * number → {z, location} or {open: location} for one made after the last Z.
 */
async function countedIn(numbers) {
  const out = new Map();
  const wanted = new Map(); // location ID → [{number, series, n}]
  for (const num of numbers.slice(0, MAX_LOOKUPS)) {
    let d;
    try {
      d = await S.api.get(`/api/documents/${encodeURIComponent(num)}`);
    } catch {
      continue; // missing, or posd unreachable: the finding says enough
    }
    const loc = d.document && d.document.locationId;
    if (!loc) continue;
    const m = /^(.+)-(\d+)$/.exec(num);
    if (!wanted.has(loc)) wanted.set(loc, []);
    wanted.get(loc).push({ number: num, series: m[1], n: Number(m[2]) });
  }
  for (const [loc, docs] of wanted) {
    let left = docs.slice();
    let newest = true;
    for (let cursor = ''; left.length; ) {
      let page;
      try {
        page = await S.api.get(`/api/z-reports?locationId=${encodeURIComponent(loc)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      } catch {
        break;
      }
      for (const z of page.zReports) {
        for (const r of z.series || []) {
          const lo = Number(r.first.slice(r.first.lastIndexOf('-') + 1));
          const hi = Number(r.last.slice(r.last.lastIndexOf('-') + 1));
          for (const doc of left) if (doc.series === r.series && doc.n >= lo && doc.n <= hi) out.set(doc.number, { z, location: loc });
        }
        if (newest) {
          // After the newest Z's last number of its series: not in any Z yet.
          for (const doc of left) {
            const r = (z.series || []).find((x) => x.series === doc.series);
            if (r && doc.n > Number(r.last.slice(r.last.lastIndexOf('-') + 1))) out.set(doc.number, { open: loc });
          }
          newest = false;
        }
        left = left.filter((doc) => !out.has(doc.number));
      }
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
  }
  return out;
}

const short = (h) => (h ? `${h.slice(0, 12)}…` : '—');
const hash = (h) => el('code', { class: 'hash', title: h || '' }, short(h));

/** anchorsOf lists what a manifest anchors: the first and last document of each series (number for the API, name for the owner). */
export function anchorsOf(m) {
  const out = [];
  for (const s of m.series || []) {
    out.push({ series: s.series, number: number(s.series, s.first), name: zName(s.series, s.first), hash: s.firstHash });
    if (s.last !== s.first) out.push({ series: s.series, number: number(s.series, s.last), name: zName(s.series, s.last), hash: s.headHash });
  }
  return out;
}

export async function render({ root, refreshShared }) {
  const status = el('div', { id: 'integrity-status' });
  const series = el('div', { id: 'integrity-series' });
  const findings = el('div', { id: 'integrity-findings' });
  const anchorsOut = el('div', { id: 'integrity-anchors' });
  const checkBtn = el('button', { type: 'button', id: 'integrity-check' }, 'Check again');
  const file = el('input', { type: 'file', id: 'manifest-file', accept: '.json,application/json' });
  const anchorOut = el('div', { id: 'anchor-result' });
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Integrity'), checkBtn),
    el(
      'p',
      { class: 'hint' },
      'Every sale, refund, purchase receipt, transfer and Z report is chained by its hash to the one before it, in the moment it gets its number. ' +
        'posd recomputes the chains here from what the database holds: a document changed, removed or reordered afterwards shows. ' +
        'This is tamper evidence, not a fiscal certification.',
    ),
    status,
    el('section', { class: 'panel' }, el('h2', {}, 'Chains'), series, findings),
    el(
      'section',
      { class: 'panel', id: 'z-anchor-panel' },
      el('h2', {}, 'What the Z reports recorded'),
      el(
        'p',
        { class: 'hint' },
        'Each Z report records, and prints, the last document and hash of every chain when it closes the day. posd checks them here: a chain hashed again after a day was closed no longer reaches the head its Z recorded. ' +
          'The printed Z reports are the copy no one can change: keep them.',
      ),
      anchorsOut,
    ),
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
    await learnLocations(r.series.map((s) => s.series), refreshShared);
    const docs = r.documents;
    const anchors = r.anchors || [];
    const badAnchors = anchors.filter((a) => !a.ok);
    const badSources = [...new Set(badAnchors.map((a) => a.source))];
    const zs = new Set(anchors.map((a) => a.source)).size;
    const problems = `posd found ${r.findings.length} problem${r.findings.length === 1 ? '' : 's'} in the chains (checked ${when(r.checkedAt)}). `;
    fill(
      status,
      r.ok
        ? message('ok', `All ${docs} numbered document${docs === 1 ? '' : 's'} in ${r.series.length} series are unchanged and chained one to the next (checked ${when(r.checkedAt)}).`)
        : message(
            'bad',
            problems,
            badSources.length ? `The heads ${list(badSources)} recorded no longer match: the chain was hashed again after ${badSources.length === 1 ? 'that day was' : 'those days were'} closed. ` : '',
            'The documents named below were changed, removed or reordered after they were made. What to do: keep the backups, the exports and the printed Z reports as they are (they are the evidence; do not restore a backup over this database yet), ' +
              'compare each document named below with its receipt and its printed Z report, and have the back-office PC checked by whoever looks after it (posd verify there names the same findings).',
          ),
    );
    fill(
      series,
      table({
        columns: [
          { title: 'Series', get: (s) => seriesName(s.series) },
          { title: 'Documents', num: true, get: (s) => (s.documents === s.last ? `${s.documents}` : `${s.documents} of ${s.last}`) },
          { title: 'Last', get: (s) => (s.last ? lastNumber(s) : '') },
          { title: 'Head hash', get: (s) => hash(s.headHash) },
          { title: '', get: (s) => (s.firstBreak ? el('span', { class: 'badge bad' }, `Breaks at ${s.firstBreak}`) : el('span', { class: 'badge ok' }, 'OK')) },
        ],
        rows: r.series,
        pageSize: 24,
        empty: 'No numbered document yet.',
        rowAttrs: (s) => ({ data: { series: s.series, ok: String(!s.firstBreak) } }),
      }).el,
    );
    // The heads the Zs recorded: those that no longer match first, then
    // the newest Z's.
    const shown = anchors.map((a, i) => ({ a, i })).sort((x, y) => Number(x.a.ok) - Number(y.a.ok) || zOrder(y.a) - zOrder(x.a) || x.i - y.i).map((x) => x.a);
    fill(
      anchorsOut,
      !anchors.length
        ? message('info', 'No day closed yet: once a Z report is made, the heads it recorded are checked here.')
        : badAnchors.length
          ? message('bad', `${badAnchors.length} of ${anchors.length} series heads no longer match what ${list(badSources)} recorded: the chain was hashed again after ${badSources.length === 1 ? 'that day was' : 'those days were'} closed. Compare them with the printed Z reports, and keep those papers.`)
          : message('ok', `All ${anchors.length} series heads the ${zs} Z report${zs === 1 ? '' : 's'} recorded still match the chains: no chain was hashed again after a day was closed.`),
      anchors.length
        ? table({
            columns: [
              { title: 'Recorded by', get: (a) => a.source },
              { title: 'Document', get: (a) => anchorNumber(a) },
              { title: 'Hash on the Z', get: (a) => hash(a.hash) },
              { title: 'Now', get: (a) => (a.found ? hash(a.found) : 'missing') },
              { title: '', get: (a) => (a.ok ? el('span', { class: 'badge ok' }, 'Same') : el('span', { class: 'badge bad' }, a.found ? 'Changed' : 'Missing')) },
            ],
            rows: shown,
            pageSize: 12,
            rowAttrs: (a) => ({ data: { source: a.source, anchor: anchorNumber(a), ok: String(a.ok) } }),
          }).el
        : null,
    );
    const items = r.findings.map(splitFinding);
    const lis = items.map((f) => ({ f, extra: el('span', { class: 'finding-more' }) }));
    fill(findings, items.length ? el('ul', { class: 'findings' }, lis.map(({ f, extra }) => el('li', { data: { number: f.number } }, f.text, extra))) : null);
    if (!items.length) return;
    // Which Z counted each sale or refund named, and where to open it.
    const named = [...new Set(items.map((f) => f.number).filter((n) => /^(INV|RET)-/.test(n)))];
    const counted = await countedIn(named);
    for (const { f, extra } of lis) {
      const js = journalSeries(f.number);
      if (!js) continue;
      const c = counted.get(f.number);
      const locName = c && locationName(c.z ? c.location : c.open);
      fill(
        extra,
        c && c.z ? ` Counted in ${c.z.zNumber} of ${locName} (closed ${when(c.z.createdAt)}): compare it with the printed ${c.z.zNumber}.` : null,
        c && c.open ? ` Made after the last Z of ${locName}: no Z counts it yet; compare it with its receipt.` : null,
        ' ',
        el('a', { href: `#/journal?series=${js}&number=${encodeURIComponent(f.number)}` }, `Open ${f.number} in the Journal`),
      );
    }
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
    await learnLocations((m.series || []).map((s) => s.series), refreshShared);
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
          { title: 'Document', get: (r) => r.name },
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
