// Wiring: screens, taps, the clock, sign-in, the outbox, the service worker.

import { fetchBootstrap, inPlainWords, signIn } from "./api.js";
import * as counter from "./counter.js";
import * as db from "./db.js";
import { Outbox, requestBackgroundSync } from "./outbox.js";

const state = {
  settings: { speak: false },
  choice: null, // the run picked, before "Begin laps"
  run: null, // the counting run, as last read back from IndexedDB
  clockBase: 0, // performance.now() at elapsed 0
  stopRoster: () => {},
};
// Once the server answered, refresh the next mile number and the planned runs.
const outbox = new Outbox((answered) => {
  if (answered) refreshBootstrap();
  renderSync();
});
const duration = counter.formatDuration;

// Monotonic while the page lives; counter.resumeElapsed bridges reloads.
const elapsedNow = () => performance.now() - state.clockBase;
const setElapsed = (ms) => (state.clockBase = performance.now() - ms);
const heroTitle = (hero) => `${hero.rank} ${hero.name}`.trim();

async function start() {
  wire();
  const [auth, counting] = await Promise.all([db.getValue("auth"), db.runsWithStatus("counting")]);
  state.auth = auth;
  if (counting.length) resume(counting[0]); // straight back to the lap button
  const [bootstrap, settings] = await Promise.all([db.getValue("bootstrap"), db.getValue("settings")]);
  state.bootstrap = bootstrap;
  state.settings = { ...state.settings, ...settings };
  if (!state.run) await (auth ? showRuns() : showSignin());
  registerWorker();
  askPersistence();
  await refreshBootstrap();
  outbox.push();
}

function wire() {
  const clicks = {
    "signin-cancel": () => {
      state.signinDismissed = true;
      showRuns();
    },
    "signin-again": () => showSignin(),
    "hero-back": showRuns,
    "open-prayer": openPrayer,
    "prayer-done": openSilence,
    "prayer-skip": closeCeremony,
    "open-silence": openSilence,
    "silence-start": startSilence,
    "silence-skip": closeCeremony,
    "hero-qr": () => $("hero-qr").classList.toggle("full"),
    "begin-laps": onBegin,
    // A keyboard or switch press is a click with no pointer (detail 0).
    "lap-button": (event) => event.detail === 0 && onLapTap(event),
    "undo-lap": onUndo,
    "finish-run": openFinish,
    "cancel-finish": () => ($("confirm-panel").hidden = true),
    "confirm-finish": onConfirmFinish,
    "counter-escort": () => openEscort(state.run.id),
    "done-escort": () => openEscort(state.doneId),
    "escort-cancel": () => ($("escort-panel").hidden = true),
    "done-export": () => exportRun(state.doneId),
    "done-back": showRuns,
    "sync-now": () => {
      notice("Syncing…");
      outbox.pushSoon();
    },
    "update-ready": applyUpdate,
  };
  for (const [id, handler] of Object.entries(clicks)) $(id).onclick = handler;
  $("lap-button").onpointerdown = onLapTap;
  $("signin-form").onsubmit = onSignin;
  $("unplanned-form").onsubmit = onUnplanned;
  $("escort-form").onsubmit = onSaveEscort;
  $("speak-laps").onchange = (event) => saveSettings({ speak: event.target.checked });
  addEventListener("online", () => outbox.pushSoon());
  addEventListener("pagehide", saveCheckpoint);
  document.addEventListener("visibilitychange", onVisibility);
  db.storageNotices.addEventListener("notice", (event) => notice(event.detail.message, event.detail.kind, 8000));
}

function showSignin(reason) {
  $("signin-email").value ||= state.auth?.runner.email || "";
  put("signin-reason", reason || "", !reason);
  $("signin-cancel").hidden = !state.auth;
  show("signin");
  $("sync-bar").hidden = !state.auth; // a first sign-in has nothing to sync yet
}

