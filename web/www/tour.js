// tour.js — the guided tour: four steps (election, replication, a partition with two leaders
// and an uncommitted minority write, healing), each a short explanation over the real
// simulation. A step starts from a fresh run of a fixed seed, fast-forwards to its starting
// point and performs its actions through the page's normal action path, so it plays the same way
// every time, replays with "Again", and lands in the URL like anything a user does.
//
// Steps only use the `stage` interface tour-player.js hands them (fresh run, run until, act):
// no Raft or placement logic lives here.

/** The seed every step starts from: its runs are known to show each step's point well. */
export const TOUR_SEED = 7;

/** How long (virtual seconds) a step may fast-forward looking for its starting point. */
const SEARCH_LIMIT = 120;

const leaderOf = (frame) => frame.nodes.find((n) => n.id === frame.leader && n.role === 'leader');

/** Fresh run, fast-forwarded until a leader is established, every node follows it and every
 *  log is committed up to the same entry. */
function settled(stage) {
  stage.fresh(TOUR_SEED);
  return stage.runUntil((f) => {
    const leader = leaderOf(f);
    return leader && leader.commit_index > 0
      && f.nodes.every((n) => n.leader === leader.id && n.commit_index === leader.commit_index
        && n.last_log_index === leader.commit_index);
  }, SEARCH_LIMIT);
}

/** Isolates the settled leader and at once sends it a write (accepted while its lease holds,
 *  never committable), then lets the others elect a new leader. Returns the old leader's id. */
function partitioned(stage) {
  const frame = settled(stage);
  const old = frame.leader;
  stage.act('isolate_leader');
  stage.act('submit_service', old, 'minority', 2);
  stage.runUntil((f) => f.nodes.some((n) => n.id !== old && n.role === 'leader'), SEARCH_LIMIT);
  stage.runFor(3);
  return old;
}

/** The steps, in order. `text(frame)` may describe the live state; `start(stage)` sets it up. */
export const STEPS = [
  {
    title: 'Election',
    start(stage) {
      stage.fresh(TOUR_SEED);
    },
    text: () => `<p>Five servers start as <b>followers</b> in term 0, each with an election timer
      (the orange arc around it) set to a different random length.</p>
      <p>The first timer to run out turns its node into a <b>candidate</b>: it moves to the next
      term, votes for itself and asks the others for their vote (orange dots). Each node gives one
      vote per term. With a majority (3 of 5) the candidate becomes <b>leader</b> and sends
      heartbeats (blue dots) that reset everyone's timer, so no one else stands.</p>`,
  },
  {
    title: 'Replication',
    start(stage) {
      const frame = settled(stage);
      stage.act('submit_service', frame.leader, 'web', 4);
    },
    text: () => `<p>A client asked the leader to run a service of 4 replicas. The leader appends
      the command to its <b>log</b> (the panel below) and sends it to the followers in append
      messages (blue squares).</p>
      <p>Once a majority has stored the entry it is <b>committed</b> (solid in the log panel; faded
      means not yet), every node applies it, and the replicated state machine places the replicas
      on the least loaded nodes: the bars in the Services panel.</p>`,
  },
  {
    title: 'Partition',
    start(stage) {
      partitioned(stage);
    },
    text: (frame) => {
      const leader = leaderOf(frame);
      const old = frame.nodes.find((n) => n.role === 'leader' && n !== leader);
      const who = leader && old
        ? `<b>n${old.id}</b> (term ${old.term}) and <b>n${leader.id}</b> (term ${leader.term}) both say they lead.`
        : 'Watch the status line: two nodes will say they lead.';
      return `<p>The leader's links were cut. The others stopped hearing heartbeats, elected a
        new leader in a <b>higher term</b>, and go on committing. ${who}</p>
        <p>Right after the cut a client wrote to the old leader. It appended the entry, but cannot
        reach a majority: the entry stays <b>uncommitted</b> (faded in its log row) and the client
        gets no answer. Once its <b>lease</b> runs out (no majority heard from for an election
        timeout) it refuses new writes altogether. No acknowledged write is lost, and the cluster's
        answer is the leader of the highest term.</p>`;
    },
  },
  {
    title: 'Healing',
    start(stage) {
      partitioned(stage);
      stage.act('heal_all');
    },
    text: () => `<p>The links are back. The old leader hears a <b>higher term</b> and steps down to
      follower at once. The new leader's log wins: the old leader's uncommitted entry is
      overwritten by what the majority committed, and every log row converges.</p>
      <p>The client's request now fails ("log entry discarded on leader change"). It was never
      acknowledged, so nothing promised is lost; a client that retries must make the retry safe
      to apply twice, since it cannot know whether such an entry committed.</p>
      <p>That is Raft's promise: at most one leader per term, and a committed entry is never
      lost. Now break it yourself: click links, crash nodes, press <b>?</b> for scenarios.</p>`,
  },
];
