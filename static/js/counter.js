// Lap counting as pure functions of a run record. Laps are {seq, elapsed_ms}, with
// elapsed_ms from a monotonic clock started at "Begin laps".

export const MAX_LAPS = 200; // the server refuses more in one run
const MAX_LOG = 1000;

export const newId = () => crypto.randomUUID(); // a secure context, as for the worker

export function startRun(choice, runnerId, wallMs) {
  const { hero, track } = choice;
  return {
    id: choice.id || newId(),
    planned: Boolean(choice.id),
    runner_id: runnerId,
    hero_id: hero.id,
    track_id: track.id,
    hero,
    track,
    words: choice.words || "",
    video_url: choice.video_url || "",
    checkin_qr_svg: choice.checkin_qr_svg || null, // the escorts' code, shown offline too
    miles: 1, // the miles the runner chose to count: more only by a deliberate choice
    status: "counting",
    started_at: new Date(wallMs).toISOString(),
    start_wall_ms: wallMs,
    // The latest (elapsed, wall clock) pair: how a reopened page finds its place.
    clock: { elapsed_ms: 0, wall_ms: wallMs },
    laps: [],
    log: [],
    checkins: [],
    ceremony: { ...noCeremony(), ...choice.ceremony }, // the steps done before "Begin laps"
  };
}

// Every step as skipped: a step the runner does not tap is sent as not done.
export const noCeremony = () => ({ prayer_before: false, silence_seconds: 0, flag_carried: false, prayer_after: false });

export function lastLapMs(run) {
  return run.laps.length ? run.laps[run.laps.length - 1].elapsed_ms : 0;
}

// While a run counts, each tap, ignored tap, undo or "keep counting" is an entry of its log,
// stored as one small record of its own (db.js) and numbered n from the run's record on.
// tally applies entries to a run; the functions below return the entry and the run after it.
export function tally(run, entries) {
  const next = { ...run, laps: [...run.laps], log: [...run.log], n: run.n || 0 };
  for (const { run_id: _, n, ...entry } of entries) {
    if (entry.type === "lap") next.laps.push({ seq: entry.seq, elapsed_ms: entry.elapsed_ms });
    if (entry.type === "undo") next.laps.pop();
    if (entry.type === "keep_counting") next.miles = entry.miles;
    if (["lap", "ignored", "clock"].includes(entry.type)) {
      next.clock = { elapsed_ms: Math.max(entry.elapsed_ms, next.clock.elapsed_ms), wall_ms: entry.wall_ms };
    }
    if (entry.type !== "clock") next.log.push(entry);
    next.n = n ?? next.n + 1;
  }
  next.log = next.log.slice(-MAX_LOG);
  return next;
}

const after = (run, entry, more) => ({ run: tally(run, [entry]), entry, ...more });

// The laps the run counts to: a mile, or more once the runner chose to keep counting.
export const targetLaps = (run) => run.track.laps_per_mile * (run.miles || 1);

// The double-tap guard: a tap sooner than the track's minimum lap time after the last
// counted lap (or "Begin laps", for lap 1) is ignored, and logged as ignored. So is a tap
// past the mile: counting on is a choice (keepCounting), never a stray tap.
export function recordTap(run, elapsedMs, wallMs) {
  if (!run || run.status !== "counting") return { run: null, counted: false, reason: "closed" };
  const at = Math.max(1, Math.round(elapsedMs));
  const since = at - lastLapMs(run);
  let reason = null;
  if (run.laps.length >= MAX_LAPS) reason = "full";
  else if (run.laps.length >= targetLaps(run)) reason = "mile_done";
  else if (since < run.track.min_lap_ms) reason = "too_soon";
  if (reason) return after(run, { type: "ignored", reason, elapsed_ms: at, wall_ms: wallMs }, { counted: false, reason });
  return after(run, { type: "lap", seq: run.laps.length + 1, elapsed_ms: at, wall_ms: wallMs }, { counted: true });
}

