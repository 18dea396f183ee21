// live.js — live mode: the page draws a running native cluster (`flotilla demo`) instead of the
// simulation. It follows the demo's event stream for one cluster (GET clusters/{id}/events:
// every node's report each time it changes, the node list, nodes it cannot reach), builds from
// it the same frame the ring draws for the simulation, words the changes for the event log, and
// sends the user's actions over HTTP: link cuts and heals to the sending node's own
// /connections (the seed's request), services to the cluster's /services. No Raft logic here:
// every fact on screen is one a node reported, in core's own report shape (the simulation's
// frames carry the same), and the rules (who leads, which links a scenario cuts) are core's,
// through the wasm module (which must be initialised before a LiveCluster is used).

import { heal_plan, isolate_plan, leader_of, split_plan } from './flotilla_web.js';

/** How often, at most, the log and services panels are fetched again while things change. */
const PANEL_REFRESH_MS = 1000;
/** Log entries per node the log panel shows. */
const LOG_TAIL = 40;

/** A {secs, nanos} duration (the shape the simulation's events carry) from seconds. */
function duration(seconds) {
  const secs = Math.floor(seconds);
  return { secs, nanos: Math.round((seconds - secs) * 1e9) };
}

/** A report's links (`{"host:port": 1 | 0}`): a report leaves the map out when it is empty. */
function connections(report) {
  return report.connections || {};
}

/** Core's rule for who leads among `nodes` (reports): the id of the one that says it leads in
 *  the highest term, or null. Only the three fields the rule reads cross into the module. */
function leaderOf(nodes) {
  const claims = nodes.map(({ id, role, term }) => ({ id, role, term }));
  return JSON.parse(leader_of(JSON.stringify(claims)));
}

/** The body of an HTTP answer as JSON, or an Error naming the problem. */
async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  if (!response.ok) throw new Error(body && body.error ? body.error : `HTTP ${response.status}`);
  return body;
}

/** Where the page keeps the API token for this tab (never in the URL, gone with the tab). */
const TOKEN_KEY = 'flotilla-token';

/** POSTs `body` as JSON to `url` with the API token if the page has one; on a 401 asks the
 *  user for the token (the server's --token) once and tries again. Resolves to the answer. */
async function postJson(url, body) {
  const send = () => {
    const headers = { 'Content-Type': 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    return fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  };
  let response = await send();
  if (response.status === 401) {
    const token = window.prompt('This cluster needs its API token (the server\'s --token) to change it:');
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token.trim());
      response = await send();
    }
  }
  return answer(response);
}

/** A report-shaped stand-in for member `id` at `addr`, which has not reported since the page
 *  connected: the field names of a node's report, with nothing known. */
function placeholderReport(id, addr, cluster) {
  return {
    id, name: '', addr, cluster, role: 'down', term: 0, voted_for: null, leader: null,
    voter: true, last_log_index: 0, commit_index: 0, applied_index: 0, snapshot_index: 0,
    election_timeout_in: null, capacity: 0, load: 0, placements: [], peers: [],
  };
}

/** One running cluster as its nodes report it. */
export class LiveCluster {
  /** Follows cluster `cluster` of the Flotilla server at `base` (a URL; the page's own
   *  server when it is the demo). `onNotice(text)` hears problems worth telling the user. */
  constructor(base, cluster, onNotice) {
    this.base = new URL(base, location.href);
    this.cluster = cluster;
    this.onNotice = onNotice;
    this.started = performance.now();
    this.members = null;
    /** The latest report of each node, by address. */
    this.reports = new Map();
    this.unreachable = new Map();
    this.pending = [];
    this.connected = false;
    this.logs = [];
    this.services = { services: [] };
    this.panelsStale = true;
    this.panelsFetching = false;
    this.panelsFetchedAt = 0;
    this.source = new EventSource(this.url(`clusters/${encodeURIComponent(cluster)}/events`));
    this.source.addEventListener('members', (e) => this.onMembers(JSON.parse(e.data)));
    this.source.addEventListener('node', (e) => this.onNode(JSON.parse(e.data)));
    this.source.addEventListener('unreachable', (e) => this.onUnreachable(JSON.parse(e.data)));
    this.source.addEventListener('open', () => {
      this.connected = true;
    });
    this.source.addEventListener('error', () => {
      if (this.connected) this.note('fault', `lost the event stream from ${this.base.host}; reconnecting`);
      this.connected = false;
    });
  }

  /** A URL on the server. */
  url(path) {
    return new URL(path, this.base);
  }

  /** Seconds since the page started following the cluster (the clock in live mode). */
  now() {
    return (performance.now() - this.started) / 1000;
  }

