// A moment of silence: a minute counted down, or less if the runner ends it. It says how
// long it lasted, in whole seconds, for the run's ceremony.

export const SILENCE_MS = 60 * 1000;

export class Silence {
  constructor(show, done) {
    this.show = show; // show(msLeft), rounded up to the second, while it lasts
    this.done = done; // done(seconds) once it ended, by itself or by stop()
    this.endsAt = null;
    this.timer = null;
  }

  get running() {
    return this.endsAt !== null;
  }

  start() {
    this.endsAt = performance.now() + SILENCE_MS;
    this.timer = setInterval(() => this.tick(), 200);
    this.tick();
  }

  tick() {
    const left = Math.max(0, this.endsAt - performance.now());
    if (left) this.show(Math.ceil(left / 1000) * 1000);
    else this.stop();
  }

  stop() {
    if (!this.running) return;
    clearInterval(this.timer);
    const left = Math.max(0, this.endsAt - performance.now());
    this.endsAt = null;
    this.done(Math.round((SILENCE_MS - left) / 1000));
  }
}
