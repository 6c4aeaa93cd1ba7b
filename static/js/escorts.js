// A run's escorts: the roster on the hero card and the done screen, and the "Add escort"
// sheet, open from the counter and the done screen.

import * as counter from "./counter.js";
import * as db from "./db.js";
import { $, current, el, notice, svgUrl } from "./dom.js";
import { renderDone } from "./screen-done.js";
import { state, update } from "./state.js";

export function wire() {
  $("escort-form").onsubmit = onSaveEscort;
  $("escort-cancel").onclick = () => ($("escort-panel").hidden = true);
  $("qr-close").onclick = () => ($("qr-panel").hidden = true);
}

// The escorts' check-in code, large, from the counter or the done screen.
export function openQr(svg) {
  $("qr-img").src = svgUrl(svg);
  $("qr-panel").hidden = false;
  $("qr-close").focus();
}

// Escorts checked in by QR code, polled while online (roster.js, loaded when needed) and
// merged with those added on this phone, which also show offline. Once the run is synced,
// the server holds those too: none is "not synced yet".
export async function showRoster(runId, phoneCheckins, listId, sent = false) {
  state.stopRoster();
  const list = $(listId);
  const roster = runId && state.auth && (await import("./roster.js").catch(() => null));
  if (!roster) {
    const line = (c) => [c.name, c.agency, c.badge].filter(Boolean).join(" · ");
    return list.replaceChildren(...phoneCheckins.map((c) => el("li", {}, line(c))));
  }
  const controller = new AbortController();
  update({ stopRoster: () => controller.abort() });
  const render = (server) => roster.renderRoster(list, roster.mergeRoster(server, phoneCheckins, sent));
  render([]);
  roster.pollRoster({ runId, token: state.auth.token, signal: controller.signal, onUpdate: render });
}

export function openEscort(runId) {
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
  if (state.run?.id === runId) update({ run: outcome.run });
  if (current() === "done") await renderDone();
}