async function onSignin(event) {
  event.preventDefault();
  const button = event.submitter;
  button.disabled = true;
  put("signin-error", "", true);
  try {
    // A fresh {token, device_id, expires_at, runner}, so signin_needed is gone.
    state.auth = await signIn($("signin-email").value, $("signin-password").value, $("signin-device").value);
    await db.setValue("auth", state.auth);
    $("signin-password").value = "";
    await refreshBootstrap();
    await (state.run ? enterCounter() : showRuns());
    outbox.pushSoon();
  } catch (err) {
    const words = err.code === "network" ? "No connection. Signing in needs a signal once." : inPlainWords(err);
    put("signin-error", err.status === 401 ? err.message : words, false);
  } finally {
    button.disabled = false;
  }
}

async function refreshBootstrap() {
  if (!state.auth || state.auth.signin_needed) return;
  try {
    const data = await fetchBootstrap(state.auth.token);
    await db.setValue("bootstrap", data);
    state.bootstrap = data;
    if (current() === "runs") await renderRuns();
  } catch (err) {
    if (err.status !== 401) return;
    await db.setValue("auth", { ...state.auth, signin_needed: { code: err.code, message: err.message } });
    renderSync();
  }
}

async function showRuns() {
  state.stopRoster();
  await renderRuns();
  await renderSyncBar();
  show("runs");
  renderSync();
}

async function renderRuns() {
  const boot = state.bootstrap;
  const runs = (await db.allRuns()).sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));
  const local = new Set(runs.map((run) => run.id));
  const runner = boot ? boot.runner : state.auth?.runner;
  put("runner-line", runner ? runner.name + (boot ? ` · next mile #${runner.next_mile_number}` : "") : "");

  const planned = boot ? boot.planned_runs.filter((run) => !local.has(run.id)) : [];
  const choice = (run) =>
    el(
      "button",
      { className: "choice", dataset: { testid: "planned-run" }, onclick: () => openHero(run) },
      el("strong", {}, heroTitle(run.hero)),
      el("span", {}, [formatWhen(run.scheduled_at), run.track.name].filter(Boolean).join(" · ")),
    );
  $("planned-list").replaceChildren(...planned.map((run) => el("li", {}, choice(run))));
  $("planned-empty").hidden = planned.length > 0;
  fillSelect("unplanned-hero", boot ? boot.heroes : [], (h) => `${heroTitle(h)} — ${h.agency}`);
  fillSelect("unplanned-track", boot ? boot.tracks : [], (t) => `${t.name} (${t.laps_per_mile} laps a mile)`);

  const parked = runs.filter((run) => run.status === "parked");
  const others = runs.filter((run) => run.status !== "parked");
  $("parked-heading").hidden = !parked.length;
  $("parked-list").replaceChildren(...parked.map(runItem));
  $("history-heading").hidden = !others.length;
  $("history-list").replaceChildren(...others.map(runItem));
}

function fillSelect(id, items, label) {
  const select = $(id);
  const chosen = select.value;
  select.replaceChildren(...items.map((item) => el("option", { value: item.id, textContent: label(item) })));
  if (chosen) select.value = chosen;
}

function statusLine(run, withLaps = true) {
  const laps = withLaps ? `${run.laps.length} / ${run.track.laps_per_mile} laps · ` : "";
  if (run.status === "counting") return `${laps}counting`;
  if (run.status === "outbox") {
    const mine = run.runner_id === state.auth?.runner.id;
    return `${laps}waiting to sync${mine ? "" : " (for its runner to sign in)"}`;
  }
  if (run.status === "synced") return `${laps}synced · ${run.mile_number ? `mile #${run.mile_number}` : "incomplete"}`;
  const why = Object.values(run.result.errors).join(" ") || "the server did not take it.";
  return `${laps}${run.result.status}: ${why}`;
}

function runItem(run) {
  const open = () => (run.status === "counting" ? resume(run) : showDone(run.id));
  return el(
    "li",
    { className: `run run-${run.status}` },
    el("strong", {}, heroTitle(run.hero)),
    el("span", {}, `${formatWhen(run.started_at)} · ${statusLine(run)}`),
    el(
      "div",
      { className: "row" },
      el("button", { textContent: "Open", onclick: open }),
      el("button", { textContent: "Export", dataset: { testid: "export-run" }, onclick: () => exportRun(run.id) }),
    ),
  );
}

