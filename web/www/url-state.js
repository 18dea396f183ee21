// url-state.js — the run in the URL: the seed, the settings and every action with its virtual
// instant, so a shared link replays the same run (run.js applies the actions as virtual time
// reaches them). Also the live-mode parameters: `?live=<cluster>` and `?api=<server>`.

import { OPS } from './ops.js';
import { page } from './state.js';
import { clamp } from './util.js';

/** Actions in the URL: `t,op,arg,…` joined by `;`, t in virtual nanoseconds. */
function encodeActions(actions) {
  return actions.map((a) => [a.t, a.op, ...a.args].map((x) => encodeURIComponent(String(x))).join(',')).join(';');
}

/** The actions `encodeActions` wrote, in time order; unknown ones are skipped. */
function decodeActions(text) {
  const out = [];
  for (const part of text.split(';')) {
    const [t, op, ...args] = part.split(',').map(decodeURIComponent);
    if (!OPS[op] || !Number.isFinite(Number(t))) continue;
    out.push({ t: Number(t), op, args: args.map((x) => (/^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x)) });
  }
  return out.sort((a, b) => a.t - b.t);
}

/** Seed, settings and actions from the URL (defaults for what is missing or out of range). */
export function readUrl() {
  const q = new URLSearchParams(location.search);
  const int = (name, fallback, lo, hi) => {
    const v = Number(q.get(name));
    return q.has(name) && Number.isInteger(v) && v >= lo && v <= hi ? v : fallback;
  };
  const speed = Number(q.get('speed'));
  return {
    seed: int('seed', 1, 0, 4294967295),
    nodes: int('nodes', 5, 1, 51),
    pace: q.get('pace') === 'fast' ? 'fast' : 'watchable',
    speed: q.has('speed') && speed > 0 ? clamp(speed, 0.1, 100) : 1,
    actions: decodeActions(q.get('a') || ''),
    // Live mode: the cluster to follow (`?live` alone: the demo's cluster "0") and the server
    // (`?api=`; default: the one serving this page).
    live: q.has('live') ? q.get('live') || '0' : null,
    api: q.get('api') || './',
  };
}

/** Writes seed, settings and actions into the URL without reloading (not in live mode: a
 *  running cluster's history cannot be replayed). */
export function writeUrl() {
  if (page.live) return;
  const q = new URLSearchParams();
  q.set('seed', page.settings.seed);
  q.set('nodes', page.settings.nodes);
  if (page.settings.pace !== 'watchable') q.set('pace', page.settings.pace);
  if (page.speed !== 1) q.set('speed', String(Number(page.speed.toPrecision(2))));
  if (page.actions.length) q.set('a', encodeActions(page.actions));
  history.replaceState(null, '', `?${q}`);
}
