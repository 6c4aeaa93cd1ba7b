const VERSION = "dev"; // /sw.js replaces this with a hash of the app shell's files
const CACHE_PREFIX = "r4h-";
const SHELL_CACHE = `${CACHE_PREFIX}shell-${VERSION}`;
const STATIC_CACHE = `${CACHE_PREFIX}static-${VERSION}`;
const APP_SHELL = [
  "/app/",
  "/offline/",
  "/manifest.webmanifest",
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/js/api.js",
  "/static/js/counter.js",
  "/static/js/db.js",
  "/static/js/outbox.js",
  "/static/js/screens.js",
  "/static/icons/icon-192.png",
];
const SYNC_TAG = "r4h-outbox";
const PAGE_TIMEOUT_MS = 6000;

self.addEventListener("install", (event) => event.waitUntil(precache()));
self.addEventListener("activate", (event) => event.waitUntil(deleteStaleCaches()));
self.addEventListener("fetch", (event) => handleFetch(event));
self.addEventListener("message", (event) => handleMessage(event));
self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(backgroundSync());
});

async function precache() {
  // No skipWaiting here: a new version waits until the page says no run is in progress.
  const cache = await caches.open(SHELL_CACHE);
  await cache.addAll(APP_SHELL.map((url) => new Request(url, { cache: "no-cache" })));
}

async function deleteStaleCaches() {
  const keep = [SHELL_CACHE, STATIC_CACHE];
  const names = await caches.keys();
  await Promise.all(
    names
      .filter((name) => name.startsWith(CACHE_PREFIX) && !keep.includes(name))
      .map((name) => caches.delete(name)),
  );
  await self.clients.claim();
}

function handleFetch(event) {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;
  if (url.pathname === "/app/" || url.pathname === "/app") {
    event.respondWith(appShell());
  } else if (url.pathname.startsWith("/static/") || APP_SHELL.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request));
  }
}

async function fromCache(request) {
  // Only this version's caches: a waiting version's files never leak into a running page.
  const shell = await (await caches.open(SHELL_CACHE)).match(request, { ignoreSearch: true });
  return shell || (await caches.open(STATIC_CACHE)).match(request, { ignoreSearch: true });
}

async function appShell() {
  // Cache-first with no network race: one bar of signal must not make the runner wait.
  return (await fromCache("/app/")) || fetch("/app/");
}

async function cacheFirst(request) {
  const cached = await fromCache(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    const cache = await caches.open(STATIC_CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request) {
  // Other pages are not stored: they can hold private data (admin pages show addresses).
  try {
    return await fetch(request, { signal: AbortSignal.timeout(PAGE_TIMEOUT_MS) });
  } catch {
    return (await fromCache("/offline/")) || Response.error();
  }
}

function handleMessage(event) {
  if (event.data && event.data.type === "SKIP_WAITING") self.skipWaiting();
}

async function backgroundSync() {
  // An open window pushes with its outbox; with none open, the worker pushes by itself.
  const windows = await self.clients.matchAll({ type: "window" });
  if (windows.length > 0) {
    windows.forEach((client) => client.postMessage({ type: "SYNC" }));
    return;
  }
  await pushOutbox();
}

// ---- The same push as outbox.js, for Background Sync with no window open. ----

function idb(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function pushOutbox() {
  const open = indexedDB.open("r4h");
  open.onupgradeneeded = () => open.transaction.abort(); // never create the app's database here
  const db = await idb(open).catch(() => null);
  if (!db) return;
  try {
    const read = db.transaction(["kv", "runs"], "readonly");
    const auth = await idb(read.objectStore("kv").get("auth"));
    const runs = await idb(read.objectStore("runs").index("status").getAll("outbox"));
    const mine = runs.filter((run) => auth && run.runner_id === auth.runner.id).slice(0, 50);
    if (!auth || auth.signin_needed || mine.length === 0) return;
    const response = await fetch("/api/v1/sync", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${auth.token}` },
      body: JSON.stringify({ device_id: auth.device_id, runs: mine.map((run) => run.payload) }),
    });
    const body = await response.json().catch(() => ({}));
    if (!Array.isArray(body.results)) {
      // 401: leave it to the page, which asks for sign-in. Anything else: the browser retries.
      if (response.status === 401) return;
      throw new Error(`sync answered ${response.status}`);
    }
    const write = db.transaction(["runs"], "readwrite", { durability: "strict" });
    const store = write.objectStore("runs");
    for (const result of body.results) {
      const run = mine.find((candidate) => candidate.id === result.id);
      if (!run) continue;
      const current = await idb(store.get(run.id));
      if (!current || current.status !== "outbox") continue;
      store.put(applyResult(current, result, new Date().toISOString()));
    }
    await new Promise((resolve, reject) => {
      write.oncomplete = resolve;
      write.onabort = () => reject(write.error);
    });
  } finally {
    db.close();
  }
}

function applyResult(run, result, now) {
  const accepted = result.status === "created" || result.status === "duplicate";
  return {
    ...run,
    status: accepted ? "synced" : "parked",
    mile_number: result.mile_number ?? null,
    synced_at: accepted ? now : null,
    result: { status: result.status, errors: result.errors || {}, at: now },
  };
}
