// panels.js — the side and bottom panels: the inspector (a node's Raft state and actions, a
// message's fields, or a short explanation when nothing is selected), the services panel
// (replicas per node as bars, pending ones dashed), the event log in words and the log panel
// (one row per node, entries coloured by term, committed ones solid). Plain DOM, no framework;
// each panel rebuilds only when what it shows changed.

import { secs } from './ring.js';

/** A colour per term, cycling: the log panel's and the inspector's. */
const TERM_COLOURS = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#65a30d', '#9333ea', '#ea580c'];

/** The colour of entries written in `term`. */
export function termColour(term) {
  return TERM_COLOURS[(term - 1 + TERM_COLOURS.length) % TERM_COLOURS.length];
}

/** Escapes text for HTML. */
export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Replaces `element`'s content only when `html` differs from what it shows. A button that had
 *  the keyboard focus keeps it (the same action on the same target), so keyboard users are not
 *  thrown back to the top of the page each time a panel changes. */
function setHtml(element, html) {
  if (element.dataset.html === html) return;
  const focused = element.contains(document.activeElement) ? document.activeElement : null;
  const key = focused && focused.dataset.act
    ? ['act', 'id', 'from', 'to'].filter((k) => focused.dataset[k] !== undefined)
      .map((k) => `[data-${k}="${focused.dataset[k]}"]`).join('')
    : null;
  element.innerHTML = html;
  element.dataset.html = html;
  if (key) {
    const again = element.querySelector(`button${key}`);
    if (again) again.focus();
  }
}

/** The inspector card: the selected node or message, else what the page shows. `live`: the
 *  page follows a running cluster (live mode), which offers other actions. */
export function renderInspector(element, frame, selection, lastMessages, live = false) {
  if (selection && selection.node !== undefined) {
    const node = frame.nodes.find((n) => n.id === selection.node);
    if (node) return setHtml(element, nodeHtml(node, frame, live));
  }
  if (selection && selection.message !== undefined) {
    const message = frame.messages.find((m) => m.id === selection.message) || lastMessages.get(selection.message);
    if (message) return setHtml(element, messageHtml(message, frame));
  }
  setHtml(element, live ? liveExplainHtml(frame) : explainHtml(frame));
}

function nodeHtml(node, frame, live) {
  const running = node.role !== 'down';
  const timer = node.election_timeout_in ? `${secs(node.election_timeout_in).toFixed(1)} s` : '—';
  const rows = [
    ['term', node.term], ['voted for', node.voted_for ? `n${node.voted_for}` : '—'],
    ['leader', node.leader ? `n${node.leader}` : '—'], ['timeout in', timer],
    ['last log', node.last_log_index], ['commit', node.commit_index],
    ['applied', node.applied_index], ['snapshot', node.snapshot_index],
    ['load', `${node.load}/${node.capacity}`], ['voter', node.voter ? 'yes' : 'no'],
  ];
  if (live) rows.splice(3, 1, ['address', node.addr]);
  let peerTable = '';
  if (node.role === 'leader' && node.peers.length) {
    peerTable = `<table><tr><th>peer</th><th>next</th><th>match</th></tr>${node.peers
      .map((p) => `<tr><td>n${p.id}</td><td>${p.next_index ?? '—'}</td><td>${p.match_index}</td></tr>`)
      .join('')}</table>`;
  }
  const liveActions = `<button data-act="isolate" data-id="${node.id}" class="danger">Isolate</button>
       <button data-act="heal_links" data-id="${node.id}">Heal its links</button>
       <button data-act="client" data-id="${node.id}">Client request</button>`;
  const unreachable = node.unreachable ? `<p class="empty">Not answering: ${esc(node.unreachable)}</p>` : '';
  const actions = live ? unreachable + liveActions : running
    ? `<button data-act="crash" data-id="${node.id}" class="danger">Crash</button>
       <button data-act="time_out" data-id="${node.id}">Time out now</button>
       <button data-act="client" data-id="${node.id}">Client request</button>
       <button data-act="isolate" data-id="${node.id}">Isolate</button>
       <button data-act="remove_node" data-id="${node.id}">Remove</button>`
    : `<button data-act="restart" data-id="${node.id}" class="primary">Restart</button>`;
  // Every link of this node as a button (each direction on its own): the keyboard's and a
  // small screen's way to cut and heal what the ring's thin lines offer a mouse.
  const cut = new Set(frame.cut.map(([a, b]) => `${a}-${b}`));
  const linkButton = (from, to) => {
    const down = cut.has(`${from}-${to}`);
    return `<button data-act="toggle_link" data-from="${from}" data-to="${to}" class="link-toggle${down ? ' cut' : ''}"
      title="n${from} → n${to}: ${down ? 'cut — click to heal' : 'up — click to cut'}">n${from}→n${to}</button>`;
  };
  const peers = frame.nodes.filter((n) => n.id !== node.id);
  const links = peers.length
    ? `<div class="link-toggles" aria-label="links of n${node.id}">${peers
      .map((peer) => linkButton(node.id, peer.id) + linkButton(peer.id, node.id)).join('')}</div>`
    : '';
  return `<h2>n${node.id} <span class="pill ${node.role}">${node.role === 'down' ? (node.unreachable ? 'not answering' : 'crashed') : node.role}</span>
    <small>${frame.leader === node.id ? 'leads the cluster' : ''}</small></h2>
    <dl class="kv">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
    ${peerTable}${links}<div class="actions">${actions}</div>`;
}

