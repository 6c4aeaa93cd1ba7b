// How the phone writes durations, dates, heroes and a run's status: one home for each.

// Floored to the tenth of a second, as on the server's pages: 88,999 ms is "1:28.9",
// "H:MM:SS.t" from an hour. A ticking clock drops the tenths ({ tenths: false }), so it
// reads the same as a lap time, one digit shorter.
export function formatDuration(ms, { tenths = true } = {}) {
  if (ms === null || ms === undefined) return "–";
  const total = Math.floor(ms / 100);
  const seconds = Math.floor(total / 10);
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const clock = (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(s).padStart(2, "0")}`;
  return tenths ? `${clock}.${total % 10}` : clock;
}

// Mile numbers are counted in thousands: "#1,294", on the phone as on every page.
export const formatMile = (number) => `#${number.toLocaleString("en-US")}`;

// A date, not a moment (an end of watch): shown as the same day everywhere.
export function formatDay(isoDate) {
  const options = { dateStyle: "long", timeZone: "UTC" };
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString(undefined, options);
}

// A moment, in the phone's own time zone and language.
export function formatWhen(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

// A planned time, in the team's time zone (the bootstrap's time_zone) with its abbreviation,
// as the admin typed it and the admin pages show it: "Tue Dec 1, 2026 · 18:00 MST", wherever
// the phone is. Without a zone (a bootstrap kept from before) or with one this browser does
// not know, the phone's own zone, still named.
export function formatPlanned(iso, timeZone) {
  if (!iso) return "";
  const options = {
    weekday: "short", month: "short", day: "numeric", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
  };
  let format;
  try {
    format = new Intl.DateTimeFormat("en-US", { ...options, timeZone: timeZone || undefined });
  } catch {
    format = new Intl.DateTimeFormat("en-US", options); // an unknown zone name: RangeError
  }
  const part = Object.fromEntries(format.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.month} ${part.day}, ${part.year} · ${part.hour}:${part.minute} ${part.timeZoneName}`;
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
