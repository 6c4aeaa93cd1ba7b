// The hero card, before the mile: who the run honors, the escorts' check-in code, and the
// optional prayer and moment of silence.

import * as db from "./db.js";
import { $, buzz, put, show, svgUrl } from "./dom.js";
import { showRoster } from "./escorts.js";
import { formatDay, formatDuration, heroTitle } from "./format.js";
import { beginRun } from "./screen-counter.js";
import { showRuns } from "./screen-runs.js";
import { state, update } from "./state.js";

const SILENCE_MS = 60 * 1000; // unless the runner stops it
const silence = { endsAt: null, timer: null };

export function wire() {
  $("hero-back").onclick = showRuns;
  $("hero-qr").onclick = () => $("hero-qr").classList.toggle("full");
  $("open-prayer").onclick = openPrayer;
  $("prayer-done").onclick = openSilence;
  $("prayer-skip").onclick = closeCeremony;
  $("open-silence").onclick = openSilence;
  $("silence-start").onclick = startSilence;
  $("silence-skip").onclick = closeCeremony;
  $("speak-laps").onchange = (event) => saveSettings({ speak: event.target.checked });
  $("begin-laps").onclick = onBegin;
}

export function openHero(choice) {
  update({ choice });
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
    $("hero-qr-img").src = svgUrl(choice.checkin_qr_svg);
  }
  $("speak-laps").checked = state.settings.speak;
  closeCeremony();
  show("hero");
  showRoster(choice.id, [], "hero-roster");
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

function openSilence() {
  closeCeremony();
  put("silence-time", formatDuration(SILENCE_MS, { tenths: false }));
  put("silence-start", "Start");
  $("silence").hidden = false;
  $("silence").scrollIntoView();
}

function startSilence() {
  if (silence.endsAt) return closeCeremony();
  silence.endsAt = performance.now() + SILENCE_MS;
  put("silence-start", "Stop");
  silence.timer = setInterval(() => {
    const left = Math.max(0, silence.endsAt - performance.now());
    const shown = Math.ceil(left / 1000) * 1000; // counts down: 0:01 is the last second
    put("silence-time", left ? formatDuration(shown, { tenths: false }) : "Silence complete");
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
  update({ settings: { ...state.settings, ...change } });
  return db.setValue("settings", state.settings);
}

function onBegin() {
  if (!state.choice || !state.auth) return;
  closeCeremony();
  state.stopRoster();
  beginRun(state.choice);
}
