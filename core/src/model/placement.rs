//! The placement algorithm: which node gets the next replica, and which loses one.
//!
//! Rule: each replica goes to the eligible node (free capacity left) whose fill ratio
//! `load / capacity` is lowest, ties to the lowest node id; a replica that fits nowhere stays
//! pending. Scaling down removes replicas from the fullest node first (ties: highest id).
//! Ratios are compared exactly, by cross-multiplying in `u64` (a load never exceeds its
//! capacity, a `u32`, so the products cannot overflow): floats could round differently on
//! different hosts, and every Raft member must reach the same placement.
//!
//! Both directions go replica by replica through a binary heap keyed by (ratio, id): this is
//! exactly the greedy rule, and costs O(nodes) to build plus O(log nodes) per replica. This
//! module only does arithmetic on loads; which nodes are eligible is the caller's business.

use std::cmp::{Ordering, Reverse};
use std::collections::binary_heap::PeekMut;
use std::collections::{BTreeMap, BinaryHeap};

use super::node::NodeId;

/// A node's position in placement order: its fill ratio, then its id.
#[derive(Clone, Copy, Debug)]
struct Fill {
    load: u32,
    capacity: u32,
    id: NodeId,
}

impl Ord for Fill {
    fn cmp(&self, other: &Self) -> Ordering {
        let mine = u64::from(self.load) * u64::from(other.capacity);
        let theirs = u64::from(other.load) * u64::from(self.capacity);
        mine.cmp(&theirs).then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Fill {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

// Equality must agree with `Ord` (1/2 and 2/4 are the same ratio), so it is not derived.
impl PartialEq for Fill {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Fill {}

/// A heap entry: the node's fill plus where its per-batch counter lives.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    fill: Fill,
    slot: usize,
}

/// One eligible node's bookkeeping inside a [`Placer`].
struct Slot {
    id: NodeId,
    /// Load when the placer was built, to report only the nodes that changed.
    initial: u32,
    /// Current load.
    load: u32,
    /// Replicas added during the current [`Placer::place`] call.
    added: u32,
}

/// Places replicas on a fixed set of eligible nodes. Built once per command and reused for
/// every service placed by that command; it tracks the loads as it places, and the caller
/// writes them back once at the end ([`Placer::changed_loads`]) rather than per replica.
pub struct Placer {
    /// Nodes that still have room, least filled on top.
    heap: BinaryHeap<Reverse<Candidate>>,
    slots: Vec<Slot>,
    /// Slots with `added > 0`, so collecting a batch costs what the batch touched.
    touched: Vec<usize>,
}

impl Placer {
    /// Starts from `(id, load, capacity)` of every node the caller deems eligible; nodes
    /// already full (including capacity 0) are left out.
    pub fn new(nodes: impl IntoIterator<Item = (NodeId, u32, u32)>) -> Self {
        let mut slots = Vec::new();
        let mut candidates = Vec::new();
        for (id, load, capacity) in nodes {
            // The test-only over-capacity mutation: placement believes in one more slot.
            #[cfg(test)]
            let capacity = capacity
                + u32::from(crate::mutation::active(
                    crate::mutation::Mutation::OverCapacity,
                ));
            if load < capacity {
                candidates.push(Reverse(Candidate {
                    fill: Fill { load, capacity, id },
                    slot: slots.len(),
                }));
                slots.push(Slot {
                    id,
                    initial: load,
                    load,
                    added: 0,
                });
            }
        }
        Placer {
            heap: BinaryHeap::from(candidates),
            slots,
            touched: Vec::new(),
        }
    }

    /// Whether no node has room left; lets callers stop early.
    pub fn is_full(&self) -> bool {
        self.heap.is_empty()
    }

    /// Places up to `count` replicas and returns how many went to each node, ordered by
    /// node id. Fewer than `count` are placed only when every node is full.
    pub fn place(&mut self, count: u32) -> Vec<(NodeId, u32)> {
        for _ in 0..count {
            let Some(mut top) = self.heap.peek_mut() else {
                break;
            };
            let Reverse(candidate) = &mut *top;
            let slot = &mut self.slots[candidate.slot];
            candidate.fill.load += 1;
            slot.load = candidate.fill.load;
            if slot.added == 0 {
                self.touched.push(candidate.slot);
            }
            slot.added += 1;
            if candidate.fill.load == candidate.fill.capacity {
                PeekMut::pop(top);
            }
            // Otherwise dropping `top` sifts the grown node down to its new rank.
        }
        let mut batch: Vec<(NodeId, u32)> = self
            .touched
            .drain(..)
            .map(|i| {
                let slot = &mut self.slots[i];
                (slot.id, std::mem::take(&mut slot.added))
            })
            .collect();
        batch.sort_unstable();
        batch
    }

    /// `(node id, load)` of every node whose load changed since [`Placer::new`], by id.
    pub fn changed_loads(&self) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        self.slots
            .iter()
            .filter(|slot| slot.load != slot.initial)
            .map(|slot| (slot.id, slot.load))
    }
}

/// Chooses which replicas of one service to stop when it scales down by `count`.
///
/// `held` lists `(node id, replicas of this service there, node load, node capacity)`.
/// Each removal takes from the node with the highest fill ratio (ties: highest id), counting
/// the node's whole load, not just this service's share: that relieves the fullest nodes.
/// Returns how many to remove from each node, ordered by node id; at most `count` in total
/// and never more than the service holds on a node.
pub fn pick_removals(
    held: impl IntoIterator<Item = (NodeId, u32, u32, u32)>,
    count: u32,
) -> Vec<(NodeId, u32)> {
    let mut heap: BinaryHeap<(Fill, u32)> = held
        .into_iter()
        .filter(|&(_, mine, _, _)| mine > 0)
        .map(|(id, mine, load, capacity)| (Fill { load, capacity, id }, mine))
        .collect();
    let mut removed = BTreeMap::new();
    for _ in 0..count {
        let Some(mut top) = heap.peek_mut() else {
            break;
        };
        let (fill, mine) = &mut *top;
        fill.load -= 1;
        *mine -= 1;
        *removed.entry(fill.id).or_insert(0) += 1;
        if *mine == 0 {
            PeekMut::pop(top);
        }
    }
    removed.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_ratio_first_then_lowest_id() {
        // Node 2 is emptier by ratio (1/10 < 1/4) although it holds as many replicas.
        let mut placer = Placer::new([(1, 1, 4), (2, 1, 10)]);
        assert_eq!(placer.place(1), vec![(2, 1)]);
        // Now 1/4 vs 2/10: node 2 again; then 1/4 vs 3/10: node 1.
        assert_eq!(placer.place(2), vec![(1, 1), (2, 1)]);
        // Equal ratios (0/5 and 0/5) go to the lower id.
        let mut placer = Placer::new([(9, 0, 5), (3, 0, 5)]);
        assert_eq!(placer.place(1), vec![(3, 1)]);
    }

    #[test]
    fn never_over_capacity_and_leftovers_are_reported_by_omission() {
        let mut placer = Placer::new([(1, 0, 2), (2, 0, 1), (3, 0, 0), (4, 5, 5)]);
        assert_eq!(placer.place(10), vec![(1, 2), (2, 1)]);
        assert!(placer.is_full());
        assert_eq!(placer.place(1), vec![]);
    }

    #[test]
    fn proportional_to_capacity() {
        let mut placer = Placer::new([(1, 0, 100), (2, 0, 300)]);
        assert_eq!(placer.place(40), vec![(1, 10), (2, 30)]);
    }

    #[test]
    fn batches_are_independent_but_loads_carry_over() {
        let mut placer = Placer::new([(1, 0, 10), (2, 0, 10)]);
        assert_eq!(placer.place(3), vec![(1, 2), (2, 1)]);
        assert_eq!(placer.place(1), vec![(2, 1)]);
    }

    #[test]
    fn removals_take_from_the_fullest_node_highest_id_on_ties() {
        // Fill ratios: node 1 8/10, node 2 4/4, node 3 8/10.
        let held = [(1, 3, 8, 10), (2, 1, 4, 4), (3, 3, 8, 10)];
        assert_eq!(pick_removals(held, 1), vec![(2, 1)]);
        // Then 8/10 tie: node 3 first, then node 1 (8/10 > 7/10), then node 3 …
        assert_eq!(pick_removals(held, 3), vec![(1, 1), (2, 1), (3, 1)]);
        assert_eq!(pick_removals(held, 4), vec![(1, 1), (2, 1), (3, 2)]);
    }

    #[test]
    fn removals_never_exceed_what_the_service_holds() {
        let held = [(1, 1, 9, 10), (2, 2, 2, 10)];
        assert_eq!(pick_removals(held, 2), vec![(1, 1), (2, 1)]);
        assert_eq!(pick_removals(held, 10), vec![(1, 1), (2, 2)]);
    }
}
