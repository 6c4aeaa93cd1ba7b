// Wiring. A cold start draws the counting run first, with only the modules the counter
// needs; the other screens, the service worker and the server come after.

import * as counter from "./counter.js";
import * as db from "./db.js";
import { notice } from "./dom.js";
import * as counterScreen from "./screen-counter.js";
import { state, update } from "./state.js";

// Everything the first screen needs, in one read transaction.
// Only the counting run has taps in the laps store, so all of them are read at once with it.
const firstRead = () =>
  db.transact(["kv", "runs", "laps"], "readonly", async (tx) => {
    const kv = tx.objectStore("kv");
    const counting = tx.objectStore("runs").index("status").get("counting");
    const asks = [counting, tx.objectStore("laps").getAll(), kv.get("auth"), kv.get("bootstrap"), kv.get("settings")];
    const [run, taps, ...values] = await Promise.all(asks.map(db.request));
    return [run && counter.tally(run, taps.filter((tap) => tap.run_id === run.id)), ...values];
  });

async function start() {
  counterScreen.wire();
  db.storageNotices.addEventListener("notice", (event) => notice(event.detail.message, event.detail.kind, 8000));
  const reading = firstRead(); // asked before the copy is drawn: IndexedDB works meanwhile
  const drawn = counterScreen.drawCopy();
  const [counting, auth, bootstrap, settings] = await reading;
  update({ auth, bootstrap, settings: { ...state.settings, ...settings } });
  if (counting) counterScreen.resume(counting); // straight back to the lap button
  else if (drawn) counterScreen.dropCopy(); // a copy of a run that is no longer counting
  const parts = await Promise.all([
    import("./screen-signin.js"),
    import("./screen-runs.js"),
    import("./screen-hero.js"),
    import("./screen-done.js"),
    import("./escorts.js"),
    import("./updates.js"),
    import("./install.js"),
  ]);
  for (const part of parts) part.wire();
  const [signin, runs, , , , updates] = parts;
  if (!state.run) await (auth ? runs.showRuns() : signin.showSignin());
  updates.registerWorker();
  await updates.refreshBootstrap();
  updates.outbox.push();
}

start();