  /** Queues a line for the event log (`kind` picks its colour as for simulation events). */
  note(kind, text, fields = {}) {
    this.pending.push({ event: kind, text, at: duration(this.now()), ...fields });
  }

  /** The lines queued since the last call. */
  takeEvents() {
    return this.pending.splice(0);
  }

  /** `n3` for a node whose id a report gives (its own or a member list), else null. */
  idName(addr) {
    const report = this.reports.get(addr);
    if (report) return `n${report.id}`;
    for (const s of this.reports.values()) {
      const found = Object.entries(s.members || {}).find(([, member]) => member === addr);
      if (found) return `n${found[0]}`;
    }
    return null;
  }

  /** `n3` for a node whose id is known, else its address. */
  nameOf(addr) {
    return this.idName(addr) || addr;
  }

  /** `n3 (host:port)`, or the address alone when the id is not known yet. */
  fullName(addr) {
    const name = this.idName(addr);
    return name ? `${name} (${addr})` : addr;
  }

  onMembers({ nodes }) {
    if (this.members) {
      for (const addr of nodes) if (!this.members.includes(addr)) this.note('node_added', `${addr} joined the cluster`);
      for (const addr of this.members) {
        if (!nodes.includes(addr)) this.note('node_removed', `${this.fullName(addr)} left the cluster`);
      }
    } else {
      this.note('members', `following cluster ${this.cluster}: ${nodes.length} node${nodes.length === 1 ? '' : 's'}`);
    }
    this.members = nodes.slice();
    for (const addr of [...this.reports.keys()]) if (!nodes.includes(addr)) this.reports.delete(addr);
    for (const addr of [...this.unreachable.keys()]) if (!nodes.includes(addr)) this.unreachable.delete(addr);
    this.panelsStale = true;
  }

  onNode(report) {
    if (this.members && !this.members.includes(report.addr)) return;
    const before = this.reports.get(report.addr);
    this.reports.set(report.addr, report);
    const name = `n${report.id}`;
    if (this.unreachable.delete(report.addr)) this.note('recovered', `${name} answers again`);
    if (!before || before.role !== report.role || (before.term !== report.term && report.role !== 'follower')) {
      this.note('role_changed', `${name} is ${report.role} in term ${report.term}`, { role: report.role, term: report.term });
    }
    if (before) {
      const links = connections(report);
      const linksBefore = connections(before);
      for (const [peer, up] of Object.entries(links)) {
        const was = linksBefore[peer];
        if (was === undefined || was === up) continue;
        this.note(up ? 'link_healed' : 'link_cut', `${name}→${this.nameOf(peer)} link ${up ? 'healed' : 'cut'}`);
      }
      if (report.commit_index > before.commit_index && report.role === 'leader') {
        this.note('committed', `${name} committed up to ${report.commit_index}`);
      }
    }
    if (!before || before.last_log_index !== report.last_log_index || before.commit_index !== report.commit_index
      || before.load !== report.load) {
      this.panelsStale = true;
    }
  }

  onUnreachable({ addr, error }) {
    if (this.members && !this.members.includes(addr)) return;
    if (!this.unreachable.has(addr)) this.note('crashed', `${this.fullName(addr)} does not answer: ${error}`);
    this.unreachable.set(addr, error);
  }

  /** The nodes we know by id, in id order: those that reported at least once, and members
   *  that never did (down since before the page connected), whose id and address the others'
   *  membership gives: `{id, addr, report}`, `report` null for the latter. */
  known() {
    const byAddr = new Map();
    for (const s of this.reports.values()) {
      for (const [id, addr] of Object.entries(s.members || {})) {
        if (!this.members || this.members.includes(addr)) byAddr.set(addr, { id: Number(id), addr, report: null });
      }
    }
    for (const s of this.reports.values()) byAddr.set(s.addr, { id: s.id, addr: s.addr, report: s });
    return [...byAddr.values()].sort((a, b) => a.id - b.id);
  }

  /** The reports received, in id order. */
  reported() {
    return [...this.reports.values()].sort((a, b) => a.id - b.id);
  }

  /** The ids of the nodes whose links the page knows and can set (those that reported), in
   *  order: what the scenarios plan their cuts over. */
  reportedIds() {
    return this.reported().map((s) => s.id);
  }

  /** Each node as drawn: its report as it is, plus what only this page knows — `unreachable`
   *  (why it does not answer, or null; its role then shows as "down") and `unknown` for a
   *  member that has not reported since the page connected (a placeholder report). */
  nodes() {
    return this.known().map(({ id, addr, report }) => {
      if (!report) {
        return {
          ...placeholderReport(id, addr, this.cluster),
          unknown: true,
          unreachable: this.unreachable.get(addr) || 'has not reported since this page connected',
        };
      }
      const down = this.unreachable.has(addr);
      return {
        ...report,
        role: down ? 'down' : report.role,
        unreachable: down ? this.unreachable.get(addr) : null,
      };
    });
  }

