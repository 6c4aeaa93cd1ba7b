// Wiring: screens, taps, the clock, sign-in, the outbox and the service worker.

import { fetchBootstrap, inPlainWords, signIn } from "./api.js";
import * as counter from "./counter.js";
import * as db from "./db.js";
import { Outbox, requestBackgroundSync } from "./outbox.js";
import { $, buzz, current, downloadJson, el, formatDay, formatWhen, notice, say, show } from "./screens.js";

const state = {
  auth: null,
  bootstrap: null,
  settings: { speak: false, silence_s: 60 },
  choice: null, // the run picked on the runs screen, before "Begin laps"
  run: null, // the counting run, as last read back from IndexedDB
  doneId: null,
  clockBase: 0, // performance.now() at elapsed 0
  wakeLock: null,
  waitingWorker: null,
  updating: false,
  signinDismissed: false,
};
const outbox = new Outbox(() => renderSync());

// ---- The clock: monotonic while the page lives; see counter.resumeElapsed for reloads. ----

function elapsedNow() {
  return performance.now() - state.clockBase;
}

function setElapsed(ms) {
  state.clockBase = performance.now() - ms;
}

// ---- Start ----

async function start() {
  wire();
  const [auth, counting] = await Promise.all([db.getValue("auth"), db.runsWithStatus("counting")]);
  state.auth = auth;
  if (counting.length > 0) {
    resume(counting[0]);
  }
  const [bootstrap, settings] = await Promise.all([db.getValue("bootstrap"), db.getValue("settings")]);
  state.bootstrap = bootstrap;
  state.settings = { ...state.settings, ...settings };
  if (!state.run) {
    if (auth) await showRuns();
    else showSignin();
  }
  registerWorker();
  askPersistence();
  renderSync();
  await refreshBootstrap();
  outbox.push();
}

function wire() {
  const on = (id, type, handler) => $(id).addEventListener(type, handler);
  on("signin-form", "submit", onSignin);
  on("signin-cancel", "click", () => {
    state.signinDismissed = true;
    showRuns();
  });
  on("signin-again", "click", () => showSignin());
  on("unplanned-form", "submit", onUnplanned);
  on("hero-back", "click", () => showRuns());
  on("open-prayer", "click", openPrayer);
  on("prayer-done", "click", openSilence);
  on("prayer-skip", "click", () => closeCeremony());
  on("open-silence", "click", openSilence);
  on("silence-start", "click", startSilence);
  on("silence-less", "click", () => adjustSilence(-15));
  on("silence-more", "click", () => adjustSilence(15));
  on("silence-skip", "click", () => closeCeremony());
  on("speak-laps", "change", (event) => saveSettings({ speak: event.target.checked }));
  on("begin-laps", "click", onBegin);
  on("lap-button", "pointerdown", onLapTap);
  // Keyboard and switch users press the button: that is a click with no pointer (detail 0).
  on("lap-button", "click", (event) => event.detail === 0 && onLapTap(event));
  on("lap-button", "contextmenu", (event) => event.preventDefault());
  on("undo-lap", "click", onUndo);
  on("finish-run", "click", openFinish);
  on("cancel-finish", "click", () => ($("confirm-panel").hidden = true));
  on("confirm-finish", "click", onConfirmFinish);
  on("counter-escort", "click", () => openEscort(state.run && state.run.id));
  on("done-escort", "click", () => openEscort(state.doneId));
  on("escort-form", "submit", onSaveEscort);
  on("escort-cancel", "click", () => ($("escort-panel").hidden = true));
  on("done-export", "click", () => exportRun(state.doneId));
  on("done-back", "click", () => showRuns());
  on("sync-now", "click", () => {
    notice("Syncing…");
    outbox.pushSoon();
  });
  on("update-ready", "click", applyUpdate);
  window.addEventListener("online", () => outbox.pushSoon());
  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener("pagehide", () => saveCheckpoint());
}

// ---- Sign-in and bootstrap ----

