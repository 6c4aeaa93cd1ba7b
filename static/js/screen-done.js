// The done screen: the run just finished (or opened from the list), where it stands, and
// its escorts.

import * as counter from "./counter.js";
import * as db from "./db.js";
import { $, downloadJson, put, show } from "./dom.js";
import { openEscort, showRoster } from "./escorts.js";
import { formatDuration, heroTitle, statusLine } from "./format.js";
import { showRuns } from "./screen-runs.js";
import { state, update } from "./state.js";
import { renderSync, renderSyncBar } from "./updates.js";

export function wire() {
  $("done-escort").onclick = () => openEscort(state.doneId);
  $("done-export").onclick = () => exportRun(state.doneId);
  $("done-back").onclick = showRuns;
}

export async function showDone(id) {
  update({ doneId: id });
  const run = await renderDone();
  await renderSyncBar(); // the count is right before the bar shows
  show("done");
  renderSync();
  showRoster(run.id, run.checkins, "done-escorts");
}

export async function renderDone() {
  const run = await db.getRun(state.doneId);
  const { count, perMile, mileComplete, mileMs } = counter.runStats(run, run.elapsed_ms || 0);
  put("done-hero", `For ${heroTitle(run.hero)}`);
  put("done-laps", `${count} / ${perMile} laps · ${mileComplete ? `mile in ${formatDuration(mileMs)}` : "incomplete"}`);
  put("done-status", statusLine(run, state.auth?.runner.id, false));
  $("done-status").className = `status status-${run.status}`;
  $("done-escort").hidden = run.status !== "outbox";
  return run;
}

export async function exportRun(id) {
  const run = await db.getRun(id);
  const file = `r4h-run-${run.started_at.slice(0, 10)}-${run.id.slice(0, 8)}.json`;
  downloadJson(file, { format: "r4h-run/1", exported_at: new Date().toISOString(), run });
}
