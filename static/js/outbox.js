// Finished runs (status "outbox") wait until the server answers created or duplicate.
// Conflicts and rejections are parked, never dropped. Retries back off with jitter. The photos
// of synced runs follow their runs.

import { ApiError, inPlainWords, postSync } from "./api.js";
import * as db from "./db.js";
import { photoJobs, pushPhotos } from "./photos.js";
import "./shared.js";

const { SYNC_TAG, BATCH, sendable, applyResult, outboxAgeSeconds } = self.r4hOutbox;
const BASE_DELAY_MS = 5000;
const MAX_DELAY_MS = 10 * 60 * 1000;

// Exponential backoff with "equal jitter": half the ceiling, plus a random half.
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(attempt - 1, 12));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class Outbox {
  constructor(onChange) {
    this.onChange = onChange; // after every attempt; onChange(true) once runs were answered
    this.running = null;
    this.again = false;
    this.attempt = 0;
    this.timer = null;
  }

  push() {
    if (this.running) {
      this.again = true; // a run finished mid-push was not in its list: push once more after
      return this.running;
    }
    this.running = this.pushAll().finally(() => {
      this.running = null;
      if (this.again) this.push();
      this.again = false;
    });
    return this.running;
  }

  pushSoon() {
    this.attempt = 0;
    return this.push();
  }

  async pushAll() {
    clearTimeout(this.timer);
    const auth = await db.getValue("auth");
    const waiting = await db.runsWithStatus("outbox");
    const mine = sendable(auth, waiting);
    if (mine.length === 0 && !(await photoJobs(auth)).length) {
      this.onChange();
      return;
    }
    try {
      for (let i = 0; i < mine.length; i += BATCH) {
        const batch = mine.slice(i, i + BATCH);
        await this.apply(batch, await this.send(auth, batch, outboxAgeSeconds(mine.slice(i), Date.now())));
      }
      await pushPhotos(auth);
      this.attempt = 0;
      await this.note({ last_success_at: new Date().toISOString(), last_error: null }, true);
    } catch (error) {
      if (error.status === 401) {
        await db.setValue("auth", { ...auth, signin_needed: { code: error.code, message: error.message } });
      } else {
        this.attempt += 1;
        this.timer = setTimeout(() => this.push(), backoffDelay(this.attempt));
      }
      // No signal at a track is normal, not a failure: the sync bar says it quietly.
      const offline = error instanceof ApiError && error.status === 0;
      await this.note({ last_error: inPlainWords(error), last_error_at: new Date().toISOString(), offline });
    }
  }

  async send(auth, batch, age) {
    try {
      const reply = await postSync(auth.token, auth.device_id, batch.map((run) => run.payload), age);
      return reply.results;
    } catch (error) {
      // 422 when no run of the batch was accepted: it still holds one result per run.
      const results = error instanceof ApiError && error.body?.results;
      if (Array.isArray(results)) return results;
      throw error;
    }
  }

  async apply(batch, results) {
    const now = new Date().toISOString();
    for (const result of results || []) {
      if (!batch.some((run) => run.id === result.id)) continue;
      await db.updateRun(result.id, (run) =>
        run && run.status === "outbox" ? { run: applyResult(run, result, now) } : null,
      );
    }
  }

  async note(change, answered = false) {
    const state = (await db.getValue("sync")) || {};
    await db.setValue("sync", { ...state, ...change });
    this.onChange(answered);
  }
}

export async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration?.sync?.register(SYNC_TAG);
  } catch {
    // No Background Sync (Safari, Firefox): start, online and Sync now still push.
  }
}