function showSignin(reason) {
  const email = state.auth && state.auth.runner && state.auth.runner.email;
  if (email && !$("signin-email").value) $("signin-email").value = email;
  $("signin-reason").textContent = reason || "";
  $("signin-reason").hidden = !reason;
  $("signin-cancel").hidden = !state.auth;
  show("signin");
}

async function onSignin(event) {
  event.preventDefault();
  const button = event.submitter || $("signin-form").querySelector("button");
  const error = $("signin-error");
  button.disabled = true;
  error.hidden = true;
  try {
    const reply = await signIn($("signin-email").value, $("signin-password").value, $("signin-device").value);
    state.auth = {
      token: reply.token,
      device_id: reply.device_id,
      expires_at: reply.expires_at,
      runner: reply.runner,
    };
    await db.setValue("auth", state.auth);
    $("signin-password").value = "";
    await refreshBootstrap();
    if (state.run) enterCounter();
    else await showRuns();
    outbox.pushSoon();
  } catch (err) {
    error.textContent = err.code === "network" ? "No connection. Signing in needs a signal once." : inPlainWords(err);
    if (err.status === 401) error.textContent = err.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function refreshBootstrap() {
  if (!state.auth || state.auth.signin_needed) return;
  try {
    const data = await fetchBootstrap(state.auth.token);
    data.fetched_at = new Date().toISOString();
    await db.setValue("bootstrap", data);
    state.bootstrap = data;
    if (current() === "runs") await renderRuns();
  } catch (err) {
    if (err.status === 401) {
      await db.setValue("auth", { ...state.auth, signin_needed: { code: err.code, message: err.message } });
      renderSync();
    }
  }
}

// ---- The runs screen ----

async function showRuns() {
  await renderRuns();
  await renderSyncBar();
  show("runs");
  renderSync();
}

function heroTitle(hero) {
  return `${hero.rank} ${hero.name}`.trim();
}

async function renderRuns() {
  const boot = state.bootstrap;
  const runs = (await db.allRuns()).sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));
  const local = new Set(runs.map((run) => run.id));
  const runner = boot ? boot.runner : state.auth && state.auth.runner;
  $("runner-line").textContent = runner
    ? `${runner.name}${boot ? ` · next mile #${boot.runner.next_mile_number}` : ""}`
    : "";

  const planned = boot ? boot.planned_runs.filter((run) => !local.has(run.id)) : [];
  $("planned-list").replaceChildren(
    ...planned.map((run) => {
      const button = el(
        "button",
        { type: "button", className: "choice", dataset: { testid: "planned-run" } },
        el("strong", {}, heroTitle(run.hero)),
        el("span", {}, [formatWhen(run.scheduled_at), run.track.name].filter(Boolean).join(" · ")),
      );
      button.addEventListener("click", () => openHero({ ...run, id: run.id }));
      return el("li", {}, button);
    }),
  );
  $("planned-empty").hidden = planned.length > 0;

  const heroes = boot ? boot.heroes : [];
  const tracks = boot ? boot.tracks : [];
  fillSelect($("unplanned-hero"), heroes, (h) => `${heroTitle(h)} — ${h.agency}`);
  fillSelect($("unplanned-track"), tracks, (t) => `${t.name} (${t.laps_per_mile} laps a mile)`);

  const parked = runs.filter((run) => run.status === "parked");
  const others = runs.filter((run) => run.status !== "parked").slice(0, 30);
  $("parked-heading").hidden = parked.length === 0;
  $("parked-list").replaceChildren(...parked.map(runItem));
  $("history-heading").hidden = others.length === 0;
  $("history-list").replaceChildren(...others.map(runItem));
}

function fillSelect(select, items, label) {
  const chosen = select.value;
  select.replaceChildren(...items.map((item) => el("option", { value: item.id, textContent: label(item) })));
  if (chosen) select.value = chosen;
}

function statusLine(run) {
  const laps = `${run.laps.length} / ${run.track.laps_per_mile} laps`;
  if (run.status === "counting") return `${laps} · counting`;
  if (run.status === "outbox") {
    const mine = state.auth && run.runner_id === state.auth.runner.id;
    return `${laps} · waiting to sync${mine ? "" : " (for its runner to sign in)"}`;
  }
  if (run.status === "synced") {
    return run.mile_number ? `${laps} · synced · mile #${run.mile_number}` : `${laps} · synced · incomplete`;
  }
  const why = Object.values((run.result && run.result.errors) || {}).join(" ");
  return `${laps} · ${run.result ? run.result.status : "parked"}: ${why || "the server did not take it."}`;
}