  /** The id of the cluster's leader among the nodes that answer (core's rule: the one that
   *  says it leads in the highest term), or null. */
  leader() {
    return leaderOf(this.nodes());
  }

  /** The cluster in the shape the ring and the panels draw (as the simulation's frame). */
  frame() {
    const nodes = this.nodes();
    const byAddr = new Map(nodes.map((n) => [n.addr, n.id]));
    const cut = [];
    for (const s of this.reported()) {
      for (const [peer, up] of Object.entries(connections(s))) {
        if (!up && byAddr.has(peer)) cut.push([s.id, byAddr.get(peer)]);
      }
    }
    return { now: this.now(), leader: leaderOf(nodes), election_timeout_max: 1, nodes, messages: [], cut };
  }

  /** Refetches the log and services panels' data when it changed, at most once a second. */
  refreshPanels() {
    const due = performance.now() - this.panelsFetchedAt >= PANEL_REFRESH_MS;
    if (!this.panelsStale || this.panelsFetching || !due) return;
    this.panelsStale = false;
    this.panelsFetching = true;
    this.panelsFetchedAt = performance.now();
    const cluster = encodeURIComponent(this.cluster);
    Promise.all([
      fetch(this.url(`clusters/${cluster}?limit=${LOG_TAIL}`)).then(answer),
      fetch(this.url(`clusters/${cluster}/services`)).then(answer),
    ]).then(([stats, services]) => {
      this.logs = stats.nodes.filter((n) => n.log).map((n) => [n.id, n.log.entries]);
      this.services = services;
    }).catch((error) => {
      this.panelsStale = true;
      this.onNotice(`could not read the cluster: ${error.message}`);
    }).finally(() => {
      this.panelsFetching = false;
    });
  }

  /** The address of node `id`. */
  addrOf(id) {
    const node = this.known().find((k) => k.id === id);
    if (!node) throw new Error(`no node n${id}`);
    return node.addr;
  }

  /** Whether the link `from → to` is up (as `from` reports it). */
  isUp(from, to) {
    const report = this.reports.get(this.addrOf(from));
    if (!report) throw new Error(`n${from} has not reported: its links are unknown`);
    return connections(report)[this.addrOf(to)] !== 0;
  }

  /** Cuts (`up` false) or heals links: `changes` is a list of [from, to] node ids. Each
   *  sending node gets one `{"<peer>": 0 | 1, …}`, through the server the page follows
   *  (POST clusters/ID/nodes/ADDR/connections, relayed to that node's /connections). */
  async setLinks(changes, up) {
    const bySender = new Map();
    for (const [from, to] of changes) {
      const addr = this.addrOf(from);
      if (!bySender.has(addr)) bySender.set(addr, {});
      bySender.get(addr)[this.addrOf(to)] = up ? 1 : 0;
    }
    const cluster = encodeURIComponent(this.cluster);
    await Promise.all([...bySender].map(([addr, body]) => postJson(
      this.url(`clusters/${cluster}/nodes/${encodeURIComponent(addr)}/connections`), body)));
  }

  /** Cuts or heals the link `from → to`, whichever it is not. */
  toggleLink(from, to) {
    return this.setLinks([[from, to]], !this.isUp(from, to));
  }

  /** Cuts every link to and from node `id` (core's isolation plan). */
  isolate(id) {
    return this.setLinks(JSON.parse(isolate_plan(JSON.stringify(this.reportedIds()), id)), false);
  }

  /** Cuts every link to and from the leader. */
  isolateLeader() {
    const leader = this.leader();
    if (leader === null) throw new Error('no leader to isolate right now');
    return this.isolate(leader);
  }

  /** Splits the cluster in two as core's plan says (the lower half of the ids, rounded down,
   *  against the rest; the simulation splits the same way): every link between the sides is
   *  cut, both ways. */
  splitInTwo() {
    const plan = JSON.parse(split_plan(JSON.stringify(this.reportedIds())));
    return this.setLinks(plan.cut, false);
  }

  /** Heals every cut link. */
  healAll() {
    return this.setLinks(JSON.parse(heal_plan(JSON.stringify(this.frame().cut))), true);
  }

  /** Creates a service (the seed's request) through the demo's entry point. */
  submitService(label, replicas) {
    return postJson(this.url(`clusters/${encodeURIComponent(this.cluster)}/services`),
      { container: { label }, replicas }).then((created) => {
      this.panelsStale = true;
      return created;
    });
  }
}
