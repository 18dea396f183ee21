// status.js — the status line over the ring: who leads in which term (and who still believes
// it leads), cut links and nodes down, or in live mode what is followed and whether it answers;
// and the short notices that replace its hint for a moment (a refused action, say).

import { page } from './state.js';
import { $ } from './util.js';

/** How long a notice stays on the status line (ms). */
const FLASH_MS = 2500;

/** Pending while a notice shows: the status line then keeps its hint as it is. */
let flashTimer = 0;

/** Shows a short notice under the status line (a refused action, say). */
export function flash(message) {
  const hint = $('status').querySelector('.hint');
  if (hint) hint.textContent = message;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    flashTimer = 0;
    $('status').dataset.key = '';
  }, FLASH_MS);
}

/** The cluster's leader, as the frame names it (core's rule in both modes: the node that says
 *  it leads in the highest term), or undefined. */
function leaderNode(frame) {
  return frame.nodes.find((n) => n.id === frame.leader);
}

/** The nodes besides `leader` that still say they lead, the highest term first: they lead an
 *  older term and have not heard of the newer one yet. */
function staleLeaders(frame, leader) {
  return frame.nodes.filter((n) => n.role === 'leader' && n !== leader).sort((a, b) => b.term - a.term);
}

/** `3 links`, `1 link`: a count and its noun. */
function count(n, noun) {
  return `${n} ${noun}${n > 1 ? 's' : ''}`;
}

/** The status line of a simulated cluster: `main` says who leads, `extra` what is broken. */
function statusText(frame) {
  const leader = leaderNode(frame);
  const down = frame.nodes.filter((n) => n.role === 'down').length;
  const maxTerm = Math.max(0, ...frame.nodes.map((n) => n.term));
  let main;
  if (!leader) {
    main = maxTerm === 0
      ? 'No leader yet: every node is waiting for its election timer'
      : `No leader: election in progress (term ${maxTerm})`;
  } else {
    main = `n${leader.id} leads in term ${leader.term}`;
    const stale = staleLeaders(frame, leader);
    if (stale.length) {
      main += ` · ${stale.map((l) => `n${l.id} still thinks it leads (term ${l.term})`).join(', ')}`;
    }
  }
  const extra = [];
  if (frame.cut.length) extra.push(`${count(frame.cut.length, 'link')} cut`);
  if (down) extra.push(`${count(down, 'node')} down`);
  return { main, extra: extra.join(' · ') };
}

/** The status line in live mode: the simulation's, prefixed with what is followed. */
function liveStatusText(frame) {
  const live = page.live;
  if (!live.connected && !frame.nodes.length) {
    return { main: `Live: connecting to cluster ${live.cluster} at ${live.base.host}…`, extra: '' };
  }
  const status = statusText(frame);
  const silent = frame.nodes.filter((n) => n.unreachable).length;
  const extra = [`cluster ${live.cluster} at ${live.base.host}`];
  if (!live.connected) extra.push('event stream lost, reconnecting');
  if (frame.cut.length) extra.push(`${count(frame.cut.length, 'link')} cut`);
  if (silent) extra.push(`${count(silent, 'node')} not answering`);
  return { main: `Live · ${status.main}`, extra: extra.join(' · ') };
}

/** Shows the status of `frame`, rebuilding the line only when its words change (and leaving a
 *  notice in place while it shows, unless who leads changed). */
export function renderStatus(frame) {
  const status = page.live ? liveStatusText(frame) : statusText(frame);
  const statusEl = $('status');
  const key = `${status.main}|${status.extra}`;
  if (statusEl.dataset.key !== key && !(flashTimer && statusEl.dataset.main === status.main)) {
    statusEl.dataset.key = key;
    statusEl.dataset.main = status.main;
    const hint = document.createElement('span');
    hint.className = 'hint';
    hint.textContent = status.extra || 'click a link to cut it · click a node · ? for keys';
    statusEl.replaceChildren(status.main, hint);
  }
}
