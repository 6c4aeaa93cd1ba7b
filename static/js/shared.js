// What the page and the service worker must agree on to push the outbox. A classic script:
// the worker loads it with importScripts, the page imports it (outbox.js, db.js). Both read
// the one name it defines, self.r4hOutbox.

self.r4hOutbox = Object.freeze({
  SYNC_TAG: "r4h-outbox",
  DB_NAME: "r4h",
  BATCH: 50, // the server's limit per request

  // The finished runs this phone may send now: its signed-in runner's, while the sign-in holds.
  sendable(auth, waiting) {
    if (!auth || auth.signin_needed) return [];
    return waiting.filter((run) => run.runner_id === auth.runner.id);
  },

  // The photos to tell the server of: those of the signed-in runner's synced runs not sent yet
  // (unless hidden first), and sent ones hidden or shown again since. A photo the server
  // refused keeps its error and is not sent again.
  photoJobs(auth, photos, syncedRuns) {
    const mine = new Set(self.r4hOutbox.sendable(auth, syncedRuns).map((run) => run.id));
    return photos.filter((p) => mine.has(p.run_id) && !p.error && (p.sent ? p.hidden !== p.server_hidden : !p.hidden));
  },
  photoPath: (runId, id) => `/api/v1/runs/${encodeURIComponent(runId)}/photos/${id}`,
  // A photo the server took: sent, or its hiding told.
  photoTaken: (photo) => (photo.sent ? { server_hidden: photo.hidden } : { sent: true }),
  // No answer (0), a failing or busy server, an ended sign-in: the photo is tried again later.
  // Any other refusal is kept on the photo and not retried.
  photoRetried: (status) => !status || status >= 500 || status === 401 || status === 429,

  // How long the oldest of these finished runs has waited, in whole seconds, for the server's
  // /metrics; undefined for none. Kept within the server's bounds: a phone's wrong clock must
  // not stop its sync.
  outboxAgeSeconds(runs, nowMs) {
    const oldest = Math.min(...runs.map((run) => Date.parse(run.finished_at)).filter(Number.isFinite));
    if (oldest === Infinity) return undefined;
    return Math.min(366 * 86400, Math.max(0, Math.floor((nowMs - oldest) / 1000)));
  },

  // A stored run after the server's answer: created or duplicate is synced, anything else
  // (conflict, rejected) is parked with its reasons, never dropped.
  applyResult(run, result, now) {
    const accepted = result.status === "created" || result.status === "duplicate";
    return {
      ...run,
      status: accepted ? "synced" : "parked",
      mile_number: result.mile_number ?? null,
      synced_at: accepted ? now : null,
      result: { status: result.status, errors: result.errors || {}, at: now },
    };
  },
});
