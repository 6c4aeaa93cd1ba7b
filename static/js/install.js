// Keeping the laps on this phone: the iPhone's "Add to Home Screen" guide, and persistent
// storage. Safari has no install prompt, and wipes a site's data after 7 days unused unless
// it runs from the home screen.

import { $ } from "./dom.js";

const standalone = () => navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;
// iPadOS presents itself as a Mac, with touch.
const onIos = () =>
  /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);

export function wire() {
  $("install-guide").hidden = !onIos() || standalone();
  askPersistence();
}

// A calm line only when the data is at risk: not persisted, and not installed.
async function askPersistence() {
  const storage = navigator.storage;
  let kept = false;
  try {
    kept = !storage?.persist || (await storage.persisted()) || (await storage.persist());
  } catch {
    // Treated as not persisted.
  }
  $("storage-warning").hidden = kept || standalone();
}
