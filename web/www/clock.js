// clock.js — the page's clock: on each animation frame, a playing simulation advances by the
// frame's real duration × speed (nothing when paused, and at most 0.1 s of real time, so a tab
// coming back from the background does not leap ahead), then the page is drawn. In live mode
// time is the cluster's own, so a frame only draws. It also measures each frame's work for the
// frame-time benchmark.

import { draw } from './draw.js';
import { advanceTo } from './run.js';
import { page } from './state.js';

/** How many recent frames' work is kept. */
const FRAMES_MEASURED = 1000;

/** How long each recent frame's work took (ms, simulation + drawing), for the frame-time
 *  benchmark: at most the last 1,000 frames. */
export const frameWork = [];

/** The timestamp of the previous animation frame (0 before the first). */
let last = 0;

function tick(now) {
  const started = performance.now();
  const dt = last ? Math.min(0.1, (now - last) / 1000) : 0;
  last = now;
  if (!page.live && page.playing && dt > 0) advanceTo(page.cluster.now_nanos() + Math.round(dt * page.speed * 1e9));
  draw();
  frameWork.push(performance.now() - started);
  if (frameWork.length > FRAMES_MEASURED) frameWork.shift();
  requestAnimationFrame(tick);
}

/** Starts the clock: from now on every animation frame advances and draws. */
export function startClock() {
  requestAnimationFrame(tick);
}
