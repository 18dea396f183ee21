// ring.js — draws the cluster as an SVG ring: nodes (role by colour and label, term, vote,
// election-timer arc, load against capacity), a line per directed link (cut ones red and
// dashed), messages in flight moving along their link, and a mark where a message was lost.
// The links live in a second SVG under the first, drawn as two paths (healthy, cut) only when
// the cut set changes: at 51 nodes there are 2,550 of them, and redrawing them every frame would
// cost more than everything else together. Clicks and hovers find a link by geometry (the
// nearest line to the pointer) instead of an element per link. Nodes and messages are created
// once and updated in place each frame. It only draws and reports clicks; app.js connects a
// click to what it does.

const NS = 'http://www.w3.org/2000/svg';
const W = 680;
const H = 580;
const CX = W / 2;
const CY = 292;
/** Below this width (CSS pixels) the ring is drawn tighter, so labels stay on screen. */
const NARROW = 600;

/** Creates an SVG element with attributes. */
function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

/** Sets a text node's content only when it changed (cheap per frame). */
function text(node, value) {
  if (node.textContent !== value) node.textContent = value;
}

/** Seconds from a serialised Rust Duration ({secs, nanos}). */
export function secs(duration) {
  return duration ? duration.secs + duration.nanos / 1e9 : 0;
}

/** Message size by kind: appends stand out, heartbeats are small. */
const RADIUS = {
  append: 7, heartbeat: 5, snapshot: 8, vote_request: 7, pre_vote_request: 6,
  vote_response: 6, append_response: 5, snapshot_response: 6, forward: 6, forward_response: 5,
};

/** The SVG view of the cluster. */
export class Ring {
  /** `svg` is the <svg> element drawn every frame, `linkSvg` the one under it holding the
   *  links; `on` has onNode(id), onLink(from, to), onMessage(id). */
  constructor(svg, linkSvg, on) {
    this.svg = svg;
    this.on = on;
    for (const layer of [svg, linkSvg]) layer.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.healthyPath = el('path', { class: 'link' }, linkSvg);
    this.cutPath = el('path', { class: 'link cut' }, linkSvg);
    this.cutMarks = el('g', { class: 'cut-marks' }, linkSvg);
    this.hover = el('line', { class: 'link-hover', display: 'none' }, svg);
    this.hoverTitle = el('title', {}, this.hover);
    this.hovered = null;
    this.messageLayer = el('g', { class: 'messages' }, svg);
    this.nodeLayer = el('g', { class: 'nodes' }, svg);
    this.lostLayer = el('g', { class: 'lost-marks' }, svg);
    this.layoutKey = '';
    // The drawing's width, kept by an observer so frames never force a layout to read it.
    this.width = svg.clientWidth;
    new ResizeObserver(() => {
      this.width = svg.clientWidth;
    }).observe(svg);
    this.pos = new Map();
    this.nodes = new Map();
    this.links = new Map();
    this.messages = new Map();
    this.cut = new Set();
    this.cutKey = null;
    svg.addEventListener('click', (event) => {
      const link = this.linkAt(event.clientX, event.clientY);
      if (link) this.on.onLink(link.from, link.to);
    });
    svg.addEventListener('mousemove', (event) => this.hoverLink(this.linkAt(event.clientX, event.clientY)));
    svg.addEventListener('mouseleave', () => this.hoverLink(null));
  }

