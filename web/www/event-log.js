// event-log.js — the run's events as lines: every line kept for the test hook (and for
// comparing with `cargo xtask sim --trace`), and the ones worth reading shown in words in the
// "What happened" list. Simulation and live mode both feed it.

import { appendEvents } from './panels.js';
import { page } from './state.js';
import { $ } from './util.js';

/** The most event lines kept: a long run must not grow the page's memory without bound. */
const MAX_LINES = 50000;

/** Records `events` (each with its `text`) and shows them at the top of the event log;
 *  `showMessages` also shows the message chatter (sends and deliveries). */
export function recordEvents(events, showMessages) {
  for (const event of events) if (page.lines.length < MAX_LINES) page.lines.push(event.text);
  appendEvents($('events'), events, showMessages);
}

/** Forgets every line: a new run starts its log over. */
export function clearEventLog() {
  page.lines = [];
  $('events').replaceChildren();
}
