// run.js — the simulated run: a fresh cluster for the settings, advanced through virtual time
// with the recorded actions applied at their instants (which is how a URL or the time slider
// replays a run), and its new events taken into the event log.

import { Cluster } from './flotilla_web.js';
import { clearEventLog, recordEvents } from './event-log.js';
import { OPS } from './ops.js';
import { page } from './state.js';
import { flash } from './status.js';
import { $ } from './util.js';

/** Node capacity on the page: small, so a few replicas visibly fill a node. */
export const CAPACITY = 10;

/** The most sent messages remembered for the inspector before the memory starts over. */
const MAX_MESSAGES = 2000;

/** A fresh cluster for the current settings; the event log starts over. */
export function build() {
  if (page.cluster) page.cluster.free();
  const { seed, nodes, pace } = page.settings;
  page.cluster = new Cluster(seed, nodes, JSON.stringify({ pace, capacity: CAPACITY }));
  page.next = 0;
  page.messages.clear();
  clearEventLog();
  collectEvents();
}

/** Takes the cluster's new events into the event log and the lost-message marks. */
export function collectEvents() {
  const events = JSON.parse(page.cluster.take_events());
  if (!events.length) return;
  for (const event of events) {
    if (event.event === 'sent') page.messages.set(event.message.id, event.message);
    if (event.event === 'dropped' && !page.replaying) page.ring.lost(event.message, event.from, event.to);
  }
  if (page.messages.size > MAX_MESSAGES) page.messages.clear();
  recordEvents(events, $('show-messages').checked);
}

/** Runs to virtual instant `nanos`, applying the recorded actions that fall before it. */
export function advanceTo(nanos) {
  while (page.next < page.actions.length && page.actions[page.next].t <= nanos) {
    const action = page.actions[page.next++];
    page.cluster.advance_to_nanos(action.t);
    collectEvents();
    try {
      OPS[action.op](page.cluster, action.args);
    } catch (error) {
      flash(`replayed action ${action.op} refused: ${error}`);
    }
    collectEvents();
  }
  page.cluster.advance_to_nanos(nanos);
  page.maxNanos = Math.max(page.maxNanos, page.cluster.now_nanos());
  collectEvents();
}
