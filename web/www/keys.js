// keys.js — the keyboard: a key per scenario (space, n, [ ], c, t, a, r, i, p, h, + −, g), the
// help dialog (?, Esc) that lists them, and in live mode the few keys a running cluster
// answers to (the others say why they do nothing there). Typing in a field is left alone.

import { act, clientRequest, liveAct, liveClientRequest } from './actions.js';
import { draw } from './draw.js';
import { setPlaying, setSpeed, step } from './playback.js';
import { CAPACITY } from './run.js';
import { page } from './state.js';
import { flash } from './status.js';
import { tourTo } from './tour-player.js';
import { $ } from './util.js';

/** Shows or hides the help dialog (`show` undefined: whichever it is not). */
function toggleHelp(show) {
  const help = $('help');
  help.hidden = show === undefined ? !help.hidden : !show;
  if (!help.hidden) $('help-close').focus();
}

/** The keys in both modes: the help, and Esc to close it and clear the selection. */
function helpKeys() {
  return {
    '?': () => toggleHelp(),
    Escape: () => {
      toggleHelp(false);
      page.selection = null;
      draw(true);
    },
  };
}

/** The keys of a simulation: every scenario the help lists. */
function simulationKeys() {
  return {
    ' ': () => setPlaying(!page.playing),
    n: step,
    '[': () => setSpeed(page.speed / 1.5),
    ']': () => setSpeed(page.speed * 1.5),
    c: () => clientRequest(),
    t: () => act('spread_timers'),
    a: () => act('align_timers'),
    r: () => act('restart_leader'),
    i: () => act('isolate_leader'),
    p: () => act('split_in_two'),
    h: () => act('heal_all'),
    '+': () => act('add_node', CAPACITY),
    '-': () => {
      const selected = page.selection && page.selection.node;
      const target = selected || Math.max(...page.frame.nodes.filter((n) => n.voter).map((n) => n.id));
      act('remove_node', target);
    },
    g: () => tourTo(page.tourStep === null ? 0 : page.tourStep),
  };
}

/** The keys in live mode: the scenarios a running cluster can be put through from here. */
function liveKeys() {
  const live = page.live;
  const simulationOnly = () => flash('live mode follows a real cluster: time, timers and restarts are its own');
  return {
    c: liveClientRequest,
    i: () => liveAct(() => live.isolateLeader()),
    p: () => liveAct(() => live.splitInTwo()),
    h: () => liveAct(() => live.healAll()),
    ' ': simulationOnly, n: simulationOnly, t: simulationOnly, a: simulationOnly, r: simulationOnly,
    '+': simulationOnly, '-': simulationOnly, g: simulationOnly,
  };
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.matches('input, textarea') && event.key !== 'Escape') return;
  const keys = { ...(page.live ? liveKeys() : simulationKeys()), ...helpKeys() };
  const action = keys[event.key];
  if (!action) return;
  // Space on a focused button presses the button: the key must not also play or pause.
  if (event.key === ' ' && event.target.matches('button')) return;
  event.preventDefault();
  action();
}

/** Listens to the keyboard, and connects the help dialog's buttons. */
export function wireKeysAndHelp() {
  $('help-button').addEventListener('click', () => toggleHelp(true));
  $('help-close').addEventListener('click', () => toggleHelp(false));
  $('help').addEventListener('click', (e) => { if (e.target === $('help')) toggleHelp(false); });
  document.addEventListener('keydown', onKey);
}
