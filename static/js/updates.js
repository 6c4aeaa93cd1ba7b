// Keeping this phone in step: finished runs out (the outbox), the server's data in (the
// bootstrap), the sync bar that tells how it goes, and new versions of the app itself.

import { fetchBootstrap } from "./api.js";
import * as db from "./db.js";
import { $, current, notice, put } from "./dom.js";
import { formatWhen } from "./format.js";
import { Outbox } from "./outbox.js";
import { renderDone } from "./screen-done.js";
import { renderRuns } from "./screen-runs.js";
import { showSignin } from "./screen-signin.js";
import { state, update } from "./state.js";

// Once the server answered, refresh the next mile number and the planned runs.
export const outbox = new Outbox((answered) => {
  if (answered) refreshBootstrap();
  renderSync();
});

export function wire() {
  $("sync-now").onclick = () => {
    notice("Syncing…");
    outbox.pushSoon();
  };
  $("update-ready").onclick = applyUpdate;
  addEventListener("online", () => outbox.pushSoon());
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && outbox.push());
}

export async function refreshBootstrap() {
  if (!state.auth || state.auth.signin_needed) return;
  try {
    const bootstrap = await fetchBootstrap(state.auth.token);
    await db.setValue("bootstrap", bootstrap);
    update({ bootstrap });
    if (current() === "runs") await renderRuns();
  } catch (err) {
    if (err.status !== 401) return;
    await db.setValue("auth", { ...state.auth, signin_needed: { code: err.code, message: err.message } });
    renderSync();
  }
}

export async function renderSync() {
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
export async function renderSyncBar() {
  const reads = [db.runsWithStatus("outbox"), db.getValue("sync"), db.getValue("auth")];
  const [waiting, sync, auth] = await Promise.all(reads);
  update({ auth });
  const info = sync || {};
  const n = waiting.length;
  put("pending-count", String(n));
  put("pending-label", n === 1 ? "run waiting to sync" : "runs waiting to sync");
  put("last-sync", info.last_success_at ? `Last synced ${formatWhen(info.last_success_at)}` : "Not synced yet");
  const failing = info.last_error && !(info.last_success_at > info.last_error_at);
  put("last-error", failing ? info.last_error : "", !failing);
  $("last-error").className = info.offline ? "quiet" : "error";
  $("signin-again").hidden = !auth?.signin_needed || current() === "signin";
  $("update-ready").hidden = !state.waitingWorker || Boolean(state.run);
  return n;
}

export async function registerWorker() {
  const container = navigator.serviceWorker;
  if (!container) return;
  container.addEventListener("message", (event) => event.data?.type === "SYNC" && outbox.push());
  container.addEventListener("controllerchange", () => state.updating && location.reload());
  try {
    const registration = await container.register("/sw.js", { scope: "/" });
    const offer = (worker) => {
      update({ waitingWorker: worker });
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
  update({ updating: true });
  state.waitingWorker.postMessage({ type: "SKIP_WAITING" });
}
