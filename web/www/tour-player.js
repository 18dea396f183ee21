// tour-player.js — plays the guided tour (tour.js holds its steps) on the page: the `stage`
// a step sets its scene through (a fresh run, fast-forwarding, actions through the normal
// action path, so a step lands in the URL like a user's clicks), and moving between steps.

import { act } from './actions.js';
import { draw } from './draw.js';
import { setPlaying } from './playback.js';
import { advanceTo, build } from './run.js';
import { page } from './state.js';
import { STEPS } from './tour.js';
import { writeUrl } from './url-state.js';
import { $ } from './util.js';

/** What a tour step may do to the run: start afresh, fast-forward, act like a user. */
const stage = {
  /** A fresh run of 5 nodes from `seed`, no actions. */
  fresh(seed) {
    page.settings.seed = seed;
    page.settings.nodes = 5;
    $('seed').value = seed;
    $('nodes').value = 5;
    page.actions = [];
    page.maxNanos = 0;
    page.selection = null;
    build();
    writeUrl();
  },
  /** Runs in 0.1 s slices until `done(frame)` holds or `maxSeconds` pass; the last frame. */
  runUntil(done, maxSeconds) {
    const limit = page.cluster.now_nanos() + Math.round(maxSeconds * 1e9);
    for (;;) {
      const frame = JSON.parse(page.cluster.frame());
      if (done(frame) || page.cluster.now_nanos() >= limit) return frame;
      advanceTo(page.cluster.now_nanos() + 1e8);
    }
  },
  /** Runs for `seconds` of virtual time. */
  runFor(seconds) {
    advanceTo(page.cluster.now_nanos() + Math.round(seconds * 1e9));
  },
  act: (op, ...args) => act(op, ...args),
};

/** Starts tour step `index` from its beginning (or ends the tour when out of range). */
export function tourTo(index) {
  if (index < 0 || index >= STEPS.length) {
    page.tourStep = null;
    $('tour').hidden = true;
    return;
  }
  page.tourStep = index;
  const step = STEPS[index];
  $('tour').hidden = false;
  $('tour-title').textContent = `Tour ${index + 1}/${STEPS.length}: ${step.title}`;
  $('tour-back').disabled = index === 0;
  $('tour-next').textContent = index === STEPS.length - 1 ? 'Done' : 'Next ▸';
  step.start(stage);
  setPlaying(true);
  draw(true);
  $('tour-next').focus();
}

/** Connects the Tour button and the tour card's buttons. */
export function wireTour() {
  $('tour-button').addEventListener('click', () => tourTo(0));
  $('tour-back').addEventListener('click', () => tourTo(page.tourStep - 1));
  $('tour-again').addEventListener('click', () => tourTo(page.tourStep));
  $('tour-next').addEventListener('click', () => tourTo(page.tourStep + 1));
  $('tour-close').addEventListener('click', () => tourTo(-1));
}
