// A small IndexedDB wrapper: opens on first use, reopens if the connection goes away.
// Every write is its own transaction, durability "strict": done means on disk.

import { tally } from "./counter.js";
import "./shared.js";

const { DB_NAME } = self.r4hOutbox;
const DB_VERSION = 2;
let connection = null;

// Version 2 adds two stores; a phone upgrading from version 1 keeps its runs as they are.
// laps: a counting run's taps, one small record each, keyed [run id, n]; a run stored by
// version 1 needs no rewrite, its taps since start from its record. photos: the run's photos.
function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore("kv");
    db.createObjectStore("runs", { keyPath: "id" }).createIndex("status", "status");
  }
  if (oldVersion < 2) {
    db.createObjectStore("laps", { keyPath: ["run_id", "n"] });
    db.createObjectStore("photos", { keyPath: "id" }).createIndex("run_id", "run_id");
  }
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
    req.onupgradeneeded = (event) => upgrade(req.result, event.oldVersion);
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

// WebKit loses its IndexedDB connection when the app goes to the background ("UnknownError:
// Connection to Indexed Database server lost"), and a closed connection refuses new
// transactions with InvalidStateError. Either way the failed transaction wrote nothing, so it
// runs once more on a fresh connection, and a write tells the page in plain words.
export const storageNotices = new EventTarget(); // "notice" events: detail {message, kind}
const RETRIED =
  "This phone's storage lost its connection for a moment. It reconnected and saved again: nothing is lost.";
const FAILED = "This phone's storage is not answering: the last change was not saved. Try again, or reload the app.";

class ConnectionLost extends Error {
  constructor(cause) {
    super(`IndexedDB connection lost (${cause.name}: ${cause.message})`, { cause });
    this.name = "ConnectionLost";
  }
}

// Tests only: the next write fails as a lost connection does. "lost": WebKit's UnknownError
// in the middle of the transaction; "closed": the database closed under us. No app code calls it.
let faultForTests = null;
export function failNextWriteForTests(kind = "lost") {
  faultForTests = kind;
}

// Runs work(tx) in one transaction; resolves with its result once that is complete (a read:
// once its requests have answered).
export async function transact(stores, mode, work) {
  const writing = mode === "readwrite";
  try {
    return await attempt(stores, mode, work);
  } catch (error) {
    if (!(error instanceof ConnectionLost)) throw error;
    try {
      const result = await attempt(stores, mode, work);
      if (writing) tell(RETRIED, "info");
      return result;
    } catch (again) {
      if (writing) tell(FAILED, "warn");
      throw again;
    }
  }
}

function tell(message, kind) {
  storageNotices.dispatchEvent(new CustomEvent("notice", { detail: { message, kind } }));
}

const isLost = (error) => error?.name === "UnknownError";

async function attempt(stores, mode, work) {
  const writing = mode === "readwrite";
  const opening = open();
  const lost = (cause) => {
    if (connection === opening) connection = null; // the next open() makes a fresh one
    opening.then((db) => db.close()).catch(() => {});
    return new ConnectionLost(cause);
  };
  let fault = null;
  if (writing) [fault, faultForTests] = [faultForTests, null];

  let tx;
  try {
    const db = await opening;
    if (fault === "closed") db.close();
    tx = db.transaction(stores, mode, writing ? { durability: "strict" } : undefined);
  } catch (error) {
    throw isLost(error) || error.name === "InvalidStateError" ? lost(error) : error;
  }
  let failure = null; // why the transaction failed, once it has
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject((failure ||= tx.error));
    tx.onabort = () => reject((failure ||= tx.error || new DOMException("Transaction aborted", "AbortError")));
  });
  let result;
  try {
    result = work(tx); // its first requests go out now, in this task
    if (fault === "lost") {
      failure = new DOMException("Connection to Indexed Database server lost", "UnknownError");
      tx.abort();
    }
    result = await result;
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // already finished
    }
    await done.catch(() => {});
    throw isLost(failure) || isLost(error) ? lost(failure || error) : error;
  }
  if (!writing) {
    // A read is whole once its requests have answered; its commit adds nothing, and on a cold
    // start the complete event can wait behind the page's first layout and paint.
    done.catch(() => {});
    return result;
  }
  try {
    await done;
  } catch (error) {
    throw isLost(error) ? lost(error) : error;
  }
  return result;
}

const read = (store, ask) => transact([store], "readonly", (tx) => request(ask(tx.objectStore(store))));
const write = (store, ask) => transact([store], "readwrite", (tx) => request(ask(tx.objectStore(store))));

export const getValue = (key) => read("kv", (kv) => kv.get(key));
export const setValue = (key, value) => write("kv", (kv) => kv.put(value, key));
export const putRun = (run) => write("runs", (runs) => runs.put(run));
export const putPhoto = (photo) => write("photos", (photos) => photos.put(photo));
export const allPhotos = () => read("photos", (photos) => photos.getAll());
export const deletePhoto = (id) => write("photos", (photos) => photos.delete(id));
export const runIds = () => read("runs", (runs) => runs.getAllKeys());
export const photosOfRun = (runId) => read("photos", (photos) => photos.index("run_id").getAll(runId));

