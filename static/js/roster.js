// The run's check-in roster on the runner's phone: the QR code to show escorts, polling the
// server while online, and merging what the server knows with escorts added on the phone.
// Small functions for app.js to wire; no globals, no inline script or style.

const SVG_NS = "http://www.w3.org/2000/svg";
const UNSAFE_SVG_ELEMENTS = ["script", "foreignObject", "iframe", "a"];

/** Parse SVG markup (the run's checkin_qr_svg) into an element, or null if it is not an SVG. */
export function parseSvg(markup) {
  if (typeof markup !== "string" || !markup.trim()) return null;
  const parsed = new DOMParser().parseFromString(markup, "image/svg+xml");
  const svg = parsed.documentElement;
  if (!svg || svg.namespaceURI !== SVG_NS || svg.localName !== "svg") return null;
  // The markup comes from our own server; still, nothing in a QR code needs to run or link.
  for (const name of UNSAFE_SVG_ELEMENTS) {
    for (const element of [...svg.getElementsByTagNameNS(SVG_NS, name)]) element.remove();
  }
  for (const element of [svg, ...svg.querySelectorAll("*")]) {
    for (const attribute of [...element.attributes]) {
      if (/^on/i.test(attribute.name) || /href$/i.test(attribute.name)) {
        element.removeAttribute(attribute.name);
      }
    }
  }
  return document.importNode(svg, true);
}

/**
 * Show the run's check-in QR code, large, with its URL as text under it (works offline: both
 * come with the run from /api/v1/bootstrap or GET /api/v1/runs/<id>). Returns the figure.
 */
export function renderCheckinQr(container, run) {
  const figure = document.createElement("figure");
  figure.className = "checkin-qr";
  figure.dataset.testid = "checkin-qr";
  const svg = parseSvg(run?.checkin_qr_svg);
  if (svg) {
    svg.classList.add("checkin-qr-code");
    svg.setAttribute("focusable", "false");
    figure.append(svg);
  }
  const caption = document.createElement("figcaption");
  caption.className = "checkin-qr-url";
  caption.dataset.testid = "checkin-url";
  caption.textContent = run?.checkin_url ?? "";
  figure.append(caption);
  container.replaceChildren(figure);
  return figure;
}

/**
 * One roster from the server's check-ins and those added on this phone but not yet synced.
 * The same UUID is one person: the server's copy wins; phone-only ones are marked pending.
 */
export function mergeRoster(serverCheckins = [], phoneCheckins = []) {
  const byId = new Map();
  for (const checkin of phoneCheckins) byId.set(checkin.id, { ...checkin, pending: true });
  for (const checkin of serverCheckins) byId.set(checkin.id, { ...checkin, pending: false });
  return [...byId.values()].sort(
    (a, b) =>
      String(a.checked_in_at ?? "").localeCompare(String(b.checked_in_at ?? "")) ||
      String(a.id).localeCompare(String(b.id)),
  );
}

const ROLE_LABELS = { escort: "Escort", runner: "Runner", supporter: "Supporter" };

/** Fill a list element with one item per check-in (text only, so names stay inert). */
export function renderRoster(list, checkins) {
  const items = checkins.map((checkin) => {
    const item = document.createElement("li");
    item.className = "roster-entry";
    item.dataset.testid = "roster-entry";
    item.dataset.checkinId = checkin.id;
    const name = document.createElement("strong");
    name.textContent = checkin.name;
    const details = document.createElement("span");
    details.className = "roster-details";
    details.textContent = [ROLE_LABELS[checkin.role] ?? checkin.role, checkin.agency, checkin.badge]
      .filter(Boolean)
      .join(" · ");
    item.append(name, " ", details);
    if (checkin.pending) {
      const pending = document.createElement("span");
      pending.className = "roster-pending";
      pending.textContent = "Not synced yet";
      item.append(" ", pending);
    }
    return item;
  });
  list.replaceChildren(...items);
  return items.length;
}

/** An error from the roster API, with its HTTP status and the API's error code. */
export class RosterError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "RosterError";
    this.status = status;
    this.code = code;
  }
}

/**
 * Fetch the roster once. With the ETag of the roster already shown, an unchanged roster
 * answers { changed: false } without a body.
 */
export async function fetchRoster({ runId, token, etag = null, signal, fetchImpl = fetch }) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (etag) headers["If-None-Match"] = etag;
  const response = await fetchImpl(`/api/v1/runs/${encodeURIComponent(runId)}/checkins`, {
    headers,
    signal,
    cache: "no-store",
    credentials: "omit",
  });
  if (response.status === 304) return { changed: false, etag, checkins: null };
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = body?.error ?? {};
    throw new RosterError(
      response.status,
      error.code ?? "http_error",
      error.message ?? `The roster could not be loaded (${response.status}).`,
    );
  }
  const body = await response.json();
  return { changed: true, etag: response.headers.get("ETag"), checkins: body.checkins ?? [] };
}

function browserIsOnline() {
  return typeof navigator === "undefined" || navigator.onLine !== false;
}

function pageIsVisible() {
  return typeof document === "undefined" || document.visibilityState !== "hidden";
}

/** Wait intervalMs, or less: until aborted, back online, or the page shows again. */
function pause(intervalMs, signal) {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", wake);
      globalThis.removeEventListener?.("online", wake);
      globalThis.document?.removeEventListener("visibilitychange", wakeIfVisible);
      resolve();
    };
    const wakeIfVisible = () => {
      if (pageIsVisible()) wake();
    };
    const timer = setTimeout(wake, intervalMs);
    signal?.addEventListener("abort", wake, { once: true });
    globalThis.addEventListener?.("online", wake, { once: true });
    globalThis.document?.addEventListener("visibilitychange", wakeIfVisible);
  });
}

/**
 * Poll the run's roster every intervalMs while the phone is online and the page is visible;
 * call onUpdate(checkins) whenever it changed. Stops when signal aborts, or after a 401 or 404
 * (signed out, or not this runner's run), which it reports through onError first.
 * Resolves when it stops.
 */
export async function pollRoster({
  runId,
  token,
  intervalMs = 15000,
  onUpdate,
  onError = () => {},
  signal,
  fetchImpl = globalThis.fetch?.bind(globalThis),
  isOnline = browserIsOnline,
}) {
  let etag = null;
  while (!signal?.aborted) {
    if (isOnline() && pageIsVisible()) {
      try {
        const result = await fetchRoster({ runId, token, etag, signal, fetchImpl });
        if (signal?.aborted) break;
        if (result.changed) {
          etag = result.etag;
          onUpdate(result.checkins);
        }
      } catch (error) {
        if (signal?.aborted) break;
        onError(error);
        if (error instanceof RosterError && (error.status === 401 || error.status === 404)) {
          break;
        }
      }
    }
    await pause(intervalMs, signal);
  }
}
