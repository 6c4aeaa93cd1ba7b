// The runs list: the families' messages, planned runs, an unplanned run, and the runs kept on
// this phone.

import * as db from "./db.js";
import { $, el, put, show } from "./dom.js";
import { formatMile, formatPlanned, formatWhen, heroTitle, statusLine } from "./format.js";
import { resume } from "./screen-counter.js";
import { exportRun, showDone } from "./screen-done.js";
import { openHero } from "./screen-hero.js";
import { state } from "./state.js";
import { renderSync, renderSyncBar } from "./updates.js";

export function wire() {
  $("unplanned-form").onsubmit = onUnplanned;
  $("unplanned-hero").onchange = (event) => (event.target.dataset.touched = "1");
}

export async function showRuns() {
  state.stopRoster();
  await renderRuns();
  await renderSyncBar();
  show("runs");
  renderSync();
}

export async function renderRuns() {
  const boot = state.bootstrap;
  const runs = (await db.allRuns()).sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));
  const local = new Set(runs.map((run) => run.id));
  const runner = boot ? boot.runner : state.auth?.runner;
  const next = boot ? ` · next mile ${formatMile(runner.next_mile_number)}` : "";
  put("runner-line", runner ? runner.name + next : "");

  const planned = boot ? boot.planned_runs.filter((run) => !local.has(run.id)) : [];
  const choice = (run) =>
    el(
      "button",
      { className: "choice", dataset: { testid: "planned-run" }, onclick: () => openHero(run) },
      el("strong", {}, heroTitle(run.hero)),
      el("span", { dataset: { testid: "planned-when" } },
        [formatPlanned(run.scheduled_at, boot.time_zone), run.track.name].filter(Boolean).join(" · ")),
    );
  $("planned-list").replaceChildren(...planned.map((run) => el("li", {}, choice(run))));
  // Kept with the bootstrap in IndexedDB: they show with no signal too.
  const messages = boot?.messages || [];
  const from = (m) => `The family of ${m.hero_name} · ${formatWhen(m.received_at)}`;
  const message = (m) => el("li", {}, el("blockquote", {}, m.message), el("p", { className: "quiet" }, from(m)));
  $("messages-list").replaceChildren(...messages.map(message));
  $("family-messages").hidden = !messages.length;
  $("planned-empty").hidden = planned.length > 0;
  // A hero whose mile is run (on the server, or on this phone) is marked, and never the default.
  const miles = runs.filter((run) => run.status !== "counting" && run.laps.length >= run.track.laps_per_mile);
  const honored = new Set(miles.map((run) => run.hero_id));
  for (const hero of boot ? boot.heroes : []) if (hero.honored) honored.add(hero.id);
  const mark = (h) => (honored.has(h.id) ? "✓ mile run · " : "");
  fillSelect("unplanned-hero", boot ? boot.heroes : [], (h) => `${mark(h)}${heroTitle(h)} — ${h.agency}`);
  if (!$("unplanned-hero").dataset.touched) {
    const first = boot?.heroes.find((h) => !honored.has(h.id));
    if (first) $("unplanned-hero").value = first.id;
  }
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

function runItem(run) {
  const open = () => (run.status === "counting" ? resume(run) : showDone(run.id));
  return el(
    "li",
    { className: `run run-${run.status}` },
    el("strong", {}, heroTitle(run.hero)),
    el("span", {}, `${formatWhen(run.started_at)} · ${statusLine(run, state.auth?.runner.id)}`),
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