function runItem(run) {
  const item = el(
    "li",
    { className: `run run-${run.status}` },
    el("strong", {}, heroTitle(run.hero)),
    el("span", {}, `${formatWhen(run.started_at)} · ${statusLine(run)}`),
  );
  const actions = el("div", { className: "row" });
  if (run.status === "counting") {
    const resumeButton = el("button", { type: "button", textContent: "Resume" });
    resumeButton.addEventListener("click", () => resume(run));
    actions.append(resumeButton);
  } else {
    const open = el("button", { type: "button", textContent: "Open" });
    open.addEventListener("click", () => showDone(run.id));
    actions.append(open);
  }
  const exportButton = el("button", { type: "button", textContent: "Export", dataset: { testid: "export-run" } });
  exportButton.addEventListener("click", () => exportRun(run.id));
  actions.append(exportButton);
  item.append(actions);
  return item;
}

function onUnplanned(event) {
  event.preventDefault();
  const boot = state.bootstrap;
  if (!boot) return;
  const hero = boot.heroes.find((h) => String(h.id) === $("unplanned-hero").value);
  const track = boot.tracks.find((t) => String(t.id) === $("unplanned-track").value);
  if (hero && track) openHero({ id: null, hero, track, words: "", video_url: "" });
}

// ---- The hero card and the optional ceremony ----

