// Wiring. A cold start draws the counting run first, with only the modules the counter
// needs; the other screens, the service worker and the server come after.

import { firstRead, storageNotices } from "./db.js";
import { notice } from "./dom.js";
import * as counterScreen from "./screen-counter.js";
import { state, update } from "./state.js";

const COPY_AFTER_MS = 100;

async function start() {
  counterScreen.wire();
  storageNotices.addEventListener("notice", (event) => notice(event.detail.message, event.detail.kind, 8000));
  // db.js asked for the first read as it loaded. The copy is drawn only if IndexedDB is slow
  // to answer: drawing costs the page's first layout, and the answer would wait behind it.
  let drawn = false;
  const copyTimer = setTimeout(() => (drawn = counterScreen.drawCopy()), COPY_AFTER_MS);
  const [counting, auth, bootstrap, settings] = await firstRead;
  clearTimeout(copyTimer);
  update({ auth, bootstrap, settings: { ...state.settings, ...settings } });
  if (counting) counterScreen.resume(counting); // straight back to the lap button
  else if (drawn) counterScreen.dropCopy(); // a copy of a run that is no longer counting
  // The counter reaches the screen before the rest of the app loads and runs (a hidden page
  // gets no frames: it goes on after a moment).
  await new Promise((painted) => {
    requestAnimationFrame(() => setTimeout(painted));
    setTimeout(painted, 100);
  });
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
