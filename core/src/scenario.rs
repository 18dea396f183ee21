//! Fault scenarios as data: which links "isolate a node", "split the cluster in two" and "heal
//! everything" cut or heal, worked out once from the node ids so the simulation and a live
//! native cluster act them out the same way. Pure functions: no cluster is touched here; each
//! host applies the plan with its own verbs (the simulation's `cut`/`partition`, a native
//! node's `POST /connections`).

use serde::Deserialize;
use serde::Serialize;

/// A node id (also its Raft id).
pub type NodeId = u64;

/// A directed link, `(from, to)`: cutting it loses what `from` sends to `to`.
pub type Link = (NodeId, NodeId);

/// How to split a cluster in two, and which links that cuts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitPlan {
    /// The two sides: `[lower, upper]`, each in id order.
    pub groups: [Vec<NodeId>; 2],
    /// Every link between the two sides, both ways: for each node of the lower side in id
    /// order, for each node of the upper side in id order, `(lower, upper)` then
    /// `(upper, lower)`.
    pub cut: Vec<Link>,
}

/// Splits the nodes in two: the lower half of the ids, rounded down (`floor(n / 2)` smallest),
/// against the rest. With an odd count the lower side is the minority (5 nodes: 2 | 3), so the
/// upper side can still elect a leader; `ids` need not be sorted or distinct (they are sorted
/// and deduplicated first).
pub fn split_in_two(ids: &[NodeId]) -> SplitPlan {
    let ids = sorted(ids);
    let (lower, upper) = ids.split_at(ids.len() / 2);
    let cut = lower
        .iter()
        .flat_map(|&a| upper.iter().flat_map(move |&b| [(a, b), (b, a)]))
        .collect();
    SplitPlan {
        groups: [lower.to_vec(), upper.to_vec()],
        cut,
    }
}

/// The links that cut `node` off from every other node of `ids`: for each other node in id
/// order, `(node, other)` then `(other, node)`. Isolating the leader is this with the leader.
pub fn isolate(ids: &[NodeId], node: NodeId) -> Vec<Link> {
    sorted(ids)
        .into_iter()
        .filter(|other| *other != node)
        .flat_map(|other| [(node, other), (other, node)])
        .collect()
}

/// The links to heal so that every link works again: every cut one, in order, once.
pub fn heal_all(cut: &[Link]) -> Vec<Link> {
    let mut links = cut.to_vec();
    links.sort_unstable();
    links.dedup();
    links
}

fn sorted(ids: &[NodeId]) -> Vec<NodeId> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_nodes_split_two_against_three() {
        let plan = split_in_two(&[5, 3, 1, 2, 4]);
        assert_eq!(plan.groups, [vec![1, 2], vec![3, 4, 5]]);
        assert_eq!(plan.cut.len(), 2 * 2 * 3);
        assert_eq!(&plan.cut[..2], &[(1, 3), (3, 1)]);
        assert!(plan.cut.iter().all(|&(a, b)| (a < 3) != (b < 3)));
    }

    #[test]
    fn small_clusters_split_as_they_can() {
        assert_eq!(split_in_two(&[]).groups, [Vec::<NodeId>::new(), Vec::new()]);
        let one = split_in_two(&[7]);
        assert_eq!(one.groups, [vec![], vec![7]]);
        assert!(one.cut.is_empty());
        assert_eq!(split_in_two(&[1, 2]).cut, vec![(1, 2), (2, 1)]);
    }

    #[test]
    fn isolating_cuts_both_ways_to_every_other_node() {
        assert_eq!(isolate(&[1, 2, 3], 2), vec![(2, 1), (1, 2), (2, 3), (3, 2)]);
        assert!(isolate(&[4], 4).is_empty());
    }

    #[test]
    fn healing_lists_each_cut_link_once() {
        assert_eq!(heal_all(&[(2, 1), (1, 2), (2, 1)]), vec![(1, 2), (2, 1)]);
    }
}
