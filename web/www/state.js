// state.js — the page's state, one object shared by its modules: the settings read from the
// URL, the cluster shown (simulated, or followed in live mode), the recorded actions, the
// selection and what the panels last showed. Modules read and write it directly; nothing here
// acts on it.

/** The page's state. */
export const page = {
  /** Seed, node count, pace, speed, recorded actions and live-mode target, from the URL. */
  settings: null,
  /** The simulated cluster (flotilla_web's Cluster); null in live mode. */
  cluster: null,
  /** The ring that draws the cluster (ring.js). */
  ring: null,
  /** The last frame drawn: the cluster's state in the shape ring.js and panels.js draw. */
  frame: null,
  /** Whether virtual time runs (the clock advances the simulation each animation frame). */
  playing: true,
  /** Virtual seconds per real second. */
  speed: 1,
  /** Every action of this run: `{t, op, args}`, t in virtual nanoseconds, in order. */
  actions: [],
  /** How many of `actions` the cluster has applied; those after it are still in the future. */
  next: 0,
  /** The latest virtual instant reached (the end of the time slider), in nanoseconds. */
  maxNanos: 0,
  /** What the inspector shows: `{node}`, `{message}` or null. */
  selection: null,
  /** Every event line of this run so far (what the test hook's eventLines returns). */
  lines: [],
  /** Frames drawn so far (the slower panels refresh every few). */
  frames: 0,
  /** The services panel's last data. */
  services: null,
  /** The messages sent lately, by id: the inspector still shows one no longer on the wire. */
  messages: new Map(),
  /** Whether the run is being rebuilt (scrubbing): lost messages are not marked then. */
  replaying: false,
  /** Whether the user is dragging the time slider (the page leaves it alone meanwhile). */
  scrubbing: false,
  /** The guided tour's current step (index into STEPS), or null when no tour is on. */
  tourStep: null,
  /** In live mode, the running cluster followed (a LiveCluster); null when simulating. */
  live: null,
};
