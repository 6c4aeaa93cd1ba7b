// The done screen: the mile just finished (or opened from the list), where it is now, its
// escorts and its photos.

import * as counter from "./counter.js";
import * as db from "./db.js";
import { $, downloadJson, put, show, showMile } from "./dom.js";
import { openEscort, openQr, showRoster } from "./escorts.js";
import { formatDuration, heroTitle, statusLine } from "./format.js";
import * as photos from "./photos.js";
import { showRuns } from "./screen-runs.js";
import { state, update } from "./state.js";
import { renderSync, renderSyncBar } from "./updates.js";

let rosterShown = ""; // the run, status and escorts the roster below was drawn for

export function wire() {
  $("done-escort").onclick = () => openEscort(state.doneId);
  $("done-qr").onclick = async () => openQr((await db.getRun(state.doneId)).checkin_qr_svg);
  $("done-export").onclick = () => exportRun(state.doneId);
  $("done-back").onclick = showRuns;
  photos.wire();
}

export async function showDone(id) {
  update({ doneId: id });
  rosterShown = "";
  const run = await renderDone();
  await renderSyncBar(); // the count is right before the bar shows
  show("done");
  renderSync();
}

// Where the run is, plainly: on this phone waiting for signal, sent, or held back.
function whereItIs(run) {
  if (run.status === "synced") return "Sent.";
  if (run.status !== "outbox") return statusLine(run, state.auth?.runner.id, false);
  if (run.runner_id !== state.auth?.runner.id) return "Saved on this phone, will send once its runner signs in.";
  return "Saved on this phone, will send when there is signal.";
}

export async function renderDone() {
  const run = await db.getRun(state.doneId);
  const { count, perMile, mileComplete, mileMs } = counter.runStats(run, run.elapsed_ms || 0);
  const number = run.mile_number || (run.status === "outbox" && run.provisional_mile);
  if (number) {
    $("done-title").replaceChildren("Mile ", Object.assign(document.createElement("span"), { id: "done-mile" }));
    showMile("done-mile", number);
    $("done-title").append(` for ${heroTitle(run.hero)}`);
  } else {
    put("done-title", `${mileComplete ? "A mile" : "Short of a mile"} for ${heroTitle(run.hero)}`);
  }
  put("done-laps", `${count} / ${perMile} laps · ${mileComplete ? `mile in ${formatDuration(mileMs)}` : "incomplete"}`);
  put("done-status", whereItIs(run));
  $("done-status").className = `status status-${run.status}`;
  $("done-escort").hidden = run.status !== "outbox";
  $("done-qr").hidden = !run.checkin_qr_svg;
  const key = `${run.id} ${run.status} ${run.checkins.length}`;
  if (key !== rosterShown) {
    rosterShown = key;
    showRoster(run.id, run.checkins, "done-escorts", run.status === "synced");
  }
  await photos.showPhotos(run.id);
  return run;
}

export async function exportRun(id) {
  const run = await db.getRun(id);
  const file = `r4h-run-${run.started_at.slice(0, 10)}-${run.id.slice(0, 8)}.json`;
  downloadJson(file, { format: "r4h-run/1", exported_at: new Date().toISOString(), run });
}
