// Wiring: each screen's buttons, then the first screen from what this phone holds, then
// the service worker and the server.

import * as db from "./db.js";
import { notice } from "./dom.js";
import * as escorts from "./escorts.js";
import * as counterScreen from "./screen-counter.js";
import * as doneScreen from "./screen-done.js";
import * as heroScreen from "./screen-hero.js";
import * as runsScreen from "./screen-runs.js";
import * as signinScreen from "./screen-signin.js";
import { state, update } from "./state.js";
import * as updates from "./updates.js";

async function start() {
  for (const part of [signinScreen, runsScreen, heroScreen, counterScreen, doneScreen, escorts, updates]) {
    part.wire();
  }
  db.storageNotices.addEventListener("notice", (event) => notice(event.detail.message, event.detail.kind, 8000));
  const [auth, counting] = await Promise.all([db.getValue("auth"), db.runsWithStatus("counting")]);
  update({ auth });
  if (counting.length) counterScreen.resume(counting[0]); // straight back to the lap button
  const [bootstrap, settings] = await Promise.all([db.getValue("bootstrap"), db.getValue("settings")]);
  update({ bootstrap, settings: { ...state.settings, ...settings } });
  if (!state.run) await (auth ? runsScreen.showRuns() : signinScreen.showSignin());
  updates.registerWorker();
  updates.askPersistence();
  await updates.refreshBootstrap();
  updates.outbox.push();
}

start();
