// A small IndexedDB wrapper: opens on first use, reopens if the connection goes away.
// Every write is its own transaction with durability "strict": done means on disk.

const DB_NAME = "r4h";
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

// Runs work(tx) in one transaction; resolves with its result once the transaction is complete.
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

export function getValue(key) {
  return transact(["kv"], "readonly", (tx) => request(tx.objectStore("kv").get(key)));
}

export function setValue(key, value) {
  return transact(["kv"], "readwrite", (tx) => request(tx.objectStore("kv").put(value, key)));
}

export function deleteValue(key) {
  return transact(["kv"], "readwrite", (tx) => request(tx.objectStore("kv").delete(key)));
}

export function getRun(id) {
  return transact(["runs"], "readonly", (tx) => request(tx.objectStore("runs").get(id)));
}

export function allRuns() {
  return transact(["runs"], "readonly", (tx) => request(tx.objectStore("runs").getAll()));
}

export function runsWithStatus(status) {
  return transact(["runs"], "readonly", (tx) =>
    request(tx.objectStore("runs").index("status").getAll(status)),
  );
}

export function putRun(run) {
  return transact(["runs"], "readwrite", (tx) => request(tx.objectStore("runs").put(run)));
}

export function deleteRun(id) {
  return transact(["runs"], "readwrite", (tx) => request(tx.objectStore("runs").delete(id)));
}

// Reads the run, lets change(run) return its new version (or null for no write), stores it:
// all in one strict transaction, so two quick taps can never both read the same old run.
export function updateRun(id, change) {
  return transact(["runs"], "readwrite", async (tx) => {
    const store = tx.objectStore("runs");
    const run = await request(store.get(id));
    const outcome = change(run);
    if (outcome && outcome.run) await request(store.put(outcome.run));
    return outcome;
  });
}
