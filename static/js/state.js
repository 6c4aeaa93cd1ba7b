// The app's state, every key declared here. Sealed, so a key cannot be added elsewhere, and
// changed only through update(), so a search for "update(" finds every change.

export const state = Object.seal({
  auth: null, // as stored: {token, device_id, expires_at, runner}, plus signin_needed once it ended
  bootstrap: null, // the last /api/v1/bootstrap answer: runner, heroes, tracks, planned runs
  settings: { speak: false },
  signinDismissed: false, // "Not now" on an ended sign-in: not asked again on this visit
  choice: null, // the run picked, before "Begin laps"
  run: null, // the counting run, as last read back from IndexedDB
  clockBase: 0, // performance.now() at elapsed 0
  wakeLock: null, // the screen wake lock while counting
  doneId: null, // the run the done screen shows
  stopRoster: () => {}, // stops polling the roster on screen
  waitingWorker: null, // a new version of the app, installed, waiting for no run to count
  updating: false, // the runner took the new version: reload when it takes over
});

export function update(change) {
  Object.assign(state, change);
}
