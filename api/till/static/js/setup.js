// setup.js — the page that sets a till up for HTTPS: it shows the shop CA
// to install and how (GET /api/setup says what posd serves), checks that
// this device trusts the secure address before sending the till there, and
// warns when sales are still queued at this address (the queue belongs to
// the address: it stays here until the till is opened here again).
import { IdbOutbox } from './posd-outbox.js';

/** device guesses which instructions apply, from the user agent. */
export function device(ua, touchPoints = 0) {
  if (/CrOS/.test(ua)) return 'chromeos';
  if (/Android/.test(ua)) return 'android';
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && touchPoints > 1)) return 'ios'; // iPadOS asks for the desktop site
  if (/Windows/.test(ua)) return 'windows';
  if (/Macintosh|Mac OS X/.test(ua)) return 'macos';
  return 'chromeos'; // Chrome on Linux follows the same steps
}

const bare = (host) => host.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * secureTarget is the till's HTTPS address for a page at loc: the same
 * host name on the HTTPS port when posd's certificate carries that name,
 * else posd's first HTTPS address (and onCert false, so the page can say
 * why it changes the name).
 */
export function secureTarget(loc, setup) {
  const host = bare(loc.hostname);
  if ((setup.names || []).includes(host)) {
    const u = new URL(loc.href);
    u.protocol = 'https:';
    u.port = String(setup.httpsPort);
    u.pathname = '/till/';
    u.search = '';
    u.hash = '';
    return { url: u.href, onCert: true };
  }
  return { url: (setup.httpsUrls || [])[0] || '', onCert: false };
}

/**
 * trusted reports whether this browser opens url without a certificate
 * error: a no-cors fetch of posd's health check resolves (with an opaque
 * answer) only when the TLS handshake was accepted.
 */
export async function trusted(url, { fetch = globalThis.fetch, timeoutMs = 8000 } = {}) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    await fetch(new URL('/api/health', url).href, { mode: 'no-cors', cache: 'no-store', signal: ctl.signal });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** queuedHere counts the sales waiting in this address's till queue, without creating one. */
async function queuedHere() {
  try {
    if (indexedDB.databases) {
      const dbs = await indexedDB.databases();
      if (!dbs.some((d) => d.name === 'posd-outbox')) return 0;
    }
    const box = new IdbOutbox();
    const n = (await box.list('queued')).length;
    box.close();
    return n;
  } catch {
    return 0;
  }
}

const $ = (id) => document.getElementById(id);

function show(id) {
  $('state-loading').hidden = true;
  $(id).hidden = false;
}

async function main() {
  if (location.protocol === 'https:') {
    show('state-secure');
    return;
  }
  let setup;
  try {
    const r = await fetch('/api/setup', { cache: 'no-store' });
    if (!r.ok) throw new Error(`posd answered ${r.status}`);
    setup = await r.json();
  } catch (e) {
    $('error-text').textContent = `Check that the back-office PC is on and posd runs, then reload this page. (${e.message})`;
    show('state-error');
    return;
  }
  if (!setup.https) {
    show('state-off');
    return;
  }
  show('steps');
  if (setup.ownCertificate) {
    $('own-cert').hidden = false;
    $('ca-steps').hidden = true;
    $('last-n').textContent = '1';
  } else {
    $('ca-link').href = setup.caUrl;
    $('ca-file-link').href = `${setup.caUrl}?download=1`;
    $('ca-name').textContent = setup.caName;
    $('ca-fp').textContent = setup.caFingerprint;
    $('ca-fp1').textContent = setup.caFingerprintSha1;
    const mine = $(`os-${device(navigator.userAgent, navigator.maxTouchPoints)}`);
    if (mine) mine.open = true;
    if (/Firefox\//.test(navigator.userAgent)) $('os-firefox').open = true;
  }

  const target = secureTarget(location, setup);
  $('target').textContent = target.url || '(none: posd knows no address of itself)';
  $('target').href = target.url || '#';
  if (!target.onCert && target.url) {
    $('name-note').textContent = `This page was opened as ${location.hostname}, which is not on posd's certificate (${setup.names.join(', ')}). The till opens at ${target.url} instead; to use ${location.hostname}, the owner starts posd with --tls-name ${bare(location.hostname)}.`;
    $('name-note').hidden = false;
  }

  let confirmed = false;
  const go = $('go');
  go.addEventListener('click', async () => {
    if (!target.url) return;
    const result = $('check-result');
    go.disabled = true;
    result.className = '';
    result.textContent = 'Checking the secure address…';
    const ok = await trusted(target.url);
    go.disabled = false;
    if (!ok) {
      result.className = 'bad';
      result.textContent =
        'This device does not trust the secure address yet. Finish step 2 for this device, close the browser and open it again, then try once more. (Or posd cannot be reached right now.)';
      return;
    }
    const n = await queuedHere();
    if (n > 0 && !confirmed) {
      confirmed = true;
      $('queued-note').textContent = `${n} sale${n === 1 ? ' is' : 's are'} still waiting on this till at this address. They stay here, and are sent only when the till is opened at this address again: go back to the till and wait until Queued shows 0, then come back.`;
      $('queued-note').hidden = false;
      go.textContent = 'Open the secure till anyway';
      result.textContent = '';
      return;
    }
    result.className = 'ok';
    result.textContent = 'This device trusts the secure address. Opening the till…';
    location.assign(target.url);
  });
}

if (globalThis.document) main();