function openHero(choice) {
  state.choice = choice;
  const { hero } = choice;
  $("hero-flag").textContent = `${hero.flag_type} flag`;
  $("hero-flag").className = `flag flag-${hero.kind}`;
  $("hero-name").textContent = heroTitle(hero);
  $("hero-agency").textContent = [hero.agency, hero.state].filter(Boolean).join(", ");
  $("hero-eow").textContent = formatDay(hero.end_of_watch);
  $("hero-cause").textContent = hero.cause || "";
  $("hero-words").textContent = choice.words || "";
  $("hero-words").hidden = !choice.words;
  $("hero-video").href = choice.video_url || "";
  $("hero-video-line").hidden = !choice.video_url;
  $("hero-qr").hidden = !choice.checkin_qr_svg;
  if (choice.checkin_qr_svg) {
    // As an <img>, the SVG can never run script.
    $("hero-qr-img").src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(choice.checkin_qr_svg)}`;
  }
  $("unplanned-extra").hidden = Boolean(choice.id);
  $("run-words").value = "";
  $("run-video").value = "";
  $("speak-laps").checked = state.settings.speak;
  closeCeremony();
  show("hero");
}

function openPrayer() {
  const { hero } = state.choice;
  $("prayer-text").textContent =
    `Lord, thank you for the life and service of ${heroTitle(hero)}. Comfort their family, ` +
    `their friends and everyone at ${hero.agency}. Watch over all who serve and protect us, ` +
    `and let this mile honor the sacrifice that was made. Amen.`;
  closeCeremony();
  $("prayer").hidden = false;
  $("prayer").scrollIntoView({ block: "start" });
}

const silence = { seconds: 60, endsAt: null, timer: null };

function openSilence() {
  closeCeremony();
  silence.seconds = state.settings.silence_s;
  $("silence-time").textContent = counter.formatDuration(silence.seconds * 1000);
  $("silence-start").textContent = "Start";
  $("silence").hidden = false;
  $("silence").scrollIntoView({ block: "start" });
}

function adjustSilence(delta) {
  if (silence.endsAt) return;
  silence.seconds = Math.min(600, Math.max(15, silence.seconds + delta));
  $("silence-time").textContent = counter.formatDuration(silence.seconds * 1000);
  saveSettings({ silence_s: silence.seconds });
}

function startSilence() {
  if (silence.endsAt) {
    closeCeremony();
    return;
  }
  silence.endsAt = performance.now() + silence.seconds * 1000;
  $("silence-start").textContent = "Stop";
  silence.timer = setInterval(tickSilence, 200);
}

function tickSilence() {
  const left = Math.max(0, silence.endsAt - performance.now());
  $("silence-time").textContent = counter.formatDuration(Math.ceil(left / 1000) * 1000);
  if (left === 0) {
    clearInterval(silence.timer);
    silence.endsAt = null;
    $("silence-start").textContent = "Again";
    $("silence-time").textContent = "Silence complete";
    buzz(300);
  }
}

function closeCeremony() {
  clearInterval(silence.timer);
  silence.endsAt = null;
  $("prayer").hidden = true;
  $("silence").hidden = true;
}

async function saveSettings(change) {
  state.settings = { ...state.settings, ...change };
  await db.setValue("settings", state.settings);
}

// ---- Counting ----

async function onBegin() {
  if (!state.choice || !state.auth) return;
  closeCeremony();
  const wall = Date.now();
  setElapsed(0); // lap 1's guard counts from this tap
  const choice = { ...state.choice };
  if (!choice.id) {
    choice.words = $("run-words").value.trim();
    choice.video_url = $("run-video").value.trim();
  }
  const run = counter.startRun(choice, state.auth.runner.id, wall);
  await db.putRun(run);
  state.run = await db.getRun(run.id);
  enterCounter();
  takeWakeLock();
}

function resume(run) {
  setElapsed(counter.resumeElapsed(run, Date.now()));
  state.run = run;
  enterCounter();
  takeWakeLock();
}

let ticker = null;

function enterCounter() {
  const run = state.run;
  $("counter-hero").textContent = `For ${heroTitle(run.hero)}`;
  $("confirm-panel").hidden = true;
  disarmUndo();
  renderCounter();
  show("counter");
  clearInterval(ticker);
  ticker = setInterval(renderClock, 250);
  performance.mark("r4h:lap-ready");
  renderSync();
}

function renderCounter() {
  const stats = counter.runStats(state.run, elapsedNow());
  $("lap-count").textContent = String(stats.count);
  $("lap-of").textContent = ` / ${stats.perMile}`;
  $("last-split").textContent = counter.formatDuration(stats.lastSplitMs);
  $("mile-banner").hidden = !stats.mileComplete;
  $("mile-banner").textContent = `Mile complete · ${counter.formatDuration(stats.mileMs)}`;
  document.body.classList.toggle("mile-done", stats.mileComplete);
  renderClock();
}

function renderClock() {
  if (!state.run) return;
  const stats = counter.runStats(state.run, elapsedNow());
  $("elapsed").textContent = counter.formatDuration(elapsedNow());
  $("current-lap-no").textContent = String(stats.currentLap);
  $("current-lap").textContent = counter.formatDuration(stats.currentLapMs);
  $("projected").textContent = counter.formatDuration(stats.projectedMs);
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
  if (outcome.counted) {
    const stats = counter.runStats(run, elapsed);
    if (stats.count === stats.perMile) {
      buzz([200, 100, 200]);
      if (state.settings.speak) say(`Lap ${stats.count} of ${stats.perMile}. Mile complete.`);
    } else {
      buzz(40);
      if (state.settings.speak) say(`Lap ${stats.count} of ${stats.perMile}`);
    }
  } else if (outcome.reason === "too_soon") {
    const seconds = Math.round(run.track.min_lap_ms / 1000);
    notice(`Too soon: tap ignored. A lap here takes at least ${seconds} s.`, "warn");
  } else if (outcome.reason === "full") {
    notice(`A run holds at most ${counter.MAX_LAPS} laps. Finish this one.`, "warn");
  }
}

let undoTimer = null;

function disarmUndo() {
  clearTimeout(undoTimer);
  undoTimer = null;
  $("undo-lap").textContent = "Undo last lap";
  $("undo-lap").classList.remove("armed");
}

async function onUndo() {
  if (!state.run) return;
  if (state.run.laps.length === 0) {
    notice("No lap to undo.");
    return;
  }
  if (!undoTimer) {
    // A stray tap cannot undo: the first tap only arms the button for 4 seconds.
    $("undo-lap").textContent = `Tap again to undo lap ${state.run.laps.length}`;
    $("undo-lap").classList.add("armed");
    undoTimer = setTimeout(disarmUndo, 4000);
    return;
  }
  disarmUndo();
  const outcome = await db.updateRun(state.run.id, (run) => counter.undoLap(run, elapsedNow(), Date.now()));
  state.run = await db.getRun(state.run.id);
  renderCounter();
  if (outcome && outcome.removed) notice(`Lap ${outcome.removed.seq} undone.`);
}

function openFinish() {
  const stats = counter.runStats(state.run, elapsedNow());
  let text = `${stats.count} of ${stats.perMile} laps in ${counter.formatDuration(elapsedNow())}.`;
  if (stats.count === 0) text = "No laps were counted. Finishing drops this start.";
  else if (!stats.mileComplete) text += " That is short of a mile: it is kept, marked incomplete, with no mile number.";
  $("confirm-text").textContent = text;
  $("confirm-panel").hidden = false;
  $("confirm-finish").focus();
}

async function onConfirmFinish() {
  const id = state.run.id;
  const elapsed = elapsedNow();
  $("confirm-panel").hidden = true;
  const run = await db.getRun(id);
  if (run.laps.length === 0 && run.checkins.length === 0) {
    await db.deleteRun(id); // nothing was counted: a planned run simply stays planned
    leaveCounter();
    await showRuns();
    return;
  }
  await db.updateRun(id, (stored) => counter.finishRun(stored, elapsed));
  leaveCounter();
  await showDone(id);
  requestBackgroundSync();
  outbox.pushSoon();
}

function leaveCounter() {
  clearInterval(ticker);
  state.run = null;
  document.body.classList.remove("mile-done");
  if (state.wakeLock) state.wakeLock.release().catch(() => {});
  state.wakeLock = null;
}

async function takeWakeLock() {
  if (!("wakeLock" in navigator) || !state.run || document.visibilityState !== "visible") return;
  try {
    state.wakeLock = await navigator.wakeLock.request("screen");
  } catch {
    // Battery saver or no permission: the counter still works, the screen may dim.
  }
}

async function saveCheckpoint() {
  if (!state.run) return;
  const id = state.run.id;
  await db.updateRun(id, (run) => counter.checkpoint(run, elapsedNow(), Date.now()));
}

async function onVisibility() {
  if (document.visibilityState === "hidden") {
    saveCheckpoint();
    return;
  }
  if (state.run) {
    // performance.now() can pause while a phone sleeps; the wall clock since the
    // checkpoint catches it up, never back.
    const run = await db.getRun(state.run.id);
    if (run && run.status === "counting") {
      state.run = run;
      const caughtUp = counter.resumeElapsed(run, Date.now());
      if (caughtUp > elapsedNow()) setElapsed(caughtUp);
      renderCounter();
    }
    takeWakeLock();
  }
  outbox.push();
}

// ---- Escorts ----

function openEscort(runId) {
  if (!runId) return;
  $("escort-form").reset();
  $("escort-form").dataset.runId = runId;
  $("escort-panel").hidden = false;
  $("escort-name").focus();
}

async function onSaveEscort(event) {
  event.preventDefault();
  const runId = $("escort-form").dataset.runId;
  const checkin = {
    name: $("escort-name").value.trim(),
    agency: $("escort-agency").value.trim(),
    badge: $("escort-badge").value.trim(),
    role: $("escort-role").value,
    public: $("escort-public").checked,
  };
  if (!checkin.name) return;
  const outcome = await db.updateRun(runId, (run) => counter.addCheckin(run, checkin, Date.now()));
  $("escort-panel").hidden = true;
  if (!outcome || !outcome.run) {
    notice("This run is already synced. Add escorts on the website.", "warn");
    return;
  }
  notice(`${checkin.name} added.`);
  if (state.run && state.run.id === runId) state.run = await db.getRun(runId);
  if (current() === "done") await showDone(runId);
}

// ---- After the run ----

async function showDone(id) {
  const run = await db.getRun(id);
  if (!run) return showRuns();
  state.doneId = id;
  const stats = counter.runStats(run, run.elapsed_ms || 0);
  $("done-hero").textContent = `For ${heroTitle(run.hero)}`;
  $("done-laps").textContent = stats.mileComplete
    ? `${stats.count} / ${stats.perMile} laps · mile in ${counter.formatDuration(stats.mileMs)}`
    : `${stats.count} / ${stats.perMile} laps · incomplete`;
  $("done-status").textContent = statusLine(run);
  $("done-status").className = `status status-${run.status}`;
  $("done-escorts").replaceChildren(
    ...run.checkins.map((c) => el("li", {}, [c.name, c.agency, c.badge].filter(Boolean).join(" · "))),
  );
  $("done-escort").hidden = run.status !== "outbox";
  await renderSyncBar(); // the count is right before the bar shows
  if (current() !== "done") show("done");
  renderSync();
}

async function exportRun(id) {
  const run = await db.getRun(id);
  if (!run) return;
  const day = (run.started_at || "").slice(0, 10);
  downloadJson(`r4h-run-${day}-${run.id.slice(0, 8)}.json`, {
    format: "r4h-run/1",
    exported_at: new Date().toISOString(),
    run,
  });
}

// ---- Sync status ----

async function renderSync() {
  const waiting = await renderSyncBar();
  const auth = state.auth;
  if (auth && auth.signin_needed && !state.signinDismissed && ["runs", "done"].includes(current())) {
    showSignin(`The sign-in on this phone has ended. Sign in again: ${waiting} waiting run(s) are safe here and will be sent.`);
  } else if (current() === "runs") {
    await renderRuns();
  } else if (current() === "done" && state.doneId) {
    const run = await db.getRun(state.doneId);
    if (run) {
      $("done-status").textContent = statusLine(run);
      $("done-status").className = `status status-${run.status}`;
    }
  }
}

// The status line: runs waiting (the number alone), last success, last error in plain words.
async function renderSyncBar() {
  const [waiting, sync, auth] = await Promise.all([
    db.runsWithStatus("outbox"),
    db.getValue("sync"),
    db.getValue("auth"),
  ]);
  state.auth = auth;
  const info = sync || {};
  $("pending-count").textContent = String(waiting.length);
  $("pending-label").textContent = waiting.length === 1 ? "run waiting to sync" : "runs waiting to sync";
  $("last-sync").textContent = info.last_success_at
    ? `Last synced ${formatWhen(info.last_success_at)}`
    : "Not synced yet";
  const error = info.last_error && (!info.last_success_at || info.last_error_at > info.last_success_at);
  $("last-error").textContent = error ? info.last_error : "";
  $("last-error").hidden = !error;
  $("signin-again").hidden = !(auth && auth.signin_needed);
  $("update-ready").hidden = !(state.waitingWorker && !state.run);
  return waiting.length;
}

// ---- Service worker and storage ----

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const container = navigator.serviceWorker;
  container.addEventListener("message", (event) => {
    if (event.data && event.data.type === "SYNC") outbox.push();
  });
  container.addEventListener("controllerchange", () => {
    if (state.updating) location.reload();
  });
  try {
    const registration = await container.register("/sw.js", { scope: "/" });
    const watch = (worker) =>
      worker &&
      worker.addEventListener("statechange", () => {
        if (worker.state === "installed" && container.controller) offerUpdate(worker);
      });
    if (registration.waiting && container.controller) offerUpdate(registration.waiting);
    watch(registration.installing);
    registration.addEventListener("updatefound", () => watch(registration.installing));
  } catch {
    // No service worker (private mode, old browser): the app works online only.
  }
}

function offerUpdate(worker) {
  state.waitingWorker = worker;
  renderSync();
}

function applyUpdate() {
  // A new version never takes over mid-run: the button only shows when no run is counting.
  if (state.run || !state.waitingWorker) return;
  state.updating = true;
  state.waitingWorker.postMessage({ type: "SKIP_WAITING" });
}

async function askPersistence() {
  if (!navigator.storage || !navigator.storage.persist) return;
  const kept = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  $("storage-warning").hidden = kept;
}

start();
