// draw.js — draws the page from the cluster's current frame: the ring on every call, the
// slower panels (logs, services, inspector, the tour's text) when asked and every sixth call,
// then the status line, the clock and the time slider. The frame comes from the simulation or,
// in live mode, from the running cluster followed (live.js builds the same shape), so ring.js
// and panels.js draw either without knowing which.

import { recordEvents } from './event-log.js';
import { renderInspector, renderServices, renderLogs } from './panels.js';
import { page } from './state.js';
import { renderStatus } from './status.js';
import { STEPS } from './tour.js';
import { $ } from './util.js';

/** The slower panels refresh every this many frames even when nothing asks for it. */
const PANELS_EVERY = 6;

/** Draws the current state; `full` also refreshes the slower panels. */
export function draw(full = false) {
  const live = page.live;
  if (live) {
    const events = live.takeEvents();
    if (events.length) {
      recordEvents(events, false);
      full = true; // something changed: the panels say so at once
    }
    live.refreshPanels();
  }
  const frame = live ? live.frame() : JSON.parse(page.cluster.frame());
  page.frame = frame;
  page.ring.render(frame, page.selection);
  page.frames += 1;
  if (full || page.frames % PANELS_EVERY === 0) {
    renderLogs($('logs'), frame, live ? live.logs : JSON.parse(page.cluster.logs()));
    page.services = live ? live.services : JSON.parse(page.cluster.services());
    renderServices($('service-list'), page.services);
    renderInspector($('inspector'), frame, page.selection, page.messages, Boolean(live));
    if (page.tourStep !== null) renderTourText(frame);
  }
  renderStatus(frame);
  $('clock').textContent = `${frame.now.toFixed(1)} s`;
  const slider = $('time');
  if (!page.scrubbing && !live) {
    slider.max = (page.maxNanos / 1e9).toFixed(1);
    slider.value = frame.now.toFixed(1);
    $('time-out').textContent = `${frame.now.toFixed(1)} s`;
  }
}

/** The current tour step's explanation, which may describe the live state. */
function renderTourText(frame) {
  const html = STEPS[page.tourStep].text(frame);
  const text = $('tour-text');
  if (text.dataset.html !== html) {
    text.dataset.html = html;
    text.innerHTML = html;
  }
}
