// Unit tests of the setup page's decisions: which device's steps to open,
// where the secure till is, and how "this device trusts it" is told.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { device, secureTarget, trusted } from '../../static/js/setup.js';

test('device: the instructions opened for each user agent', () => {
  const cases = {
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0': 'windows',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15': 'macos',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1': 'ios',
    'Mozilla/5.0 (Linux; Android 14; SM-T220) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36': 'android',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36': 'chromeos',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36': 'chromeos',
  };
  for (const [ua, want] of Object.entries(cases)) assert.equal(device(ua), want, ua);
  // iPadOS asks for the desktop site: a "Macintosh" with a touch screen.
  assert.equal(device('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', 5), 'ios');
});

const setup = { httpsPort: 8443, names: ['backoffice', 'localhost', 'shop.lan', '192.168.1.10', 'fd00::2'], httpsUrls: ['https://192.168.1.10:8443/till/'] };

test('secureTarget: the same name on the HTTPS port when the certificate carries it', () => {
  const at = (href) => {
    const u = new URL(href);
    return secureTarget({ href, hostname: u.hostname }, setup);
  };
  assert.deepEqual(at('http://shop.lan:8080/till/setup.html?x=1#y'), { url: 'https://shop.lan:8443/till/', onCert: true });
  assert.deepEqual(at('http://192.168.1.10:8080/till/setup.html'), { url: 'https://192.168.1.10:8443/till/', onCert: true });
  assert.deepEqual(at('http://[fd00::2]:8080/till/setup.html'), { url: 'https://[fd00::2]:8443/till/', onCert: true });
  assert.deepEqual(at('http://BackOffice:8080/till/setup.html'), { url: 'https://backoffice:8443/till/', onCert: true });
  // A name the certificate lacks: posd's first HTTPS address instead, and the page says why.
  assert.deepEqual(at('http://till-server.example:8080/till/setup.html'), { url: 'https://192.168.1.10:8443/till/', onCert: false });
});

test('trusted: an accepted handshake resolves, a certificate error rejects, a hang times out', async () => {
  const seen = [];
  assert.equal(await trusted('https://shop.lan:8443/till/', { fetch: async (url, init) => (seen.push([url, init.mode]), { type: 'opaque' }) }), true);
  assert.deepEqual(seen, [['https://shop.lan:8443/api/health', 'no-cors']]);
  assert.equal(await trusted('https://shop.lan:8443/till/', { fetch: async () => Promise.reject(new TypeError('Failed to fetch')) }), false);
  const hang = (url, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
  assert.equal(await trusted('https://shop.lan:8443/till/', { fetch: hang, timeoutMs: 20 }), false);
});