function onUnplanned(event) {
  event.preventDefault();
  const boot = state.bootstrap;
  const hero = boot?.heroes.find((h) => String(h.id) === $("unplanned-hero").value);
  const track = boot?.tracks.find((t) => String(t.id) === $("unplanned-track").value);
  if (hero && track) openHero({ id: null, hero, track });
}

function openHero(choice) {
  state.choice = choice;
  const { hero } = choice;
  put("hero-flag", `${hero.flag_type} flag`);
  $("hero-flag").className = `flag flag-${hero.kind}`;
  put("hero-name", heroTitle(hero));
  put("hero-agency", [hero.agency, hero.state].filter(Boolean).join(", "));
  put("hero-eow", formatDay(hero.end_of_watch));
  put("hero-words", choice.words || "", !choice.words);
  $("hero-video").href = choice.video_url || "";
  $("hero-video-line").hidden = !choice.video_url;
  $("hero-qr").hidden = !choice.checkin_qr_svg;
  if (choice.checkin_qr_svg) {
    // As an <img>, the SVG can never run script; it shows offline too.
    $("hero-qr-img").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(choice.checkin_qr_svg)}`;
  }
  $("speak-laps").checked = state.settings.speak;
  closeCeremony();
  show("hero");
  showRoster(choice.id, [], "hero-roster");
}

// Escorts checked in by QR code, polled while online (roster.js, loaded when needed) and
// merged with those added on this phone, which also show offline.
async function showRoster(runId, phoneCheckins, listId) {
  state.stopRoster();
  const list = $(listId);
  const roster = runId && state.auth && (await import("./roster.js").catch(() => null));
  if (!roster) {
    const line = (c) => [c.name, c.agency, c.badge].filter(Boolean).join(" · ");
    return list.replaceChildren(...phoneCheckins.map((c) => el("li", {}, line(c))));
  }
  const controller = new AbortController();
  state.stopRoster = () => controller.abort();
  const render = (server) => roster.renderRoster(list, roster.mergeRoster(server, phoneCheckins));
  render([]);
  roster.pollRoster({ runId, token: state.auth.token, signal: controller.signal, onUpdate: render });
}

function openPrayer() {
  const { hero } = state.choice;
  put(
    "prayer-text",
    `Lord, thank you for the life and service of ${heroTitle(hero)}. Comfort their family, ` +
      `their friends and everyone at ${hero.agency}. Watch over all who serve and protect us, ` +
      `and let this mile honor their sacrifice. Amen.`,
  );
  closeCeremony();
  $("prayer").hidden = false;
  $("prayer").scrollIntoView();
}

const silence = { seconds: 60, endsAt: null, timer: null }; // 60 s unless the runner stops it

function openSilence() {
  closeCeremony();
  put("silence-time", duration(silence.seconds * 1000));
  put("silence-start", "Start");
  $("silence").hidden = false;
  $("silence").scrollIntoView();
}

function startSilence() {
  if (silence.endsAt) return closeCeremony();
  silence.endsAt = performance.now() + silence.seconds * 1000;
  put("silence-start", "Stop");
  silence.timer = setInterval(() => {
    const left = Math.max(0, silence.endsAt - performance.now());
    put("silence-time", left ? duration(Math.ceil(left / 1000) * 1000) : "Silence complete");
    if (left) return;
    clearInterval(silence.timer);
    silence.endsAt = null;
    put("silence-start", "Again");
    buzz(300);
  }, 200);
}

function closeCeremony() {
  clearInterval(silence.timer);
  silence.endsAt = null;
  $("prayer").hidden = true;
  $("silence").hidden = true;
}

function saveSettings(change) {
  state.settings = { ...state.settings, ...change };
  return db.setValue("settings", state.settings);
}

async function onBegin() {
  if (!state.choice || !state.auth) return;
  closeCeremony();
  state.stopRoster();
  const wall = Date.now();
  setElapsed(0); // lap 1's guard counts from this tap
  const run = counter.startRun(state.choice, state.auth.runner.id, wall);
  await db.putRun(run);
  state.run = await db.getRun(run.id);
  enterCounter();
}

function resume(run) {
  setElapsed(counter.resumeElapsed(run, Date.now()));
  state.run = run;
  enterCounter();
}

let ticker = null;

function enterCounter() {
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
  put("last-split", duration(stats.lastSplitMs));
  put("mile-banner", `Mile complete · ${duration(stats.mileMs)}`, !stats.mileComplete);
  put("projected-label", stats.mileComplete ? "Mile time" : "Projected mile");
  document.body.classList.toggle("mile-done", stats.mileComplete);
  renderClock();
}

function renderClock() {
  if (!state.run) return;
  const stats = counter.runStats(state.run, elapsedNow());
  put("elapsed", duration(elapsedNow()));
  put("current-lap-no", String(stats.currentLap));
  put("current-lap", duration(stats.currentLapMs));
  put("projected", duration(stats.projectedMs));
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
  state.run = run;
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

let undoTimer = null;

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
    // A stray tap cannot undo: the first tap only arms the button for 4 seconds.
    put("undo-lap", `Tap again to undo lap ${laps}`);
    $("undo-lap").classList.add("armed");
    undoTimer = setTimeout(disarmUndo, 4000);
    return;
  }
  disarmUndo();
  const outcome = await db.updateRun(state.run.id, (run) => counter.undoLap(run, elapsedNow(), Date.now()));
  state.run = await db.getRun(state.run.id);
  renderCounter();
  if (outcome.removed) notice(`Lap ${outcome.removed.seq} undone.`);
}

function openFinish() {
  const { count, perMile, mileComplete } = counter.runStats(state.run, elapsedNow());
  let text = `${count} of ${perMile} laps in ${duration(elapsedNow())}.`;
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
  state.run = null;
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
    state.wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    // Battery saver or no permission: the counter works, the screen may dim.
  }
}

function saveCheckpoint() {
  if (state.run) db.updateRun(state.run.id, (run) => counter.checkpoint(run, elapsedNow(), Date.now()));
}

async function onVisibility() {
  if (document.visibilityState === "hidden") return saveCheckpoint();
  if (state.run) {
    // performance.now() can pause while a phone sleeps: catch up by the wall clock, never back.
    const run = await db.getRun(state.run.id);
    if (run?.status === "counting") {
      state.run = run;
      const caughtUp = counter.resumeElapsed(run, Date.now());
      if (caughtUp > elapsedNow()) setElapsed(caughtUp);
      renderCounter();
    }
    takeWakeLock();
  }
  outbox.push();
}

function openEscort(runId) {
  $("escort-form").reset();
  $("escort-form").dataset.runId = runId;
  $("escort-panel").hidden = false;
  $("escort-name").focus();
}

async function onSaveEscort(event) {
  event.preventDefault();
  const { runId } = $("escort-form").dataset;
  const value = (id) => $(`escort-${id}`).value.trim();
  const checkin = {
    name: value("name"),
    agency: value("agency"),
    badge: value("badge"),
    role: value("role"),
    public: $("escort-public").checked,
  };
  const outcome = await db.updateRun(runId, (run) => counter.addCheckin(run, checkin, Date.now()));
  $("escort-panel").hidden = true;
  if (!outcome?.run) return notice("This run is already synced. Add escorts on the website.", "warn");
  notice(`${checkin.name} added.`);
  if (state.run?.id === runId) state.run = outcome.run;
  if (current() === "done") await renderDone();
}

async function showDone(id) {
  state.doneId = id;
  const run = await renderDone();
  await renderSyncBar(); // the count is right before the bar shows
  show("done");
  renderSync();
  showRoster(run.id, run.checkins, "done-escorts");
}

async function renderDone() {
  const run = await db.getRun(state.doneId);
  const { count, perMile, mileComplete, mileMs } = counter.runStats(run, run.elapsed_ms || 0);
  put("done-hero", `For ${heroTitle(run.hero)}`);
  put("done-laps", `${count} / ${perMile} laps · ${mileComplete ? `mile in ${duration(mileMs)}` : "incomplete"}`);
  put("done-status", statusLine(run, false));
  $("done-status").className = `status status-${run.status}`;
  $("done-escort").hidden = run.status !== "outbox";
  return run;
}

async function exportRun(id) {
  const run = await db.getRun(id);
  const file = `r4h-run-${run.started_at.slice(0, 10)}-${run.id.slice(0, 8)}.json`;
  downloadJson(file, { format: "r4h-run/1", exported_at: new Date().toISOString(), run });
}

async function renderSync() {
  const waiting = await renderSyncBar();
  const screen = current();
  if (state.auth?.signin_needed && !state.signinDismissed && ["runs", "done"].includes(screen)) {
    const runs = waiting === 1 ? "1 run waits" : `${waiting} runs wait`;
    showSignin(`The sign-in on this phone has ended. Sign in again: ${runs} safely on this phone, to be sent.`);
  } else if (screen === "runs") {
    await renderRuns();
  } else if (screen === "done") {
    await renderDone();
  }
}

// The status line: runs waiting (the number alone), last success, last error in plain words.
async function renderSyncBar() {
  const reads = [db.runsWithStatus("outbox"), db.getValue("sync"), db.getValue("auth")];
  const [waiting, sync, auth] = await Promise.all(reads);
  state.auth = auth;
  const info = sync || {};
  const n = waiting.length;
  put("pending-count", String(n));
  put("pending-label", n === 1 ? "run waiting to sync" : "runs waiting to sync");
  put("last-sync", info.last_success_at ? `Last synced ${formatWhen(info.last_success_at)}` : "Not synced yet");
  const failing = info.last_error && !(info.last_success_at > info.last_error_at);
  put("last-error", failing ? info.last_error : "", !failing);
  $("signin-again").hidden = !auth?.signin_needed || current() === "signin";
  $("update-ready").hidden = !state.waitingWorker || Boolean(state.run);
  return n;
}

async function registerWorker() {
  const container = navigator.serviceWorker;
  if (!container) return;
  container.addEventListener("message", (event) => event.data?.type === "SYNC" && outbox.push());
  container.addEventListener("controllerchange", () => state.updating && location.reload());
  try {
    const registration = await container.register("/sw.js", { scope: "/" });
    const offer = (worker) => {
      state.waitingWorker = worker;
      renderSyncBar();
    };
    const watch = (worker) =>
      worker?.addEventListener("statechange", () => worker.state === "installed" && container.controller && offer(worker));
    if (registration.waiting && container.controller) offer(registration.waiting);
    watch(registration.installing);
    registration.addEventListener("updatefound", () => watch(registration.installing));
  } catch {
    // No service worker (private mode): the app works online only.
  }
}

function applyUpdate() {
  // A new version never takes over mid-run: the button shows only when none counts.
  if (state.run || !state.waitingWorker) return;
  state.updating = true;
  state.waitingWorker.postMessage({ type: "SKIP_WAITING" });
}

async function askPersistence() {
  const storage = navigator.storage;
  if (storage?.persist) $("storage-warning").hidden = (await storage.persisted()) || (await storage.persist());
}

// DOM helpers

const $ = (id) => document.getElementById(id);
const current = () => document.body.dataset.screen;
const buzz = (pattern) => navigator.vibrate?.(pattern);

function show(name) {
  for (const screen of document.querySelectorAll(".screen")) {
    screen.hidden = screen.id !== `screen-${name}`;
  }
  document.body.dataset.screen = name;
  $("sync-bar").hidden = !["runs", "done", "signin"].includes(name);
  scrollTo(0, 0);
}

// el("li", { className, dataset, onclick }, "text", child, ...)
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset || {});
  node.append(...children);
  return node;
}

// Sets an element's text and, when hide is given, whether it is hidden.
function put(id, text, hide) {
  const node = $(id);
  node.textContent = text;
  if (hide !== undefined) node.hidden = hide;
}

let noticeTimer = null;
function notice(message, kind = "info", ms = 2500) {
  const box = $("notice");
  box.textContent = message;
  box.className = `notice notice-${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), ms);
}

function formatDay(isoDate) {
  const options = { dateStyle: "long", timeZone: "UTC" }; // a date, not a moment: no shift
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString(undefined, options);
}

function formatWhen(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

function say(words) {
  if (!("speechSynthesis" in window)) return;
  speechSynthesis.cancel(); // the newest lap matters, not a queue of old ones
  speechSynthesis.speak(new SpeechSynthesisUtterance(words));
}

function downloadJson(filename, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

start();