function messageHtml(message, frame) {
  const sent = secs(message.sent_at);
  const due = secs(message.deliver_at);
  const onWire = frame.messages.some((m) => m.id === message.id);
  return `<h2>Message #${message.id} <small>${esc(message.kind.replace(/_/g, ' '))}</small></h2>
    <dl class="kv"><dt>from</dt><dd>n${message.from}</dd><dt>to</dt><dd>n${message.to}</dd>
    <dt>term</dt><dd>${message.term}</dd><dt>sent</dt><dd>${sent.toFixed(3)} s</dd>
    <dt>arrives</dt><dd>${due.toFixed(3)} s</dd><dt>fields</dt><dd>${esc(message.detail || '—')}</dd></dl>
    <div class="actions">${onWire ? `<button data-act="drop_message" data-id="${message.id}" class="danger">Drop it</button>` : '<span class="empty">no longer on the wire</span>'}</div>`;
}

function explainHtml(frame) {
  const leader = frame.nodes.find((n) => n.id === frame.leader);
  const now = leader
    ? `<b>n${leader.id}</b> won the election for term ${leader.term}: it now sends heartbeats (small blue dots) so the others do not time out.`
    : 'No leader yet: each node waits a random time (the orange arc), then asks the others for their vote (orange dots). A majority makes it leader.';
  return `<h2>What you are watching</h2><div class="explain">
    <p>${frame.nodes.length} servers run <b>Raft</b> (the real openraft code, compiled to WebAssembly) to agree on one log of commands.</p>
    <p>${now}</p>
    <p><b>Try it:</b> click a link to cut it, click a node to crash it, press <b>i</b> to isolate the leader or <b>?</b> for more. New to Raft? Press <b>g</b> (or <b>Tour</b>) for a guided tour.</p></div>`;
}

function liveExplainHtml(frame) {
  const leader = frame.nodes.find((n) => n.id === frame.leader);
  const now = leader
    ? `<b>n${leader.id}</b> leads in term ${leader.term}.`
    : 'No node leads right now.';
  return `<h2>Live: a running cluster</h2><div class="explain">
    <p>These ${frame.nodes.length} nodes are real <code>flotilla</code> processes speaking Raft over HTTP; every change here is one they reported on their event streams. ${now}</p>
    <p><b>Try it:</b> click a link to cut it (sent to that node's <code>/connections</code>), press <b>i</b> to isolate the leader and watch the others elect a new one, <b>p</b> to split the cluster in two, <b>h</b> to heal, <b>c</b> for a client request. Time is real: there is no pause or replay here.</p></div>`;
}