// Reads the photo and stores it with change(photo)'s fields, in one strict transaction.
export const updatePhoto = (id, change) =>
  transact(["photos"], "readwrite", async (tx) => {
    const store = tx.objectStore("photos");
    const photo = await request(store.get(id));
    if (photo) await request(store.put({ ...photo, ...change(photo) }));
  });

const tapsOf = (id) => IDBKeyRange.bound([id, 0], [id, Infinity]);

// A run as on disk: its record, with a counting run's taps since applied (counter.tally).
async function withTaps(tx, run) {
  if (run?.status !== "counting") return run;
  return tally(run, await request(tx.objectStore("laps").getAll(tapsOf(run.id))));
}

const readRuns = (ask) =>
  transact(["runs", "laps"], "readonly", async (tx) => {
    const found = await request(ask(tx.objectStore("runs")));
    return Array.isArray(found) ? Promise.all(found.map((run) => withTaps(tx, run))) : withTaps(tx, found);
  });
export const getRun = (id) => readRuns((runs) => runs.get(id));
export const allRuns = () => readRuns((runs) => runs.getAll());
export const runsWithStatus = (status) => readRuns((runs) => runs.index("status").getAll(status));

// The run, its taps and its photos, in one transaction: no photo is left without its run.
export const deleteRun = (id) =>
  transact(["runs", "laps", "photos"], "readwrite", async (tx) => {
    tx.objectStore("laps").delete(tapsOf(id));
    const photos = tx.objectStore("photos");
    for (const key of await request(photos.index("run_id").getAllKeys(id))) photos.delete(key);
    return request(tx.objectStore("runs").delete(id));
  });

// Reads the run as on disk, lets change(run) return {run} (or null: no write), and stores it
// whole (taps folded in), in one strict transaction: two quick writes never read the same run.
export function updateRun(id, change) {
  return transact(["runs", "laps"], "readwrite", async (tx) => {
    const run = await withTaps(tx, await request(tx.objectStore("runs").get(id)));
    const outcome = change(run);
    if (outcome?.run) {
      tx.objectStore("laps").delete(tapsOf(id));
      await request(tx.objectStore("runs").put(outcome.run));
    }
    return outcome;
  });
}

// A tap, undo or checkpoint: change(run) returns {run, entry}; the entry is appended, in one
// strict transaction. known is the run as the page last stored it. The entry worked out from
// known goes out with the read of the newest key, so a tap costs one round trip to the
// database, as a single put does; if a write the page has not seen came first (a quick tap),
// that transaction writes nothing and a second one reads the whole run before it appends.
export async function appendToRun(known, change) {
  const guess = change(known);
  if (guess.entry) {
    try {
      return await transact(["runs", "laps"], "readwrite", (tx) => appendIfCurrent(tx, known, guess));
    } catch (error) {
      if (!(error instanceof Stale)) throw error;
    }
  }
  return transact(["runs", "laps"], "readwrite", async (tx) => {
    const laps = tx.objectStore("laps");
    const newest = await request(laps.openKeyCursor(tapsOf(known.id), "prev"));
    let run = known;
    if (newest?.key[1] !== known.n) run = await withTaps(tx, await request(tx.objectStore("runs").get(known.id)));
    const outcome = change(run);
    if (outcome.entry) await request(laps.add({ ...outcome.entry, run_id: known.id, n: outcome.run.n }));
    return outcome;
  });
}

class Stale extends Error {}

// Both requests go out in this task; the add is kept only if the newest key is known's. If it
// is not, the add may fail on a key already there: either way the transaction is aborted.
async function appendIfCurrent(tx, known, outcome) {
  const laps = tx.objectStore("laps");
  const newest = request(laps.openKeyCursor(tapsOf(known.id), "prev"));
  const adding = laps.add({ ...outcome.entry, run_id: known.id, n: outcome.run.n });
  if ((await newest)?.key[1] !== known.n) throw new Stale();
  const added = request(adding);
  tx.commit?.(); // nothing more to ask: the commit need not wait for the add's answer
  await added;
  return outcome;
}

// Everything the first screen needs, in one read transaction, asked for as this module runs:
// index.html loads it first, with only counter.js and shared.js under it, so a cold start's
// read runs while the rest of the app loads. Only the counting run has taps in the laps
// store, so all of them are read at once with it. Resolves with [the counting run, taps
// applied (or undefined), auth, bootstrap, settings].
export const firstRead = transact(["kv", "runs", "laps"], "readonly", async (tx) => {
  const kv = tx.objectStore("kv");
  const counting = tx.objectStore("runs").index("status").get("counting");
  const asks = [counting, tx.objectStore("laps").getAll(), kv.get("auth"), kv.get("bootstrap"), kv.get("settings")];
  const [run, taps, ...values] = await Promise.all(asks.map(request));
  return [run && tally(run, taps.filter((tap) => tap.run_id === run.id)), ...values];
});
