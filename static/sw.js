const VERSION = "dev"; // /sw.js replaces this with a hash of the app shell's files
const CACHE_PREFIX = "r4h-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${VERSION}`;
const STATIC_CACHE = `${CACHE_PREFIX}static-${VERSION}`;
const APP_SHELL = [
  "/app/", "/offline/", "/manifest.webmanifest", "/static/css/app.css", "/static/icons/icon-192.png",
  "/static/js/app.js", "/static/js/state.js", "/static/js/dom.js", "/static/js/format.js",
  "/static/js/screen-signin.js", "/static/js/screen-runs.js", "/static/js/screen-hero.js",
  "/static/js/screen-counter.js", "/static/js/screen-done.js", "/static/js/escorts.js",
  "/static/js/updates.js", "/static/js/api.js", "/static/js/counter.js", "/static/js/db.js",
  "/static/js/outbox.js", "/static/js/shared.js", "/static/js/roster.js", "/static/js/install.js",
  "/static/js/photos.js", "/static/js/silence.js",
];
importScripts("/static/js/shared.js");
const { SYNC_TAG, DB_NAME, BATCH, sendable, applyResult, outboxAgeSeconds } = self.r4hOutbox;
const { photoJobs, photoPath, photoTaken, photoRetried } = self.r4hOutbox;

self.addEventListener("install", (event) => event.waitUntil(Promise.all([precache(), routeShell(event)])));
self.addEventListener("activate", (event) => event.waitUntil(deleteStaleCaches()));
self.addEventListener("fetch", handleFetch);
self.addEventListener("message", (event) => event.data.type === "SKIP_WAITING" && self.skipWaiting());
self.addEventListener("sync", (event) => event.tag === SYNC_TAG && event.waitUntil(backgroundSync()));

async function precache() {
  // No skipWaiting here: a new version waits until the page says no run is in progress.
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll(APP_SHELL.map((url) => new Request(url, { cache: "no-cache" })));
}

// The shell's files straight from this version's cache, without waking the fetch handler
// (Static Routing API; where it is missing, as in WebKit, the handler answers the same way).
function routeShell(event) {
  if (!event.addRoutes) return;
  const files = APP_SHELL.filter((path) => path.startsWith("/static/"));
  return event.addRoutes({
    condition: { or: files.map((path) => ({ urlPattern: path })) },
    source: { cacheName: SHELL_CACHE },
  });
}

async function deleteStaleCaches() {
  for (const name of await caches.keys()) {
    if (name.startsWith(CACHE_PREFIX) && name !== SHELL_CACHE && name !== STATIC_CACHE) {
      await caches.delete(name);
    }
  }
  await self.clients.claim();
}

function handleFetch(event) {
  const { request } = event;
  const url = new URL(request.url);
  const path = url.pathname;
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (path.startsWith("/api/") || path === "/sw.js") return; // never cached implicitly
  if (path === "/app/") openAppDb().then((db) => db?.close()); // the page reads it first thing
  if (path === "/app/" || path.startsWith("/static/") || APP_SHELL.includes(path)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  }
}

const opened = {}; // each cache opened once: a cold start fetches a dozen files at once
const openCache = (name) => (opened[name] ||= caches.open(name));

async function fromCache(request) {
  // This version's caches only: a waiting version's files never leak into a running page.
  // A query string is ignored only when there is one: ignoring it makes a match scan the cache.
  const options = { ignoreSearch: new URL(request.url ?? request, location.href).search !== "" };
  const shell = await (await openCache(SHELL_CACHE)).match(request, options);
  return shell || (await openCache(STATIC_CACHE)).match(request, options);
}

async function cacheFirst(request) {
  // One bar of signal must not make the runner wait for the network.
  const cached = await fromCache(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    await (await openCache(STATIC_CACHE)).put(request, response.clone());
  }
  return response;
}

async function networkFirst(request) {
  // Other pages are not stored: they can hold private data (admin pages show addresses).
  try {
    return await fetch(request, { signal: AbortSignal.timeout(6000) });
  } catch {
    return (await fromCache("/offline/")) || Response.error();
  }
}

async function backgroundSync() {
  const windows = await self.clients.matchAll({ type: "window" });
  windows.forEach((client) => client.postMessage({ type: "SYNC" }));
  if (!windows.length) await pushOutbox();
}

// The outbox push, for Background Sync with no window open. What it shares with the page's
// (outbox.js) lives in shared.js; retries and the sync bar are the page's.
function idb(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openAppDb() {
  const open = indexedDB.open(DB_NAME);
  open.onupgradeneeded = () => open.transaction.abort(); // only the page creates its database
  return idb(open).catch(() => null);
}

async function pushOutbox() {
  const db = await openAppDb();
  if (!db) return;
  try {
    const read = db.transaction(["kv", "runs"]);
    const [auth, waiting] = await Promise.all([
      idb(read.objectStore("kv").get("auth")),
      idb(read.objectStore("runs").index("status").getAll("outbox")),
    ]);
    await pushRuns(db, auth, waiting);
    await pushPhotos(db, auth);
  } finally {
    db.close();
  }
}

async function pushRuns(db, auth, waiting) {
  const all = sendable(auth, waiting);
  const mine = all.slice(0, BATCH); // the page sends the rest
  if (!mine.length) return;
  const outbox_age_seconds = outboxAgeSeconds(all, Date.now());
  const response = await fetch("/api/v1/sync", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${auth.token}` },
    body: JSON.stringify({ device_id: auth.device_id, runs: mine.map((run) => run.payload), outbox_age_seconds }),
  });
  const { results } = await response.json().catch(() => ({}));
  if (response.status === 401) return; // the page asks for sign-in, then pushes
  if (!Array.isArray(results)) throw new Error(`sync answered ${response.status}`); // retried
  const now = new Date().toISOString();
  const write = db.transaction(["runs"], "readwrite", { durability: "strict" });
  const store = write.objectStore("runs");
  for (const result of results) {
    const run = result.id && (await idb(store.get(result.id)));
    if (run?.status === "outbox") store.put(applyResult(run, result, now));
  }
  await committed(write);
}

// The photos of the runs now synced, as the page sends them; the page thins the sent ones to
// thumbnails the next time it opens (its tidy). No signal, a busy or failing server: thrown,
// and Background Sync tries again. A refusal is kept on the photo, as the page keeps it.
async function pushPhotos(db, auth) {
  const read = db.transaction(["photos", "runs"]);
  const photos = idb(read.objectStore("photos").getAll());
  const synced = idb(read.objectStore("runs").index("status").getAll("synced"));
  for (const photo of photoJobs(auth, await photos, await synced)) {
    const headers = { Authorization: `Bearer ${auth.token}` };
    const response = await fetch(
      photoPath(photo.run_id, photo.id),
      photo.sent
        ? { method: "PATCH", headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify({ hidden: photo.hidden }) }
        : { method: "PUT", headers: { ...headers, "Content-Type": "image/jpeg" }, body: photo.bytes },
    );
    if (response.status === 401) return; // the page asks for sign-in, then sends them
    if (photoRetried(response.status)) throw new Error(`photo answered ${response.status}`);
    let change = photoTaken(photo);
    if (!response.ok) {
      const answer = await response.json().catch(() => null);
      change = { error: answer?.error?.message || `The server answered ${response.status}.` };
    }
    const write = db.transaction(["photos"], "readwrite", { durability: "strict" });
    const store = write.objectStore("photos");
    const stored = await idb(store.get(photo.id));
    if (stored) store.put({ ...stored, ...change });
    await committed(write);
  }
}

function committed(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = resolve;
    transaction.onabort = () => reject(transaction.error);
  });
}
