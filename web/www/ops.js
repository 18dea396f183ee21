// ops.js — the vocabulary of actions: every action a user (or a tour step) can take on a
// simulated cluster, by name, and how to apply it. The URL records actions by these names, and
// both the action path (actions.js) and replay (run.js) apply them through this table, so an
// action replays exactly as it was first taken.

/** Every action a user can take, by name: how to replay it on a cluster. */
export const OPS = {
  cut: (c, [a, b]) => c.cut(a, b),
  heal: (c, [a, b]) => c.heal(a, b),
  isolate: (c, [id]) => c.isolate(id),
  isolate_leader: (c) => c.isolate_leader(),
  split_in_two: (c) => c.split_in_two(),
  heal_all: (c) => c.heal_all(),
  crash: (c, [id]) => c.crash(id),
  restart: (c, [id]) => c.restart(id),
  restart_leader: (c) => c.restart_leader(),
  time_out: (c, [id]) => c.time_out(id),
  spread_timers: (c) => c.spread_timers(),
  align_timers: (c) => c.align_timers(),
  submit_service: (c, [node, label, replicas]) => c.submit_service(node, String(label), replicas),
  scale_service: (c, [node, id, replicas]) => c.scale_service(node, id, replicas),
  delete_service: (c, [node, id]) => c.delete_service(node, id),
  add_node: (c, [capacity]) => c.add_node(capacity),
  remove_node: (c, [id]) => c.remove_node(id),
  drop_message: (c, [id]) => c.drop_message(id),
  set_drop_rate: (c, [rate]) => c.set_drop_rate(rate),
};
