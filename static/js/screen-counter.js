// The counter: the lap button, the clock, undo, and finishing the run. What is on screen is
// what IndexedDB holds: every tap is read back from disk before it shows. A cold start whose
// IndexedDB is slow to answer first draws the run from its copy in localStorage; the lap
// button waits for IndexedDB.

import * as counter from "./counter.js";
import * as db from "./db.js";
import { $, buzz, notice, put, show, showMile } from "./dom.js";
import { formatDuration, formatMile, heroTitle } from "./format.js";
import { state, update } from "./state.js";

const UNDO_ARMED_MS = 4000;
const TICKING = { tenths: false }; // the running clocks; lap and mile times show tenths
const COPY_KEY = "r4h-counting"; // the counting run as last stored, read at once on a cold start
let ticker = null;
let undoTimer = null;
let shown = null; // the run on screen: state.run, or the copy until IndexedDB confirms it
let mile = null; // the provisional mile number on screen
let finishedAt = 0; // elapsed when Finish was tapped: the silence after it is not run time
let silence = null; // the silence after the run, once asked for

// silence.js is the hero card's too, loaded after the first screen: not on the cold start's path.
async function afterSilence() {
  const { Silence } = await import("./silence.js");
  silence ||= new Silence(
    (left) => put("after-silence", `Silence ${formatDuration(left, TICKING)} · tap to end`),
    (seconds) => {
      put("after-silence", `Silence kept: ${formatDuration(seconds * 1000, TICKING)}`);
      if (seconds >= 60) buzz(300);
      recordAfter({ silence_seconds: seconds, silence_when: "after" });
    },
  );
  return silence;
}

// Monotonic while the page lives; counter.resumeElapsed bridges reloads.
const elapsedNow = () => performance.now() - state.clockBase;
const setElapsed = (ms) => update({ clockBase: performance.now() - ms });

export function wire() {
  $("lap-button").onpointerdown = onLapTap;
  // A keyboard or switch press is a click with no pointer (detail 0).
  $("lap-button").onclick = (event) => event.detail === 0 && onLapTap(event);
  // WebKit grants the wake lock only just after a tap: a page reopened mid-run, which asked
  // with no tap, is refused. Any tap on the counter asks again while none is held.
  $("screen-counter").addEventListener("click", takeWakeLock);
  $("finish-mile").onclick = openFinish;
  $("undo-lap").onclick = onUndo;
  $("counter-escort").onclick = async () => (await import("./escorts.js")).openEscort(state.run.id);
  $("counter-qr").onclick = async () => (await import("./escorts.js")).openQr(state.run.checkin_qr_svg);
  $("finish-run").onclick = openFinish;
  $("cancel-finish").onclick = closeFinish;
  $("keep-counting").onclick = onKeepCounting;
  $("confirm-finish").onclick = onConfirmFinish;
  $("after-silence").onclick = async () => {
    const after = await afterSilence();
    if (after.running) after.stop();
    else after.start();
  };
  $("prayer-after").onchange = (event) => recordAfter({ prayer_after: event.target.checked });
  addEventListener("pagehide", saveCheckpoint);
  document.addEventListener("visibilitychange", onVisibility);
}

// The copy of the counting run, if this phone left one: drawn at once, with the lap button
// off until resume() brings the run from IndexedDB.
export function drawCopy() {
  let copy = null;
  try {
    copy = JSON.parse(localStorage.getItem(COPY_KEY));
  } catch {
    return false; // no storage, or an unreadable copy: IndexedDB decides alone
  }
  if (!copy?.track) return false;
  setElapsed(counter.resumeElapsed(copy, Date.now()));
  draw(copy, false);
  performance.mark("r4h:counter-drawn");
  return true;
}

function keepCopy(run) {
  try {
    if (run?.status === "counting") localStorage.setItem(COPY_KEY, JSON.stringify({ ...run, log: [] }));
    else localStorage.removeItem(COPY_KEY);
  } catch {
    // Full or blocked: the copy only speeds up the first paint.
  }
}

export async function beginRun(choice) {
  const wall = Date.now();
  setElapsed(0); // lap 1's guard counts from this tap
  const run = counter.startRun(choice, state.auth.runner.id, wall);
  await db.putRun(run);
  resume(await db.getRun(run.id), elapsedNow()); // the clock has run since the tap
}

// The run as IndexedDB holds it: the counter, ready for taps.
export function resume(run, elapsed = counter.resumeElapsed(run, Date.now())) {
  setElapsed(elapsed);
  update({ run });
  keepCopy(run);
  draw(run, true);
  performance.mark("r4h:lap-ready"); // the offline start benchmark reads this
  takeWakeLock();
}

// Leaves the counter drawn from a copy that IndexedDB did not confirm.
export function dropCopy() {
  keepCopy(null);
  shown = null;
  clearInterval(ticker);
}

