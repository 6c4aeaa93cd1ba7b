// Wiring. A cold start draws the counting run first, with only the modules the counter
// needs; the other screens, the service worker and the server come after.

import { firstRead, storageNotices } from "./db.js";
import { notice } from "./dom.js";
import * as counterScreen from "./screen-counter.js";
import { state, update } from "./state.js";

// Drawing the counter costs a cold page its first paint (layout, fonts), and the answer from
// IndexedDB would wait behind it: so the copy is drawn only when IndexedDB is this slow.
const SLOW_INDEXEDDB_MS = 100;

async function start() {
  counterScreen.wire();
  storageNotices.addEventListener("notice", (event) => notice(event.detail.message, event.detail.kind, 8000));
  // db.js asked for the first read as it loaded, and it usually answers before anything is
  // painted: the first paint then shows the run as on disk, lap button on. Only a slow
  // IndexedDB gets the copy first (lap button off), so the first paint does not wait for it.
  let drawn = false;
  const copy = setTimeout(() => (drawn = counterScreen.drawCopy()), SLOW_INDEXEDDB_MS);
  const [counting, auth, bootstrap, settings] = await firstRead;
  clearTimeout(copy);
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
