// The counter: the lap button, the clock, undo, and finishing the run. What is on screen is
// what IndexedDB holds: every tap is read back from disk before it shows.

import * as counter from "./counter.js";
import * as db from "./db.js";
import { $, buzz, notice, put, say, show } from "./dom.js";
import { openEscort } from "./escorts.js";
import { formatDuration, heroTitle } from "./format.js";
import { requestBackgroundSync } from "./outbox.js";
import { showDone } from "./screen-done.js";
import { showRuns } from "./screen-runs.js";
import { state, update } from "./state.js";
import { outbox } from "./updates.js";

const UNDO_ARMED_MS = 4000;
const TICKING = { tenths: false }; // the running clocks; lap and mile times show tenths
let ticker = null;
let undoTimer = null;

// Monotonic while the page lives; counter.resumeElapsed bridges reloads.
const elapsedNow = () => performance.now() - state.clockBase;
const setElapsed = (ms) => update({ clockBase: performance.now() - ms });

export function wire() {
  $("lap-button").onpointerdown = onLapTap;
  // A keyboard or switch press is a click with no pointer (detail 0).
  $("lap-button").onclick = (event) => event.detail === 0 && onLapTap(event);
  $("undo-lap").onclick = onUndo;
  $("counter-escort").onclick = () => openEscort(state.run.id);
  $("finish-run").onclick = openFinish;
  $("cancel-finish").onclick = () => ($("confirm-panel").hidden = true);
  $("confirm-finish").onclick = onConfirmFinish;
  addEventListener("pagehide", saveCheckpoint);
  document.addEventListener("visibilitychange", onVisibility);
}

export async function beginRun(choice) {
  const wall = Date.now();
  setElapsed(0); // lap 1's guard counts from this tap
  const run = counter.startRun(choice, state.auth.runner.id, wall);
  await db.putRun(run);
  update({ run: await db.getRun(run.id) });
  enterCounter();
}

export function resume(run) {
  setElapsed(counter.resumeElapsed(run, Date.now()));
  update({ run });
  enterCounter();
}

export function enterCounter() {
  put("counter-hero", `For ${heroTitle(state.run.hero)}`);
  $("confirm-panel").hidden = true;
  disarmUndo();
  renderCounter();
  show("counter");
  clearInterval(ticker);
  ticker = setInterval(renderClock, 250);
  performance.mark("r4h:lap-ready"); // the offline start benchmark reads this
  takeWakeLock();
}

function renderCounter() {
  const stats = counter.runStats(state.run, elapsedNow());
  put("lap-count", String(stats.count));
  put("lap-of", ` / ${stats.perMile}`);
  put("last-split", formatDuration(stats.lastSplitMs));
  put("mile-banner", `Mile complete · ${formatDuration(stats.mileMs)}`, !stats.mileComplete);
  put("projected-label", stats.mileComplete ? "Mile time" : "Projected mile");
  document.body.classList.toggle("mile-done", stats.mileComplete);
  renderClock();
}

function renderClock() {
  if (!state.run) return;
  const stats = counter.runStats(state.run, elapsedNow());
  put("elapsed", formatDuration(elapsedNow(), TICKING));
  put("current-lap-no", String(stats.currentLap));
  put("current-lap", formatDuration(stats.currentLapMs, TICKING));
  put("projected", formatDuration(stats.projectedMs));
}

async function onLapTap(event) {
  if (!state.run) return;
  event.preventDefault();
  const elapsed = elapsedNow();
  const outcome = await db.updateRun(state.run.id, (run) => counter.recordTap(run, elapsed, Date.now()));
  // From pointerdown to the strict transaction being complete: the benchmark reads this.
  performance.measure("r4h:tap", { start: event.timeStamp, end: performance.now() });
  const run = await db.getRun(state.run.id); // what is on screen is what is on disk
  if (!run || run.status !== "counting") return;
  update({ run });
  renderCounter();
  const { count, perMile } = counter.runStats(run, elapsed);
  if (outcome.counted) {
    buzz(count === perMile ? [200, 100, 200] : 40);
    if (state.settings.speak) say(`Lap ${count} of ${perMile}${count === perMile ? ". Mile complete." : ""}`);
  } else if (outcome.reason === "too_soon") {
    notice(`Too soon: tap ignored. A lap here takes at least ${Math.round(run.track.min_lap_ms / 1000)} s.`, "warn");
  } else if (outcome.reason === "full") {
    notice(`A run holds at most ${counter.MAX_LAPS} laps. Finish this one.`, "warn");
  }
}

function disarmUndo() {
  clearTimeout(undoTimer);
  undoTimer = null;
  put("undo-lap", "Undo last lap");
  $("undo-lap").classList.remove("armed");
}

async function onUndo() {
  const laps = state.run.laps.length;
  if (!laps) return notice("No lap to undo.");
  if (!undoTimer) {
    // A stray tap cannot undo: the first tap only arms the button for a few seconds.
    put("undo-lap", `Tap again to undo lap ${laps}`);
    $("undo-lap").classList.add("armed");
    undoTimer = setTimeout(disarmUndo, UNDO_ARMED_MS);
    return;
  }
  disarmUndo();
  const outcome = await db.updateRun(state.run.id, (run) => counter.undoLap(run, elapsedNow(), Date.now()));
  update({ run: await db.getRun(state.run.id) });
  renderCounter();
  if (outcome.removed) notice(`Lap ${outcome.removed.seq} undone.`);
}

function openFinish() {
  const { count, perMile, mileComplete } = counter.runStats(state.run, elapsedNow());
  let text = `${count} of ${perMile} laps in ${formatDuration(elapsedNow())}.`;
  if (!count) text = "No laps were counted. Finishing drops this start.";
  else if (!mileComplete) text += " Short of a mile: it is kept as incomplete, with no mile number.";
  put("confirm-text", text);
  $("confirm-panel").hidden = false;
  $("confirm-finish").focus();
}

async function onConfirmFinish() {
  const { id } = state.run;
  const elapsed = elapsedNow();
  $("confirm-panel").hidden = true;
  const run = await db.getRun(id);
  const empty = !run.laps.length && !run.checkins.length;
  if (empty) await db.deleteRun(id); // nothing counted: a planned run simply stays planned
  else await db.updateRun(id, (stored) => counter.finishRun(stored, elapsed));
  clearInterval(ticker);
  update({ run: null });
  document.body.classList.remove("mile-done");
  state.wakeLock?.release().catch(() => {});
  if (empty) return showRuns();
  await showDone(id);
  requestBackgroundSync();
  outbox.pushSoon();
}

async function takeWakeLock() {
  if (!("wakeLock" in navigator) || !state.run || document.visibilityState !== "visible") return;
  try {
    update({ wakeLock: await navigator.wakeLock.request("screen") });
  } catch {
    // Battery saver or no permission: the counter works, the screen may dim.
  }
}

function saveCheckpoint() {
  if (state.run) db.updateRun(state.run.id, (run) => counter.checkpoint(run, elapsedNow(), Date.now()));
}

async function onVisibility() {
  if (document.visibilityState === "hidden") return saveCheckpoint();
  if (!state.run) return;
  // performance.now() can pause while a phone sleeps: catch up by the wall clock, never back.
  const run = await db.getRun(state.run.id);
  if (run?.status === "counting") {
    update({ run });
    const caughtUp = counter.resumeElapsed(run, Date.now());
    if (caughtUp > elapsedNow()) setElapsed(caughtUp);
    renderCounter();
  }
  takeWakeLock();
}