function draw(run, ready) {
  shown = run;
  put("counter-hero", `For ${heroTitle(run.hero)}`);
  $("lap-button").disabled = !ready;
  $("confirm-panel").hidden = true;
  disarmUndo();
  renderCounter();
  show("counter");
  clearInterval(ticker);
  ticker = setInterval(renderClock, 250);
}

function renderCounter() {
  const run = shown;
  const stats = counter.runStats(run, elapsedNow());
  const atTarget = stats.count >= stats.target;
  put("lap-count", String(stats.count));
  put("lap-of", ` / ${stats.target}`);
  put("last-split", formatDuration(stats.lastSplitMs));
  put("mile-banner", `Mile complete · ${formatDuration(stats.mileMs)}`, !stats.mileComplete);
  put("projected-label", stats.mileComplete ? "Mile time" : "Projected mile");
  document.body.classList.toggle("mile-done", stats.mileComplete);
  // At the mile the big button finishes it; laps past it need "Keep counting" first.
  $("lap-button").hidden = atTarget;
  $("finish-mile").hidden = !atTarget;
  $("counter-qr").hidden = !run.checkin_qr_svg;
  if (stats.mileComplete) renderMile(run);
  renderClock();
}

async function renderMile(run) {
  const number = await provisionalMile(run);
  if (shown?.id !== run.id) return;
  mile = number;
  if (number) showMile("counter-mile", number);
  else put("counter-mile", "");
}

// Until the server numbers it, the mile takes the next number after the runner's miles
// already counted here and waiting to sync.
async function provisionalMile(run) {
  const runner = state.bootstrap?.runner;
  if (!runner || state.bootstrap.runner.id !== run.runner_id) return null;
  const waiting = await db.runsWithStatus("outbox");
  const before = waiting.filter((r) => r.runner_id === run.runner_id && r.laps.length >= r.track.laps_per_mile);
  return runner.next_mile_number + before.length;
}

function renderClock() {
  if (!shown) return;
  const stats = counter.runStats(shown, elapsedNow());
  put("elapsed", formatDuration(elapsedNow(), TICKING));
  put("current-lap-no", stats.count < stats.target ? `Lap ${stats.currentLap}` : "Since the mile");
  put("current-lap", formatDuration(stats.currentLapMs, TICKING));
  put("projected", formatDuration(stats.projectedMs));
}

async function onLapTap(event) {
  if (!state.run) return; // drawn from the copy: IndexedDB has not confirmed the run yet
  event.preventDefault();
  // The lap is when the runner passed, the moment of the tap, even if a busy phone runs this later.
  const elapsed = event.timeStamp - state.clockBase;
  const outcome = await db.appendToRun(state.run, (run) => counter.recordTap(run, elapsed, Date.now()));
  // From pointerdown to the strict transaction being complete: the benchmark reads this.
  performance.measure("r4h:tap", { start: event.timeStamp, end: performance.now() });
  await reread();
  const { count, perMile } = counter.runStats(state.run, elapsed);
  if (outcome.counted) {
    buzz(count === perMile ? [200, 100, 200] : 40);
    if (state.settings.speak) say(`Lap ${count} of ${perMile}${count === perMile ? ". Mile complete." : ""}`);
  } else if (outcome.reason === "too_soon") {
    notice(`Too soon: tap ignored. A lap here takes at least ${Math.round(state.run.track.min_lap_ms / 1000)} s.`, "warn");
  } else if (outcome.reason === "full") {
    notice(`A run holds at most ${counter.MAX_LAPS} laps. Finish this one.`, "warn");
  }
}

function say(words) {
  if (!("speechSynthesis" in window)) return;
  speechSynthesis.cancel(); // the newest lap matters, not a queue of old ones
  speechSynthesis.speak(new SpeechSynthesisUtterance(words));
}

// What is on screen is what is on disk: the run read back after each write.
async function reread() {
  const run = await db.getRun(state.run.id);
  if (!run || run.status !== "counting") return;
  update({ run });
  shown = run;
  keepCopy(run);
  renderCounter();
}

function disarmUndo() {
  clearTimeout(undoTimer);
  undoTimer = null;
  put("undo-lap", "Undo last lap");
  $("undo-lap").classList.remove("armed");
}

async function onUndo() {
  if (!state.run) return;
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
  const outcome = await db.appendToRun(state.run, (run) => counter.undoLap(run, elapsedNow(), Date.now()));
  await reread();
  if (outcome.removed) notice(`Lap ${outcome.removed.seq} undone.`);
}

