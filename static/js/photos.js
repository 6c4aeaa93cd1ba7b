// Photos of a run, taken or picked with no signal: shrunk to a JPEG, kept in IndexedDB with
// the run (as bytes: WebKit may refuse to store a Blob), and sent once the run is synced. A
// hidden photo never leaves the phone; one already sent is hidden on the server too. Once the
// server has a photo (or refused it for good), the phone keeps only a thumbnail: a season of
// photos must not fill it, and the done screen still shows them with no signal.

import { inPlainWords, patchPhoto, putPhoto } from "./api.js";
import { newId } from "./counter.js";
import * as db from "./db.js";
import { $, el, notice, put } from "./dom.js";
import "./shared.js";
import { state } from "./state.js";

const MAX_SIDE = 1600; // the long side, in pixels
const THUMB_SIDE = 480; // the done screen's thumbnails: about 170 CSS px wide, at 3x
const jpeg = (photo) => new Blob([photo.bytes], { type: "image/jpeg" });
let shown = { key: "", urls: [] }; // the list on screen, and its object URLs to let go of

export function wire() {
  // Once as the app starts, and after the runner adds photos: not at every sync attempt, which
  // comes at every return to the app, mid-run too, and would read every photo's bytes.
  tidy();
  $("counter-photo-button").onclick = () => $("counter-photo").click(); // a real button on the counter
  for (const id of ["photo-take", "photo-pick", "counter-photo"]) {
    $(id).onchange = async (event) => {
      const counting = id === "counter-photo"; // during the run, from the counter
      await addPhotos(counting ? state.run.id : state.doneId, [...event.target.files]);
      if (counting) notice("Photo kept with the run.");
      event.target.value = ""; // the same photo may be picked again
    };
  }
}

// The picture upright (by its EXIF orientation), at most maxSide px long, as JPEG bytes.
async function shrink(file, maxSide = MAX_SIDE) {
  let image;
  try {
    image = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    image = new Image(); // no createImageBitmap for this file here: an <img> turns it upright too
    image.src = URL.createObjectURL(file);
    await image.decode().finally(() => URL.revokeObjectURL(image.src));
  }
  const width = image.naturalWidth || image.width;
  const height = image.naturalHeight || image.height;
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const canvas = el("canvas", { width: Math.round(width * scale), height: Math.round(height * scale) });
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  image.close?.();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
  if (!blob) throw new Error("no JPEG");
  return { bytes: await blob.arrayBuffer(), width: canvas.width, height: canvas.height };
}

// The change that swaps a photo's full JPEG for its thumbnail; none if that failed this time.
async function thin(photo) {
  const small = await shrink(jpeg(photo), THUMB_SIDE).catch(() => null);
  return small ? { bytes: small.bytes, thumb: true } : {};
}

// Deletes photos whose run is gone, and thins those the server has (or refused) that are
// still whole: an older app kept them so, or a thin failed.
async function tidyPhotos() {
  const [photos, ids] = await Promise.all([db.allPhotos(), db.runIds()]);
  const runs = new Set(ids);
  for (const photo of photos) {
    if (!runs.has(photo.run_id)) await db.deletePhoto(photo.id);
    else if ((photo.sent || photo.error) && !photo.thumb) {
      const change = await thin(photo);
      if (change.thumb) await db.updatePhoto(photo.id, () => change);
    }
  }
}

// A tidy that fails leaves the photos as they were, for the next one.
const tidy = () => tidyPhotos().catch(() => {});

async function addPhotos(runId, files) {
  for (const file of files) {
    try {
      const shrunk = await shrink(file);
      const photo = { id: newId(), run_id: runId, ...shrunk, added_at: new Date().toISOString() };
      await db.putPhoto({ ...photo, sent: false, hidden: false, server_hidden: false, error: null });
    } catch {
      notice("This phone could not read that photo. Try another one.", "warn", 6000);
    }
  }
  await showPhotos(runId);
  (await import("./updates.js")).outbox.pushSoon();
  tidy();
}

async function setHidden(photo, hidden) {
  await db.updatePhoto(photo.id, () => ({ hidden }));
  await showPhotos(photo.run_id);
  (await import("./updates.js")).outbox.pushSoon();
}

function statusOf(photo, runSynced) {
  if (photo.error) return `Not sent: ${photo.error}`;
  if (photo.hidden) return photo.server_hidden || !photo.sent ? "Hidden from the family page." : "Hidden here; the server is told when there is signal.";
  if (photo.sent && !photo.server_hidden) return "Sent.";
  return runSynced ? "Waiting for signal to send." : "On this phone; it sends after the run.";
}

// The run's photos as thumbnails, each with where it is and a button to hide or show it.
export async function showPhotos(runId) {
  const [photos, run] = await Promise.all([db.photosOfRun(runId), db.getRun(runId)]);
  photos.sort((a, b) => a.added_at.localeCompare(b.added_at));
  const synced = run?.status === "synced";
  const key = JSON.stringify([runId, synced, photos.map(({ bytes, ...rest }) => rest)]);
  if (key === shown.key) return;
  shown.urls.forEach((url) => URL.revokeObjectURL(url));
  shown = { key, urls: photos.map((photo) => URL.createObjectURL(jpeg(photo))) };
  const item = (photo, n) =>
    el(
      "li",
      { className: photo.hidden ? "photo hidden-photo" : "photo", dataset: { testid: "run-photo", photoId: photo.id } },
      el("img", { src: shown.urls[n], alt: `Photo ${n + 1} of this run`, width: photo.width, height: photo.height }),
      el("span", { dataset: { testid: "photo-status" } }, statusOf(photo, synced)),
      el("button", {
        textContent: photo.hidden ? "Show to the family" : "Hide from the family",
        dataset: { testid: "photo-hide" },
        onclick: () => setHidden(photo, !photo.hidden),
      }),
    );
  $("done-photos").replaceChildren(...photos.map(item));
  put("photos-empty", "No photos of this run yet.", photos.length > 0);
}

// What to tell the server of the photos (shared.js says which); none read while signed out.
export async function photoJobs(auth) {
  if (!auth || auth.signin_needed) return [];
  const [photos, runs] = await Promise.all([db.allPhotos(), db.runsWithStatus("synced")]);
  return self.r4hOutbox.photoJobs(auth, photos, runs);
}

// Sends each job; no signal or a server error throws (the outbox tries again later), while a
// refusal (4xx) is kept on the photo, in plain words, and not retried.
export async function pushPhotos(auth) {
  for (const photo of await photoJobs(auth)) {
    let change;
    try {
      if (!photo.sent) await putPhoto(auth.token, photo.run_id, photo.id, jpeg(photo));
      else await patchPhoto(auth.token, photo.run_id, photo.id, photo.hidden);
      change = { ...self.r4hOutbox.photoTaken(photo), ...(photo.sent ? {} : await thin(photo)) };
    } catch (error) {
      if (self.r4hOutbox.photoRetried(error.status)) throw error;
      change = { error: inPlainWords(error), ...(await thin(photo)) };
    }
    await db.updatePhoto(photo.id, () => change);
  }
}