export function keepCounting(run, wallMs) {
  if (!run || run.status !== "counting" || run.laps.length < targetLaps(run)) return { run: null };
  return after(run, { type: "keep_counting", miles: (run.miles || 1) + 1, wall_ms: wallMs });
}

export function undoLap(run, elapsedMs, wallMs) {
  if (!run || run.status !== "counting" || run.laps.length === 0) return { run: null };
  const removed = run.laps[run.laps.length - 1];
  return after(run, { type: "undo", ...removed, at_ms: Math.round(elapsedMs), wall_ms: wallMs }, { removed });
}

// Where the clock stands, as the page hides: an entry too, kept out of the run's log.
export function checkpoint(run, elapsedMs, wallMs) {
  if (!run || run.status !== "counting") return { run: null };
  return after(run, { type: "clock", elapsed_ms: Math.round(elapsedMs), wall_ms: wallMs });
}

// performance.now() does not survive a reload and may pause while a phone sleeps, so elapsed
// is the stored (elapsed, wall clock) pair plus the wall-clock time since, never less than
// what was stored: a wall clock set back cannot make the run go backwards.
export function resumeElapsed(run, nowWallMs) {
  const base = Math.max(run.clock.elapsed_ms, lastLapMs(run));
  return base + Math.max(0, nowWallMs - run.clock.wall_ms);
}

export function finishRun(run, elapsedMs) {
  if (!run || run.status !== "counting") return { run: null };
  const elapsed = Math.max(Math.round(elapsedMs), lastLapMs(run));
  // finished_at follows the monotonic clock from started_at, so it never precedes it.
  const { n: _, ...record } = run; // numbers taps while counting: a finished run takes none
  const finished = { ...record, status: "outbox", elapsed_ms: elapsed };
  finished.finished_at = new Date(run.start_wall_ms + elapsed).toISOString();
  finished.payload = syncPayload(finished);
  return { run: finished };
}

export function syncPayload(run) {
  return {
    id: run.id,
    hero_id: run.hero_id,
    track_id: run.track_id,
    started_at: run.started_at,
    finished_at: run.finished_at,
    laps: run.laps.map(({ seq, elapsed_ms }) => ({ seq, elapsed_ms })),
    checkins: run.checkins.map(({ id, name, agency, badge, role, public: p }) => ({ id, name, agency, badge, role, public: p })),
    words: run.words,
    video_url: run.video_url,
    ...(run.ceremony && { ceremony: run.ceremony }), // runs stored by an older app have none
  };
}

export function addCheckin(run, checkin, wallMs) {
  if (!run || !["counting", "outbox"].includes(run.status)) return { run: null };
  const entry = { id: newId(), ...checkin, checked_in_at: new Date(wallMs).toISOString() };
  const next = { ...run, checkins: [...run.checkins, entry] };
  if (next.status === "outbox") next.payload = syncPayload(next);
  return { run: next, checkin: entry };
}

export function runStats(run, elapsedMs) {
  const perMile = run.track.laps_per_mile;
  const count = run.laps.length;
  const last = lastLapMs(run);
  const previous = count > 1 ? run.laps[count - 2].elapsed_ms : 0;
  const currentLapMs = Math.max(0, elapsedMs - last);
  const mileMs = count >= perMile ? run.laps[perMile - 1].elapsed_ms : null;
  let projectedMs = mileMs;
  if (count > 0 && mileMs === null) {
    // Average pace so far; a lap already slower than that average counts as it stands.
    const average = last / count;
    projectedMs = Math.round(last + Math.max(currentLapMs, average) + average * (perMile - count - 1));
  }
  return {
    count,
    perMile,
    target: targetLaps(run),
    currentLap: count + 1,
    currentLapMs,
    lastSplitMs: count ? last - previous : null,
    projectedMs,
    mileMs,
    mileComplete: mileMs !== null,
  };
}
