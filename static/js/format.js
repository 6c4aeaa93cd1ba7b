// How the phone writes durations, dates, heroes and a run's status: one home for each.

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return "–";
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export const formatMile = (number) => `#${number}`;

// A date, not a moment (an end of watch): shown as the same day everywhere.
export function formatDay(isoDate) {
  const options = { dateStyle: "long", timeZone: "UTC" };
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString(undefined, options);
}

// A moment, in the phone's own time zone and language.
export function formatWhen(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export const heroTitle = (hero) => `${hero.rank} ${hero.name}`.trim();

// Where a run stands, in the phone's words (counting, waiting to sync, synced, parked).
export function statusLine(run, runnerId, withLaps = true) {
  const laps = withLaps ? `${run.laps.length} / ${run.track.laps_per_mile} laps · ` : "";
  if (run.status === "counting") return `${laps}counting`;
  if (run.status === "outbox") {
    const mine = run.runner_id === runnerId;
    return `${laps}waiting to sync${mine ? "" : " (for its runner to sign in)"}`;
  }
  if (run.status === "synced") {
    return `${laps}synced · ${run.mile_number ? `mile ${formatMile(run.mile_number)}` : "incomplete"}`;
  }
  const why = Object.values(run.result.errors).join(" ") || "the server did not take it.";
  return `${laps}${run.result.status}: ${why}`;
}
