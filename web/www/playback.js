// playback.js — the controls of the simulated run: play and pause, speed, a step to the next
// event, scrubbing back to an earlier moment (a rebuild replaying the recorded actions), and a
// restart with the seed and node count in the header.

import { draw } from './draw.js';
import { advanceTo, build } from './run.js';
import { page } from './state.js';
import { writeUrl } from './url-state.js';
import { $, clamp } from './util.js';

/** Runs or pauses virtual time, and shows which on the play button. */
export function setPlaying(playing) {
  page.playing = playing;
  const button = $('play');
  button.textContent = playing ? '❚❚' : '▶';
  button.setAttribute('aria-label', playing ? 'Pause' : 'Play');
}

/** Sets virtual seconds per real second (0.1 to 100), and shows it on the speed slider. */
export function setSpeed(speed) {
  page.speed = clamp(speed, 0.1, 100);
  $('speed').value = Math.log10(page.speed).toFixed(2);
  $('speed-out').textContent = `${Number(page.speed.toPrecision(2))}×`;
}

/** Steps to the next thing that happens (pausing first). */
export function step() {
  setPlaying(false);
  if (page.next < page.actions.length) {
    advanceTo(page.cluster.now_nanos());
  }
  page.cluster.step();
  advanceTo(page.cluster.now_nanos());
  draw(true);
}

/** Rebuilds the run up to `seconds` (replaying the recorded actions) and pauses there. */
export function scrubTo(seconds) {
  setPlaying(false);
  page.replaying = true;
  build();
  advanceTo(Math.round(seconds * 1e9));
  page.replaying = false;
  draw(true);
}

/** Starts over with the seed and node count in the header, and no actions. */
export function restart() {
  page.settings.seed = clamp(Math.floor(Number($('seed').value) || 0), 0, 4294967295);
  page.settings.nodes = clamp(Math.floor(Number($('nodes').value) || 5), 1, 51);
  page.actions = [];
  page.maxNanos = 0;
  page.selection = null;
  build();
  writeUrl();
  setPlaying(true);
  draw(true);
}
