// sw.js — keeps the till's own files on the device, so that the till page
// opens and sells even when posd (which serves it) cannot be reached. The
// network is asked first, so a new posd's page is used as soon as it
// answers; the API is never touched here (its writes have their own queue).
const CACHE = 'posd-till-v4';
const SHELL = ['./', 'index.html', 'till.css', 'js/app.js', 'js/state.js', 'js/words.js', 'js/session.js', 'js/pairing.js', 'js/sell.js', 'js/sales.js', 'js/cart.js', 'js/money.js', 'js/views.js', 'js/posd-client.js', 'js/posd-outbox.js', 'js/posd-status.js', 'js/cashier.js', 'js/shift.js', 'js/approval.js', 'setup.html', 'setup.css', 'js/setup.js'];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/till/')) return;
  ev.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const res = await fetch(req, { cache: 'no-cache' });
        if (res.ok) cache.put(req, res.clone());
        return res;
      } catch (err) {
        const hit = (await cache.match(req, { ignoreSearch: true })) || (req.mode === 'navigate' ? await cache.match('./') : undefined);
        if (hit) return hit;
        throw err;
      }
    })(),
  );
});
