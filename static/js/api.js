// fetch for the JSON API: resolves with the parsed body, throws ApiError on anything else.

import "./shared.js";

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status; // 0 when the server was not reached at all
    this.code = code;
    this.body = body;
  }
}

// Sends one request; answers the response when it is ok (or 304), throws ApiError otherwise.
async function send(path, { method = "GET", token, body, etag, timeoutMs = 20000 } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (etag) headers["If-None-Match"] = etag;
  const raw = body instanceof Blob; // a photo goes as its bytes, every other body as JSON
  if (body !== undefined) headers["Content-Type"] = raw ? body.type : "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined || raw ? body : JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const slow = error.name === "TimeoutError";
    throw new ApiError(0, slow ? "timeout" : "network", error.message);
  }
  if (response.ok || response.status === 304) return response;
  const data = await response.json().catch(() => null);
  const err = data?.error || {};
  const message = err.message || `The server answered ${response.status}.`;
  throw new ApiError(response.status, err.code || `http_${response.status}`, message, data);
}

const call = async (path, options) => (await send(path, options)).json().catch(() => null);

export const signIn = (email, password, device_name) =>
  call("/api/v1/auth/token", { method: "POST", body: { email, password, device_name } });
export const fetchBootstrap = (token) => call("/api/v1/bootstrap", { token });
export const postSync = (token, device_id, runs, outbox_age_seconds) =>
  call("/api/v1/sync", { method: "POST", token, body: { device_id, runs, outbox_age_seconds } });
const { photoPath } = self.r4hOutbox;
export const putPhoto = (token, runId, id, blob) =>
  call(photoPath(runId, id), { method: "PUT", token, body: blob, timeoutMs: 120000 });
export const patchPhoto = (token, runId, id, hidden) =>
  call(photoPath(runId, id), { method: "PATCH", token, body: { hidden } });

// The run's check-ins; with the ETag of those already shown, null when nothing changed.
export async function fetchRoster(token, runId, etag) {
  const response = await send(`/api/v1/runs/${encodeURIComponent(runId)}/checkins`, { token, etag });
  if (response.status === 304) return null;
  return { etag: response.headers.get("ETag"), checkins: (await response.json()).checkins };
}

export function inPlainWords(error) {
  if (!(error instanceof ApiError)) return "Something went wrong on this phone. Nothing was lost.";
  if (error.code === "network") return "No signal right now. The runs wait on this phone and will send later.";
  if (error.code === "timeout") return "The server took too long to answer. Will try again.";
  if (error.status === 401) return "The sign-in on this phone has ended. Sign in again to send runs.";
  if (error.status === 429) return "The server asked to slow down. Will try again.";
  if (error.status >= 500) return `The server had a problem (error ${error.status}). Will try again.`;
  return error.message;
}
