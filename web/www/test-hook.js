// test-hook.js — `window.flotilla`, what the browser tests and the frame-time benchmark call:
// the page's state as plain data, its event lines, play and pause, running to a virtual
// instant, where to click a link, and the simulation's trace for comparison with the native
// one. It reads state and drives the run like the page's own controls; it never draws pixels
// of its own.

import { trace } from './flotilla_web.js';
import { frameWork } from './clock.js';
import { draw } from './draw.js';
import { setPlaying } from './playback.js';
import { advanceTo } from './run.js';
import { page } from './state.js';
import { $ } from './util.js';

/** The test hook: reads state, never draws pixels of its own. */
function hook() {
  return {
    ready: true,
    /** Everything a test asserts on, as plain data. */
    snapshot() {
      const frame = page.frame;
      return {
        now: frame.now,
        playing: page.playing,
        speed: page.speed,
        leader: frame.leader ?? null,
        status: $('status').textContent,
        nodes: frame.nodes.map((n) => ({
          id: n.id, role: n.role, term: n.term, voted_for: n.voted_for, leader: n.leader,
          commit_index: n.commit_index, last_log_index: n.last_log_index, load: n.load,
          capacity: n.capacity, placements: n.placements,
        })),
        cut: frame.cut,
        services: page.services ? page.services.services : [],
        actions: page.actions.length,
        url: location.href,
      };
    },
    /** Every event line of this run so far (as `cargo xtask sim --trace` prints them). */
    eventLines: () => page.lines.slice(),
    pause: () => setPlaying(false),
    play: () => setPlaying(true),
    /** Pauses and runs to `seconds` of virtual time in frames of `frame` seconds. */
    runTo(seconds, frame = 0.05) {
      setPlaying(false);
      const target = Math.round(seconds * 1e9);
      while (page.cluster.now_nanos() < target) {
        advanceTo(Math.min(target, page.cluster.now_nanos() + Math.round(frame * 1e9)));
      }
      draw(true);
      return page.frame.now;
    },
    /** The client coordinates of a point on the line of link `from → to`, where a pointer
     *  clicks it (tests click there; the page finds the link from the point). */
    linkPoint: (from, to) => page.ring.clientPoint(from, to),
    /** Whether the page follows a running cluster (live mode) rather than simulating one. */
    live: () => Boolean(page.live),
    /** Work per frame (ms) of the recent frames; `reset` starts a new measurement. */
    frameWork: (reset = false) => (reset ? frameWork.splice(0) : frameWork.slice()),
    /** The guided tour's step (0-based), or null. */
    tourStep: () => page.tourStep,
    /** The trace of `cargo xtask sim --seed --nodes --seconds --trace`, computed here. */
    trace: (seed, nodes, seconds) => trace(seed, nodes, seconds),
  };
}

/** Publishes the hook as `window.flotilla`: its `ready` tells tests the page has started. */
export function installTestHook() {
  window.flotilla = hook();
}
