// live.js — live mode: the page draws a running native cluster (`flotilla demo`) instead of the
// simulation. It follows the demo's event stream for one cluster (GET clusters/{id}/events:
// every node's summary each time it changes, the node list, nodes it cannot reach), builds from
// it the same frame the ring draws for the simulation, words the changes for the event log, and
// sends the user's actions over HTTP: link cuts and heals to the sending node's own
// /connections (the seed's request), services to the cluster's /services. No Raft logic here:
// every fact on screen is one a node reported.

/** How often, at most, the log and services panels are fetched again while things change. */
const PANEL_REFRESH_MS = 1000;
/** Log entries per node the log panel shows. */
const LOG_TAIL = 40;

/** A {secs, nanos} duration (the shape the simulation's events carry) from seconds. */
function duration(seconds) {
  const secs = Math.floor(seconds);
  return { secs, nanos: Math.round((seconds - secs) * 1e9) };
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
    this.summaries = new Map();
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

  /** `n3` for a node whose id a summary gives (its own or a member list), else null. */
  idName(addr) {
    const summary = this.summaries.get(addr);
    if (summary) return `n${summary.id}`;
    for (const s of this.summaries.values()) {
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
    for (const addr of [...this.summaries.keys()]) if (!nodes.includes(addr)) this.summaries.delete(addr);
    for (const addr of [...this.unreachable.keys()]) if (!nodes.includes(addr)) this.unreachable.delete(addr);
    this.panelsStale = true;
  }

  onNode(summary) {
    if (this.members && !this.members.includes(summary.addr)) return;
    const before = this.summaries.get(summary.addr);
    this.summaries.set(summary.addr, summary);
    const name = `n${summary.id}`;
    if (this.unreachable.delete(summary.addr)) this.note('recovered', `${name} answers again`);
    if (!before || before.role !== summary.role || (before.term !== summary.term && summary.role !== 'follower')) {
      this.note('role_changed', `${name} is ${summary.role} in term ${summary.term}`, { role: summary.role, term: summary.term });
    }
    if (before) {
      for (const [peer, up] of Object.entries(summary.connections)) {
        const was = before.connections[peer];
        if (was === undefined || was === up) continue;
        this.note(up ? 'link_healed' : 'link_cut', `${name}→${this.nameOf(peer)} link ${up ? 'healed' : 'cut'}`);
      }
      if (summary.commit_index > before.commit_index && summary.role === 'leader') {
        this.note('committed', `${name} committed up to ${summary.commit_index}`);
      }
    }
    if (!before || before.last_log_index !== summary.last_log_index || before.commit_index !== summary.commit_index
      || before.load !== summary.load) {
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
   *  membership gives: `{id, addr, summary}`, `summary` null for the latter. */
  known() {
    const byAddr = new Map();
    for (const s of this.summaries.values()) {
      for (const [id, addr] of Object.entries(s.members || {})) {
        if (!this.members || this.members.includes(addr)) byAddr.set(addr, { id: Number(id), addr, summary: null });
      }
    }
    for (const s of this.summaries.values()) byAddr.set(s.addr, { id: s.id, addr: s.addr, summary: s });
    return [...byAddr.values()].sort((a, b) => a.id - b.id);
  }

  /** The summaries received, in id order. */
  reported() {
    return [...this.summaries.values()].sort((a, b) => a.id - b.id);
  }

  /** The leader of the highest term among the nodes that answer, if any. */
  leader() {
    const leaders = this.reported().filter((s) => s.role === 'leader' && !this.unreachable.has(s.addr));
    leaders.sort((a, b) => b.term - a.term);
    return leaders.length ? leaders[0] : null;
  }

  /** The cluster in the shape the ring and the panels draw (as the simulation's frame). */
  frame() {
    const known = this.known();
    const byAddr = new Map(known.map((k) => [k.addr, k.id]));
    const leader = this.leader();
    const nodes = known.map(({ id, addr, summary }) => {
      if (!summary) {
        return {
          id, addr, role: 'down', term: 0, voted_for: null, leader: null, election_timeout_in: null,
          last_log_index: 0, commit_index: 0, applied_index: 0, snapshot_index: 0, load: 0,
          capacity: 0, voter: true, peers: [], unknown: true,
          unreachable: this.unreachable.get(addr) || 'has not reported since this page connected',
        };
      }
      const s = summary;
      const down = this.unreachable.has(s.addr);
      const replication = s.replication || {};
      return {
        id: s.id,
        addr: s.addr,
        role: down ? 'down' : s.role,
        term: s.term,
        voted_for: s.voted_for,
        leader: s.leader ? s.leader.id : null,
        election_timeout_in: null,
        last_log_index: s.last_log_index,
        commit_index: s.commit_index,
        applied_index: s.last_applied,
        snapshot_index: s.snapshot_index,
        load: s.load,
        capacity: s.capacity,
        voter: s.role !== 'learner',
        unreachable: down ? this.unreachable.get(s.addr) : null,
        peers: Object.entries(replication)
          .filter(([id]) => Number(id) !== s.id)
          .map(([id, match]) => ({ id: Number(id), next_index: null, match_index: match })),
      };
    });
    const cut = [];
    for (const s of this.reported()) {
      for (const [peer, up] of Object.entries(s.connections)) {
        if (!up && byAddr.has(peer)) cut.push([s.id, byAddr.get(peer)]);
      }
    }
    return { now: this.now(), leader: leader ? leader.id : null, election_timeout_max: 1, nodes, messages: [], cut };
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
    const summary = this.summaries.get(this.addrOf(from));
    if (!summary) throw new Error(`n${from} has not reported: its links are unknown`);
    return summary.connections[this.addrOf(to)] !== 0;
  }

  /** Cuts (`up` false) or heals links: `changes` is a list of [from, to] node ids. Each
   *  sending node gets one POST /connections with `{"<peer>": 0 | 1, …}`. */
  async setLinks(changes, up) {
    const bySender = new Map();
    for (const [from, to] of changes) {
      const addr = this.addrOf(from);
      if (!bySender.has(addr)) bySender.set(addr, {});
      bySender.get(addr)[this.addrOf(to)] = up ? 1 : 0;
    }
    await Promise.all([...bySender].map(([addr, body]) => fetch(`http://${addr}/connections`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).then(answer)));
  }

  /** Cuts or heals the link `from → to`, whichever it is not. */
  toggleLink(from, to) {
    return this.setLinks([[from, to]], !this.isUp(from, to));
  }

  /** Cuts every link to and from node `id`. */
  isolate(id) {
    const others = this.reported().filter((s) => s.id !== id).map((s) => s.id);
    return this.setLinks(others.flatMap((other) => [[id, other], [other, id]]), false);
  }

  /** Cuts every link between the lower half of the nodes (by id) and the upper half, both
   *  ways: two sides that cannot hear each other. */
  splitInTwo() {
    const ids = this.reported().map((s) => s.id);
    const lower = ids.slice(0, Math.ceil(ids.length / 2));
    const upper = ids.slice(lower.length);
    return this.setLinks(lower.flatMap((a) => upper.flatMap((b) => [[a, b], [b, a]])), false);
  }

  /** Heals every cut link. */
  healAll() {
    return this.setLinks(this.frame().cut, true);
  }

  /** Creates a service (the seed's request) through the demo's entry point. */
  submitService(label, replicas) {
    return fetch(this.url(`clusters/${encodeURIComponent(this.cluster)}/services`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ container: { label }, replicas }),
    }).then(answer).then((created) => {
      this.panelsStale = true;
      return created;
    });
  }
}