function openFinish() {
  if (!state.run) return;
  finishedAt = elapsedNow();
  const { count, target, mileComplete } = counter.runStats(state.run, finishedAt);
  let text = `${count} of ${target} laps in ${formatDuration(finishedAt)}.`;
  if (!count) text = "No laps were counted. Finishing drops this start, and any photo taken during it.";
  else if (!mileComplete) text += " Short of a mile: it is kept as incomplete, with no mile number.";
  else if (mile) text = `Mile ${formatMile(mile)} for ${heroTitle(state.run.hero)}. ${text}`;
  put("confirm-text", text);
  // At the mile, laps past it are a choice made here; short of it, the sheet just closes.
  $("keep-counting").hidden = count < target;
  put("cancel-finish", count < target ? "Keep counting" : "Back");
  // The steps after the run, for a run that is kept: the silence and the prayer.
  const { silence_seconds: seconds, silence_when: when, prayer_after: prayed } = state.run.ceremony || {};
  const kept = when !== "before" && seconds; // a silence on the hero card is not this one
  $("after-mile").hidden = !count;
  put("after-silence", kept ? `Silence kept: ${formatDuration(kept * 1000, TICKING)}` : "Moment of silence");
  $("prayer-after").checked = Boolean(prayed);
  $("confirm-panel").hidden = false;
  $("confirm-finish").focus();
}

function closeFinish() {
  silence?.stop();
  $("confirm-panel").hidden = true;
}

// A step after the run, stored with it at once: a reload keeps it.
function recordAfter(step) {
  const id = state.run?.id;
  if (!id) return;
  const change = (run) => ({ run: { ...run, ceremony: { ...counter.noCeremony(), ...run.ceremony, ...step } } });
  return db.updateRun(id, (run) => (run?.status === "counting" ? change(run) : null)).then(reread);
}

async function onKeepCounting() {
  closeFinish();
  await db.appendToRun(state.run, (run) => counter.keepCounting(run, Date.now()));
  await reread();
  notice(`Counting on: ${state.run.laps.length} of ${counter.targetLaps(state.run)} laps.`);
}

async function onConfirmFinish() {
  const { id } = state.run;
  const elapsed = finishedAt;
  const number = mile;
  closeFinish();
  const run = await db.getRun(id);
  const empty = !run.laps.length && !run.checkins.length;
  if (empty) await db.deleteRun(id); // nothing counted: a planned run simply stays planned
  else {
    await db.updateRun(id, (stored) => {
      const outcome = counter.finishRun(stored, elapsed);
      if (outcome.run && outcome.run.laps.length >= outcome.run.track.laps_per_mile) {
        outcome.run.provisional_mile = number;
      }
      return outcome;
    });
  }
  clearInterval(ticker);
  update({ run: null });
  dropCopy();
  document.body.classList.remove("mile-done");
  state.wakeLock?.release().catch(() => {});
  if (empty) return (await import("./screen-runs.js")).showRuns();
  await (await import("./screen-done.js")).showDone(id);
  const [outbox, updates] = await Promise.all([import("./outbox.js"), import("./updates.js")]);
  outbox.requestBackgroundSync();
  updates.outbox.pushSoon();
}

const wakeLockHeld = () => Boolean(state.wakeLock && !state.wakeLock.released);

// Asked when counting starts or resumes, when the page comes back, and at any tap on the
// counter while none is held. Two asks may be out at once (a tap during a slow answer): the
// first lock granted is kept, and a later one is let go.
async function takeWakeLock() {
  if (!("wakeLock" in navigator)) return put("wake-line", "Keep the screen on while counting: this browser cannot.");
  if (!state.run || document.visibilityState !== "visible" || wakeLockHeld()) return;
  try {
    const lock = await navigator.wakeLock.request("screen");
    if (!state.run || wakeLockHeld()) return lock.release(); // finished meanwhile, or already held
    update({ wakeLock: lock });
    put("wake-line", "The screen stays on while counting.");
    lock.addEventListener("release", () => put("wake-line", "The screen may dim: keep it on by hand."));
  } catch {
    // Battery saver or no permission: the counter works, the screen may dim.
    if (!wakeLockHeld()) put("wake-line", "The screen may dim: keep it on by hand.");
  }
}

function saveCheckpoint() {
  if (!state.run) return;
  const elapsed = elapsedNow();
  keepCopy(counter.checkpoint(state.run, elapsed, Date.now()).run);
  const known = state.run;
  db.appendToRun(known, (run) => counter.checkpoint(run, elapsed, Date.now())).then(({ run }) => {
    // As stored, so the next tap's transaction needs only the newest key.
    if (run && state.run === known) update({ run });
  });
}

function onVisibility() {
  if (document.visibilityState === "hidden") return saveCheckpoint();
  if (!state.run) return;
  // performance.now() can pause while a phone sleeps: catch up by the wall clock, never back.
  // state.run is the run as this page last stored it, its checkpoint included.
  const caughtUp = counter.resumeElapsed(state.run, Date.now());
  if (caughtUp > elapsedNow()) setElapsed(caughtUp);
  renderCounter();
  takeWakeLock();
}