/** The services panel: a row per service, a bar segment per node holding replicas. */
export function renderServices(element, services) {
  if (!services || !services.services.length) {
    return setHtml(element, '<p class="empty">No services yet: submit one, or press <b>c</b>.</p>');
  }
  const html = services.services.map((s) => {
    const segments = Object.entries(s.placement)
      .map(([node, count]) => `<span class="bar-seg" style="width:${10 + 8 * count}px" title="${count} on n${node}">n${node}×${count}</span>`)
      .join('');
    const pending = s.pending ? `<span class="bar-seg pending" title="no room for these yet">${s.pending} pending</span>` : '';
    return `<div class="svc" data-service="${s.id}"><span class="label" title="${esc(s.label)}">${esc(s.label)}</span>
      <span class="bars">${segments}${pending}</span><span class="count">${s.running}/${s.replicas}</span></div>`;
  }).join('');
  setHtml(element, html);
}

/** How an event is shown in the log: a CSS class, or null to hide message chatter. */
function eventClass(event, showMessages) {
  switch (event.event) {
    case 'sent': case 'delivered': return showMessages ? 'message' : null;
    case 'dropped': return showMessages || event.reason !== 'link_cut' ? 'fault' : null;
    case 'role_changed':
      if (event.term === 0) return null; // every node starts a follower in term 0: not news
      return event.role === 'leader' ? 'leader' : event.role === 'candidate' ? 'candidate' : '';
    case 'election_timeout': return 'candidate';
    case 'link_cut': case 'crashed': case 'node_removed': return 'fault';
    case 'client_request': case 'client_reply': return 'client';
    default: return '';
  }
}

/** Puts a line in words for each event worth showing at the top of the event log. */
export function appendEvents(list, events, showMessages) {
  const fragment = document.createDocumentFragment();
  for (const event of events) {
    const cls = eventClass(event, showMessages);
    if (cls === null) continue;
    const item = document.createElement('li');
    const at = document.createElement('span');
    at.className = 'at';
    at.textContent = `${secs(event.at).toFixed(2)}s`;
    const what = document.createElement('span');
    what.className = cls;
    what.textContent = event.text.replace(/^\s*[\d.]+s\s+/, '').replace(/->/g, '→');
    item.append(at, what);
    fragment.prepend(item);
  }
  list.prepend(fragment);
  while (list.childElementCount > 250) list.lastElementChild.remove();
}

/** The log panel: the last `width` indices of every node's log. */
export function renderLogs(element, frame, logs) {
  if (!logs) return;
  const byId = new Map(logs);
  const last = Math.max(1, ...frame.nodes.map((n) => n.last_log_index));
  const width = Math.max(8, Math.min(60, Math.floor((element.clientWidth - 70) / 24) || 30));
  const first = Math.max(1, last - width + 1);
  const leader = frame.nodes.find((n) => n.id === frame.leader);
  const match = new Map((leader ? leader.peers : []).map((p) => [p.id, p.match_index]));
  let html = `<div class="logindex"><span class="who"></span>${range(first, last).map((i) => `<span>${i}</span>`).join('')}</div>`;
  for (const node of frame.nodes) {
    const entries = new Map((byId.get(node.id) || []).map((e) => [e.index, e]));
    const cells = range(first, last).map((index) => {
      const entry = entries.get(index);
      const marker = match.get(node.id) === index ? '<i class="match" title="leader\'s match index">▲</i>' : '';
      if (!entry) {
        if (index <= node.snapshot_index) return `<span class="entry snapped" title="#${index}: compacted into a snapshot">·</span>`;
        return `<span class="entry empty-slot">${marker}</span>`;
      }
      const committed = index <= node.commit_index;
      return `<span class="entry${committed ? '' : ' uncommitted'}" style="background:${termColour(entry.term)}" title="#${index} term ${entry.term}: ${esc(entry.summary)}${committed ? '' : ' (not committed)'}">${entry.term}${marker}</span>`;
    }).join('');
    html += `<div class="logrow" data-node="${node.id}"><span class="who"><i class="role-dot" style="background:var(--${node.role === 'down' ? 'down' : node.role})"></i>n${node.id}</span>${cells}</div>`;
  }
  setHtml(element, html);
}

function range(a, b) {
  const out = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
