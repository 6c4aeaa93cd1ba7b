// Sign-in: the first time on this phone, and again when a sign-in has ended.

import { inPlainWords, signIn } from "./api.js";
import * as db from "./db.js";
import { $, put, show } from "./dom.js";
import { resume } from "./screen-counter.js";
import { showRuns } from "./screen-runs.js";
import { state, update } from "./state.js";
import { outbox, refreshBootstrap } from "./updates.js";

export function wire() {
  $("signin-form").onsubmit = onSignin;
  $("signin-cancel").onclick = () => {
    update({ signinDismissed: true });
    showRuns();
  };
  $("signin-again").onclick = () => showSignin();
}

export function showSignin(reason) {
  $("signin-email").value ||= state.auth?.runner.email || "";
  put("signin-reason", reason || "", !reason);
  $("signin-cancel").hidden = !state.auth;
  show("signin");
  $("sync-bar").hidden = !state.auth; // a first sign-in has nothing to sync yet
}

async function onSignin(event) {
  event.preventDefault();
  const button = event.submitter;
  button.disabled = true;
  put("signin-error", "", true);
  try {
    // A fresh {token, device_id, expires_at, runner}, so signin_needed is gone.
    const auth = await signIn($("signin-email").value, $("signin-password").value, $("signin-device").value);
    await db.setValue("auth", auth);
    update({ auth });
    $("signin-password").value = "";
    await refreshBootstrap();
    await (state.run ? resume(state.run) : showRuns());
    outbox.pushSoon();
  } catch (err) {
    const words = err.code === "network" ? "No connection. Signing in needs a signal once." : inPlainWords(err);
    put("signin-error", err.status === 401 ? err.message : words, false);
  } finally {
    button.disabled = false;
  }
}
