// A small IndexedDB wrapper: opens on first use, reopens if the connection goes away.
// Every write is its own transaction, durability "strict": done means on disk.

import "./shared.js";

const { DB_NAME } = self.r4hOutbox;
const DB_VERSION = 1;
let connection = null;

function upgrade(db) {
  db.createObjectStore("kv");
  const runs = db.createObjectStore("runs", { keyPath: "id" });
  runs.createIndex("status", "status");
}

export function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open() {
  if (!connection) {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => upgrade(req.result);
    connection = request(req).then((db) => {
      // A newer tab upgrading the schema, or the browser closing us: reopen on next use.
      db.onversionchange = () => {
        db.close();
        connection = null;
      };
      db.onclose = () => {
        connection = null;
      };
      return db;
    });
    connection.catch(() => {
      connection = null;
    });
  }
  return connection;
}

async function begin(stores, mode) {
  const options = mode === "readwrite" ? { durability: "strict" } : undefined;
  try {
    return (await open()).transaction(stores, mode, options);
  } catch (error) {
    if (error.name !== "InvalidStateError") throw error;
    connection = null; // closed under us: one fresh connection, then give up
    return (await open()).transaction(stores, mode, options);
  }
}

// Runs work(tx) in one transaction; resolves with its result once that is complete.
export async function transact(stores, mode, work) {
  const tx = await begin(stores, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new DOMException("Transaction aborted", "AbortError"));
  });
  let result;
  try {
    result = await work(tx);
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // already finished
    }
    await done.catch(() => {});
    throw error;
  }
  await done;
  return result;
}

const read = (store, ask) => transact([store], "readonly", (tx) => request(ask(tx.objectStore(store))));
const write = (store, ask) => transact([store], "readwrite", (tx) => request(ask(tx.objectStore(store))));

export const getValue = (key) => read("kv", (kv) => kv.get(key));
export const setValue = (key, value) => write("kv", (kv) => kv.put(value, key));
export const getRun = (id) => read("runs", (runs) => runs.get(id));
export const allRuns = () => read("runs", (runs) => runs.getAll());
export const runsWithStatus = (status) => read("runs", (runs) => runs.index("status").getAll(status));
export const putRun = (run) => write("runs", (runs) => runs.put(run));
export const deleteRun = (id) => write("runs", (runs) => runs.delete(id));

// Reads the run, lets change(run) return {run} (or null: no write), stores it, all in one
// strict transaction: two quick taps can never both read the same old run.
export function updateRun(id, change) {
  return transact(["runs"], "readwrite", async (tx) => {
    const store = tx.objectStore("runs");
    const run = await request(store.get(id));
    const outcome = change(run);
    if (outcome && outcome.run) await request(store.put(outcome.run));
    return outcome;
  });
}

// Open now, while the other modules load: a cold start waits on this first.
open();
