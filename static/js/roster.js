// The run's check-in roster on the runner's phone: polling the server while online, and
// merging what the server knows with escorts added on the phone. Loaded when first needed.

import { ApiError, fetchRoster } from "./api.js";
import { el } from "./dom.js";

// One roster from the server's check-ins and this phone's. The same UUID is one person: the
// server's copy wins; phone-only ones are pending unless the run was sent.
export function mergeRoster(serverCheckins = [], phoneCheckins = [], sent = false) {
  const byId = new Map();
  for (const checkin of phoneCheckins) byId.set(checkin.id, { ...checkin, pending: !sent });
  for (const checkin of serverCheckins) byId.set(checkin.id, { ...checkin, pending: false });
  return [...byId.values()].sort(
    (a, b) =>
      String(a.checked_in_at ?? "").localeCompare(String(b.checked_in_at ?? "")) ||
      String(a.id).localeCompare(String(b.id)),
  );
}

const ROLE_LABELS = { escort: "Escort", runner: "Runner", supporter: "Supporter" };

// One item per check-in, text only, so names stay inert.
export function renderRoster(list, checkins) {
  const items = checkins.map((checkin) => {
    const details = [ROLE_LABELS[checkin.role] ?? checkin.role, checkin.agency, checkin.badge];
    const item = el(
      "li",
      { className: "roster-entry", dataset: { testid: "roster-entry", checkinId: checkin.id } },
      el("strong", {}, checkin.name),
      " ",
      el("span", { className: "roster-details" }, details.filter(Boolean).join(" · ")),
    );
    if (checkin.pending) item.append(" ", el("span", { className: "roster-pending" }, "Not synced yet"));
    return item;
  });
  list.replaceChildren(...items);
  return items.length;
}

const canPoll = () => navigator.onLine !== false && document.visibilityState !== "hidden";

// Waits intervalMs, or less: until aborted, back online, or the page shows again.
function pause(intervalMs, signal) {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", wake);
      removeEventListener("online", wake);
      document.removeEventListener("visibilitychange", wakeIfVisible);
      resolve();
    };
    const wakeIfVisible = () => canPoll() && wake();
    const timer = setTimeout(wake, intervalMs);
    signal?.addEventListener("abort", wake, { once: true });
    addEventListener("online", wake, { once: true });
    document.addEventListener("visibilitychange", wakeIfVisible);
  });
}

// Polls the roster while online and visible, calling onUpdate(checkins) on a change. Stops when
// signal aborts, or after a 401 or 404 (signed out, not this runner's run), told to onError.
export async function pollRoster({ runId, token, intervalMs = 15000, onUpdate, onError = () => {}, signal }) {
  let etag = null;
  while (!signal?.aborted) {
    if (canPoll()) {
      try {
        const roster = await fetchRoster(token, runId, etag);
        if (signal?.aborted) break;
        if (roster) {
          etag = roster.etag;
          onUpdate(roster.checkins);
        }
      } catch (error) {
        if (signal?.aborted) break;
        onError(error);
        if (error instanceof ApiError && (error.status === 401 || error.status === 404)) break;
      }
    }
    await pause(intervalMs, signal);
  }
}