  /** Places `ids` on the ring (first at the top, clockwise) and builds their elements. */
  layout(ids) {
    // On a narrow screen the drawing fills the width, so the facts beside the side nodes must
    // fit inside the view box: a tighter ring leaves them room.
    const narrow = this.width > 0 && this.width < NARROW;
    const key = `${ids.join(',')}|${narrow}`;
    if (key === this.layoutKey) return;
    this.layoutKey = key;
    const n = ids.length;
    this.r = n <= 7 ? (narrow ? 30 : 34) : n <= 12 ? (narrow ? 22 : 26) : Math.max(6, Math.min(18, (0.34 * 2 * Math.PI * 215) / n));
    this.ringR = n <= 12 && narrow ? 130 : n <= 7 ? 200 : 215;
    this.narrow = narrow;
    this.offset = n <= 12 ? 4 : 1.2;
    this.detailed = n <= 12;
    this.pos.clear();
    ids.forEach((id, k) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * k) / n;
      this.pos.set(id, { x: CX + this.ringR * Math.cos(angle), y: CY + this.ringR * Math.sin(angle), angle });
    });
    for (const layer of [this.messageLayer, this.nodeLayer, this.lostLayer]) layer.replaceChildren();
    this.nodes.clear();
    this.links.clear();
    this.messages.clear();
    this.cutKey = null;
    this.hoverLink(null);
    for (const from of ids) {
      for (const to of ids) {
        if (from !== to) this.links.set(`${from}-${to}`, { from, to, e: this.ends(from, to) });
      }
    }
    for (const id of ids) this.buildNode(id);
  }

  /** The start and end of the line carrying `from → to`: edge to edge, shifted to the right of
   *  the direction of travel so the two directions of a pair are two parallel lines. */
  ends(from, to) {
    const a = this.pos.get(from);
    const b = this.pos.get(to);
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    const ux = dx / len;
    const uy = dy / len;
    const px = -uy * this.offset;
    const py = ux * this.offset;
    const gap = this.r + 2;
    return {
      x1: a.x + ux * gap + px, y1: a.y + uy * gap + py,
      x2: b.x - ux * gap + px, y2: b.y - uy * gap + py,
    };
  }

  /** The directed link nearest to client point (`clientX`, `clientY`), if one is within reach
   *  of the pointer: `{from, to, e}`, or null. */
  linkAt(clientX, clientY) {
    const matrix = this.svg.getScreenCTM();
    if (!matrix || !this.links.size) return null;
    const p = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    // Within reach: a few screen pixels (a finger on a phone needs them), whatever the zoom.
    const pixel = 1 / (Math.hypot(matrix.a, matrix.b) || 1);
    let best = null;
    let bestDistance = this.detailed ? Math.max(6, 10 * pixel) : Math.max(3, 6 * pixel);
    for (const link of this.links.values()) {
      const distance = segmentDistance(p.x, p.y, link.e);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = link;
      }
    }
    return best;
  }

  /** The client coordinates of the point `fraction` of the way along link `from → to` (what a
   *  pointer must touch to click it), or null when there is no such link. */
  clientPoint(from, to, fraction = 0.4) {
    const link = this.links.get(`${from}-${to}`);
    const matrix = this.svg.getScreenCTM();
    if (!link || !matrix) return null;
    const { x1, y1, x2, y2 } = link.e;
    const p = new DOMPoint(x1 + (x2 - x1) * fraction, y1 + (y2 - y1) * fraction).matrixTransform(matrix);
    return { x: p.x, y: p.y };
  }

  /** Highlights `link` under the pointer (or nothing), with a tooltip saying what a click does. */
  hoverLink(link) {
    if (link === this.hovered) return;
    this.hovered = link;
    if (!link) {
      this.hover.setAttribute('display', 'none');
      return;
    }
    const { x1, y1, x2, y2 } = link.e;
    for (const [name, value] of Object.entries({ x1, y1, x2, y2 })) this.hover.setAttribute(name, value.toFixed(1));
    this.hover.setAttribute('display', 'inline');
    this.hoverTitle.textContent = this.linkTitle(link);
  }

  linkTitle(link) {
    const down = this.cut.has(`${link.from}-${link.to}`);
    return `n${link.from} → n${link.to}: ${down ? 'cut — click to heal' : 'click to cut'}`;
  }

  buildNode(id) {
    const p = this.pos.get(id);
    const r = this.r;
    const group = el('g', { class: 'node follower', 'data-node': id, tabindex: 0, role: 'button' }, this.nodeLayer);
    group.setAttribute('aria-label', `node n${id}`);
    const arc = this.detailed ? r + 6 : r + 2.5;
    const track = el('circle', { class: 'timer-track', cx: p.x, cy: p.y, r: arc }, group);
    const timer = el('circle', {
      class: 'timer', cx: p.x, cy: p.y, r: arc, transform: `rotate(-90 ${p.x} ${p.y})`,
    }, group);
    if (!this.detailed) {
      track.setAttribute('stroke-width', 2);
      timer.setAttribute('stroke-width', 2);
    }
    const body = el('circle', { class: 'body', cx: p.x, cy: p.y, r }, group);
    const name = el('text', { class: 'name', x: p.x, y: this.detailed ? p.y + 2 : p.y + r * 0.35 }, group);
    name.textContent = this.detailed ? `n${id}` : String(id);
    if (!this.detailed) name.setAttribute('style', `font-size:${(r * 0.95).toFixed(1)}px`);
    const role = el('text', { class: 'role', x: p.x, y: p.y + 16 }, group);
    const circumference = 2 * Math.PI * arc;
    const node = { group, track, timer, body, role, name, circumference, className: '' };
    if (this.detailed) {
      // Facts outside the ring: above the top nodes, below the bottom ones, beside the others.
      const cos = Math.cos(p.angle);
      const sin = Math.sin(p.angle);
      let anchor = 'middle';
      let ix = p.x;
      let iy;
      if (Math.abs(cos) < 0.35) {
        iy = sin < 0 ? p.y - r - 42 : p.y + r + 24;
      } else {
        anchor = cos > 0 ? 'start' : 'end';
        ix = p.x + (cos > 0 ? 1 : -1) * (r + 16);
        iy = p.y + sin * (r + 10) - 12;
      }
      const barX = anchor === 'start' ? ix : anchor === 'end' ? ix - 64 : ix - 32;
      // Narrow: one larger line (the term and vote) over the load bar; the indexes are in the
      // log panel and the inspector.
      node.info = el('text', { class: this.narrow ? 'info big' : 'info', x: ix, y: iy, 'text-anchor': anchor }, group);
      if (!this.narrow) node.sub = el('text', { class: 'info sub', x: ix, y: iy + 16, 'text-anchor': anchor }, group);
      const barY = this.narrow ? iy + 8 : iy + 23;
      el('rect', { class: 'load-track', x: barX, y: barY, width: 64, height: 7, rx: 3 }, group);
      node.load = el('rect', { class: 'load', x: barX, y: barY, width: 0, height: 7, rx: 3 }, group);
    } else {
      role.setAttribute('display', 'none');
    }
    group.addEventListener('click', (event) => {
      event.stopPropagation();
      this.on.onNode(id);
    });
    group.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.on.onNode(id);
    });
    this.nodes.set(id, node);
  }

  /** Draws one frame (`frame` as Cluster.frame() returns it, parsed). */
  render(frame, selection) {
    this.layout(frame.nodes.map((node) => node.id));
    this.renderLinks(frame.cut);
    const maxTimeout = frame.election_timeout_max || 1;
    for (const snapshot of frame.nodes) {
      const node = this.nodes.get(snapshot.id);
      const selected = selection && selection.node === snapshot.id ? ' selected' : '';
      const className = `node ${snapshot.role}${selected}`;
      if (node.className !== className) {
        node.group.setAttribute('class', className);
        node.className = className;
      }
      text(node.role, snapshot.role === 'down' ? (snapshot.unreachable ? 'silent' : 'crashed') : snapshot.role);
      const left = snapshot.election_timeout_in ? secs(snapshot.election_timeout_in) : null;
      const fraction = left === null ? 0 : Math.max(0, Math.min(1, left / maxTimeout));
      node.timer.setAttribute('stroke-dasharray', `${(node.circumference * fraction).toFixed(1)} ${node.circumference.toFixed(1)}`);
      // No timer (a leader, a crashed node, live mode): no arc, not even its round cap's dot.
      const shown = left === null ? 'none' : 'inline';
      if (node.timerShown !== shown) {
        node.track.setAttribute('display', shown);
        node.timer.setAttribute('display', shown);
        node.timerShown = shown;
      }
      if (node.info && snapshot.unknown) {
        // Live mode: a member that has not reported since the page connected.
        text(node.info, 'no report');
        if (node.sub) text(node.sub, snapshot.addr);
        node.load.setAttribute('width', 0);
      } else if (node.info) {
        const vote = snapshot.voted_for ? ` · voted n${snapshot.voted_for}` : '';
        text(node.info, `term ${snapshot.term}${vote}`);
        if (node.sub) text(node.sub, `log ${snapshot.last_log_index} · commit ${snapshot.commit_index} · load ${snapshot.load}/${snapshot.capacity}`);
        const load = snapshot.capacity ? Math.min(1, snapshot.load / snapshot.capacity) : 0;
        node.load.setAttribute('width', (64 * load).toFixed(1));
        node.load.setAttribute('class', load >= 1 ? 'load full' : 'load');
      }
    }
    this.renderMessages(frame, selection);
  }

  /** Redraws the links when the set of cut ones changed: one path for the healthy links, one
   *  for the cut ones, and (when nodes are large enough) a cross near the sender of each cut. */
  renderLinks(cut) {
    const key = cut.map(([a, b]) => `${a}-${b}`).sort().join(',');
    if (key === this.cutKey) return;
    this.cutKey = key;
    this.cut = new Set(cut.map(([a, b]) => `${a}-${b}`));
    const healthy = [];
    const down = [];
    const marks = [];
    for (const [name, link] of this.links) {
      const { x1, y1, x2, y2 } = link.e;
      const segment = `M${x1.toFixed(1)} ${y1.toFixed(1)}L${x2.toFixed(1)} ${y2.toFixed(1)}`;
      if (!this.cut.has(name)) {
        healthy.push(segment);
        continue;
      }
      down.push(segment);
      if (this.detailed) {
        // A cross a third of the way from the sender: which direction is cut, at a glance.
        const mark = el('text', {
          class: 'cut-mark', x: x1 + (x2 - x1) * 0.3, y: y1 + (y2 - y1) * 0.3,
          'text-anchor': 'middle', 'dominant-baseline': 'central',
        });
        mark.textContent = '✕';
        marks.push(mark);
      }
    }
    this.healthyPath.setAttribute('d', healthy.join(''));
    this.healthyPath.setAttribute('class', this.detailed ? 'link' : 'link faint');
    this.cutPath.setAttribute('d', down.join(''));
    this.cutMarks.replaceChildren(...marks);
    if (this.hovered) this.hoverTitle.textContent = this.linkTitle(this.hovered);
  }

  renderMessages(frame, selection) {
    const seen = new Set();
    for (const message of frame.messages) {
      const link = this.links.get(`${message.from}-${message.to}`);
      if (!link) continue;
      seen.add(message.id);
      let shape = this.messages.get(message.id);
      if (!shape) {
        let cls = `message ${message.kind}`;
        if (message.kind === 'vote_response') cls += message.detail === 'granted' ? ' granted' : ' refused';
        const r = (RADIUS[message.kind] || 6) * (this.detailed ? 1 : 0.6);
        shape = message.kind === 'append' || message.kind === 'snapshot'
          ? el('rect', { width: 2 * r, height: 2 * r, rx: 2, class: cls, 'data-message': message.id }, this.messageLayer)
          : el('circle', { r, class: cls, 'data-message': message.id }, this.messageLayer);
        shape.r0 = r;
        shape.cls = cls;
        const id = message.id;
        shape.addEventListener('click', (event) => {
          event.stopPropagation();
          this.on.onMessage(id);
        });
        const title = el('title', {}, shape);
        title.textContent = `${message.kind.replace(/_/g, ' ')} n${message.from} → n${message.to}, term ${message.term}${message.detail ? ', ' + message.detail : ''}`;
        this.messages.set(message.id, shape);
      }
      const sent = secs(message.sent_at);
      const due = secs(message.deliver_at);
      const f = due > sent ? Math.max(0, Math.min(1, (frame.now - sent) / (due - sent))) : 1;
      const e = link.e;
      const x = e.x1 + (e.x2 - e.x1) * f;
      const y = e.y1 + (e.y2 - e.y1) * f;
      shape.at = { x, y };
      if (shape.tagName === 'rect') {
        shape.setAttribute('x', (x - shape.r0).toFixed(1));
        shape.setAttribute('y', (y - shape.r0).toFixed(1));
      } else {
        shape.setAttribute('cx', x.toFixed(1));
        shape.setAttribute('cy', y.toFixed(1));
      }
      const selected = selection && selection.message === message.id;
      const cls = selected ? `${shape.cls} selected` : shape.cls;
      if (shape.getAttribute('class') !== cls) shape.setAttribute('class', cls);
    }
    for (const [id, shape] of this.messages) {
      if (!seen.has(id)) {
        shape.remove();
        this.messages.delete(id);
      }
    }
  }

  /** Marks where message `id` (still drawn from the last frame) was lost, for a moment. */
  lost(id, from, to) {
    const shape = this.messages.get(id);
    const link = this.links.get(`${from}-${to}`);
    const at = shape && shape.at ? shape.at : link ? { x: link.e.x2, y: link.e.y2 } : null;
    if (!at || this.lostLayer.childElementCount > 60) return;
    const mark = el('text', { class: 'lost', x: at.x.toFixed(1), y: at.y.toFixed(1) }, this.lostLayer);
    mark.textContent = '✕';
    const started = performance.now();
    const fade = (now) => {
      const t = (now - started) / 1200;
      if (t >= 1) {
        mark.remove();
        return;
      }
      mark.setAttribute('opacity', (1 - t).toFixed(2));
      mark.setAttribute('y', (at.y + 14 * t).toFixed(1));
      requestAnimationFrame(fade);
    };
    requestAnimationFrame(fade);
  }
}

/** The distance from point (`x`, `y`) to the segment `e` ({x1, y1, x2, y2}). */
function segmentDistance(x, y, e) {
  const dx = e.x2 - e.x1;
  const dy = e.y2 - e.y1;
  const length2 = dx * dx + dy * dy;
  const t = length2 ? Math.max(0, Math.min(1, ((x - e.x1) * dx + (y - e.y1) * dy) / length2)) : 0;
  return Math.hypot(x - (e.x1 + t * dx), y - (e.y1 + t * dy));
}
