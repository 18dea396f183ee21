// actions.js — the action path: every click, key and tour step that changes the cluster goes
// through here. In a simulation an action is applied now and recorded with its virtual instant
// (so it lands in the URL and replays); in live mode it is sent to the running cluster over
// HTTP, and a refusal shows on the status line.

import { draw } from './draw.js';
import { OPS } from './ops.js';
import { collectEvents } from './run.js';
import { page } from './state.js';
import { flash } from './status.js';
import { writeUrl } from './url-state.js';

/** Performs a user action now and records it (dropping recorded actions still in the future,
 *  as a new branch of the run). Returns what the cluster returned, or undefined if refused. */
export function act(op, ...args) {
  const op_ = OPS[op];
  if (!op_) throw new Error(`no such action: ${op}`);
  page.actions.length = page.next;
  const t = page.cluster.now_nanos();
  let result;
  try {
    result = op_(page.cluster, args);
  } catch (error) {
    flash(String(error));
    return undefined;
  }
  page.actions.push({ t, op, args });
  page.next = page.actions.length;
  page.maxNanos = t;
  writeUrl();
  collectEvents();
  draw(true);
  return result;
}

/** The node that gets client requests: the leader, else the first running node. */
export function entryNode() {
  const frame = page.frame;
  if (frame.leader) return frame.leader;
  const running = frame.nodes.find((n) => n.role !== 'down');
  return running ? running.id : 1;
}

/** A client request: creates a small service through node `node`. */
export function clientRequest(node = entryNode()) {
  const count = page.actions.filter((a) => a.op === 'submit_service').length + 1;
  return act('submit_service', node, `job-${count}`, 1 + (count % 3));
}

/** Runs a live-mode action (a promise of an HTTP exchange); a refusal shows as a notice. */
export function liveAct(run) {
  try {
    Promise.resolve(run()).catch((error) => flash(String(error.message || error)));
  } catch (error) {
    flash(String(error.message || error));
  }
}

/** Client requests sent from this page in live mode so far (they name its services). */
let liveJobs = 0;
/** A label for the next client request sent from this page in live mode. */
function nextLiveJob() {
  liveJobs += 1;
  return `page-job-${liveJobs}`;
}

/** Sends a client request to the running cluster: a service of 3 replicas, named for this
 *  page, through the cluster's entry point. */
function sendLiveJob() {
  return page.live.submitService(nextLiveJob(), 3);
}

/** A client request in live mode (a refusal shows as a notice). */
export function liveClientRequest() {
  liveAct(sendLiveJob);
}

/** Cuts the directed link `from → to` if it is up, heals it if it is cut. */
export function toggleLink(from, to) {
  if (page.live) return liveAct(() => page.live.toggleLink(from, to));
  const cut = page.frame.cut.some(([a, b]) => a === from && b === to);
  return act(cut ? 'heal' : 'cut', from, to);
}

/** Creates the service the services form describes, through the entry node. */
export function submitService(label, replicas) {
  if (page.live) return liveAct(() => page.live.submitService(label, replicas));
  act('submit_service', entryNode(), label, replicas);
}

/** Does what an inspector button says (`data-act`, on `data-id` or a link's `data-from` and
 *  `data-to`). */
export function actFromInspector(button) {
  if (button.dataset.act === 'toggle_link') {
    toggleLink(Number(button.dataset.from), Number(button.dataset.to));
    return;
  }
  const id = Number(button.dataset.id);
  if (page.live) {
    const live = page.live;
    const run = {
      client: sendLiveJob,
      isolate: () => live.isolate(id),
      heal_links: () => live.setLinks(page.frame.cut.filter(([a, b]) => a === id || b === id), true),
    }[button.dataset.act];
    if (run) liveAct(run);
    return;
  }
  if (button.dataset.act === 'client') clientRequest(id);
  else act(button.dataset.act, id);
}
