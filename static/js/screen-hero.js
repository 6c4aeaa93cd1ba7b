// The hero card, before the mile: who the run honors, the escorts' check-in code, and the
// optional prayer, moment of silence and flag, recorded with the run (each skipped unless done).

import { noCeremony } from "./counter.js";
import * as db from "./db.js";
import { $, buzz, put, show, svgUrl } from "./dom.js";
import { showRoster } from "./escorts.js";
import { formatDay, formatDuration, heroTitle } from "./format.js";
import { SILENCE_MS, Silence } from "./silence.js";
import { beginRun } from "./screen-counter.js";
import { showRuns } from "./screen-runs.js";
import { state, update } from "./state.js";

const record = (step) => Object.assign(state.choice.ceremony, step);
const silence = new Silence(
  (left) => put("silence-time", formatDuration(left, { tenths: false })),
  (seconds) => {
    record({ silence_seconds: seconds, silence_when: "before" });
    if (seconds * 1000 < SILENCE_MS) return; // stopped early: the panel closes
    put("silence-time", "Silence complete");
    put("silence-start", "Again");
    buzz(300);
  },
);

export function wire() {
  $("hero-back").onclick = showRuns;
  $("hero-qr").onclick = () => $("hero-qr").classList.toggle("full");
  $("open-prayer").onclick = openPrayer;
  $("prayer-done").onclick = () => {
    record({ prayer_before: true });
    openSilence();
  };
  $("prayer-skip").onclick = () => {
    record({ prayer_before: false });
    closeCeremony();
  };
  $("open-silence").onclick = openSilence;
  $("silence-start").onclick = startSilence;
  $("silence-skip").onclick = () => {
    closeCeremony();
    record({ silence_seconds: 0 });
  };
  $("flag-carried").onchange = (event) => record({ flag_carried: event.target.checked });
  $("speak-laps").onchange = (event) => saveSettings({ speak: event.target.checked });
  $("begin-laps").onclick = onBegin;
}

export function openHero(choice) {
  closeCeremony();
  update({ choice: { ...choice, ceremony: noCeremony() } });
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
  put("flag-carried-label", `We carry the ${hero.flag_type.toLowerCase()} flag`);
  $("flag-carried").checked = false;
  $("speak-laps").checked = state.settings.speak;
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
  if (silence.running) return closeCeremony(); // "Stop": kept for as long as it lasted
  put("silence-start", "Stop");
  silence.start();
}

function closeCeremony() {
  silence.stop();
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
