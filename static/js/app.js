// Wiring. A cold start draws the counting run first, with only the modules the counter
// needs; the other screens, the service worker and the server come after.

import { firstRead, storageNotices } from "./db.js";
import { notice } from "./dom.js";
import * as counterScreen from "./screen-counter.js";
import { state, update } from "./state.js";

// Both waits are "a moment": under it, IndexedDB's answer or a frame is worth waiting for.
const A_MOMENT_MS = 100;

// Resolves once the page has had a frame to paint, or after a moment if it gets none (a
// hidden page gets no frames).
function afterAFrame() {
  return new Promise((painted) => {
    const fallback = setTimeout(painted, A_MOMENT_MS);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(fallback);
        painted();
      }),
    );
  });
}

async function start() {
  counterScreen.wire();
  storageNotices.addEventListener("notice", (event) => notice(event.detail.message, event.detail.kind, 8000));
  // db.js asked for the first read as it loaded. The copy is drawn only if IndexedDB is slow
  // to answer: drawing costs the page's first layout, and the answer would wait behind it.
  let drawn = false;
  const copyTimer = setTimeout(() => (drawn = counterScreen.drawCopy()), A_MOMENT_MS);
  const [counting, auth, bootstrap, settings] = await firstRead;
  clearTimeout(copyTimer);
  update({ auth, bootstrap, settings: { ...state.settings, ...settings } });
  if (counting) counterScreen.resume(counting); // straight back to the lap button
  else if (drawn) counterScreen.dropCopy(); // a copy of a run that is no longer counting
  await afterAFrame(); // the counter reaches the screen before the rest of the app loads
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
