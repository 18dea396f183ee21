//! Tests of [`ClusterState::apply`](super::ClusterState::apply) command by command: placement,
//! scaling, node changes, snapshots and their errors.

use super::*;

/// A state plus the log index of the next entry, as the Raft glue would feed it.
struct Log {
    state: ClusterState,
    index: u64,
}

impl Log {
    fn new() -> Self {
        Log {
            state: ClusterState::default(),
            index: 0,
        }
    }

    fn run(&mut self, cmd: Command) -> Outcome {
        self.index += 1;
        self.state.apply(self.index, &cmd)
    }

    /// Runs a command that must be rejected, and checks it changed nothing.
    fn reject(&mut self, cmd: Command) -> String {
        let before = self.state.clone();
        match self.run(cmd) {
            Outcome::Rejected { reason } => {
                assert_eq!(self.state, before, "a rejected command changed the state");
                reason
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    fn add_node(&mut self, id: NodeId, capacity: u32) -> Outcome {
        self.run(Command::AddNode {
            node: spec(id, capacity),
        })
    }

    fn create(&mut self, replicas: &[u32]) -> Vec<ServiceView> {
        let services = replicas
            .iter()
            .enumerate()
            .map(|(i, &replicas)| ServiceSpec {
                label: format!("svc {i}"),
                replicas,
                uniq_id: None,
            })
            .collect();
        match self.run(Command::CreateServices { services }) {
            Outcome::ServicesCreated { services } => services,
            other => panic!("create failed: {other:?}"),
        }
    }

    fn placement(&self, id: ServiceId) -> Vec<(NodeId, u32)> {
        let service = self.state.service(id).expect("service exists");
        service.placement.iter().map(|(&n, &c)| (n, c)).collect()
    }

    fn pending(&self, id: ServiceId) -> u32 {
        self.state.service(id).expect("service exists").pending
    }
}

fn spec(id: NodeId, capacity: u32) -> NodeSpec {
    NodeSpec {
        id,
        name: format!("n{id}"),
        addr: format!("host:{}", 8000 + id),
        capacity,
    }
}

#[test]
fn create_places_by_fill_ratio_and_records_the_log_index() {
    let mut log = Log::new();
    log.add_node(1, 10);
    log.add_node(2, 30);
    let created = log.create(&[8]);
    // Slots in order: n1 0/10, n2 0/30, n2 1/30, n2 2/30, n1 1/10 (= 3/30, lower id
    // first), n2 3/30, n2 4/30, n2 5/30.
    assert_eq!(created.len(), 1);
    let view = &created[0];
    assert_eq!((view.id, view.running, view.pending), (1, 8, 0));
    assert_eq!(view.created_index, 3);
    assert_eq!(log.placement(1), vec![(1, 2), (2, 6)]);
    assert_eq!(log.state.node_load(1), Some(2));
    assert_eq!(log.state.node_load(2), Some(6));
}

#[test]
fn create_keeps_request_order_as_id_order_and_trims_labels() {
    let mut log = Log::new();
    log.add_node(1, 100);
    let outcome = log.run(Command::CreateServices {
        services: vec![
            ServiceSpec {
                label: " a ".into(),
                replicas: 1,
                uniq_id: Some(9),
            },
            ServiceSpec {
                label: "b".into(),
                replicas: 2,
                uniq_id: None,
            },
        ],
    });
    let Outcome::ServicesCreated { services } = outcome else {
        panic!("{outcome:?}");
    };
    let summary: Vec<_> = services
        .iter()
        .map(|s| (s.id, s.label.as_str(), s.uniq_id, s.replicas))
        .collect();
    assert_eq!(summary, vec![(1, "a", Some(9), 1), (2, "b", None, 2)]);
}

#[test]
fn what_does_not_fit_stays_pending() {
    let mut log = Log::new();
    log.add_node(1, 3);
    log.add_node(2, 2);
    log.add_node(3, 0);
    let created = log.create(&[10]);
    assert_eq!((created[0].running, created[0].pending), (5, 5));
    assert_eq!(log.placement(1), vec![(1, 3), (2, 2)]);
    assert_eq!(log.state.total_pending(), 5);
    // With no nodes at all, everything waits.
    let mut empty = Log::new();
    assert_eq!(empty.create(&[4])[0].pending, 4);
}

#[test]
fn invalid_creates_are_rejected_before_any_id_is_used() {
    let mut log = Log::new();
    log.add_node(1, 10);
    let reason = log.reject(Command::CreateServices {
        services: vec![ServiceSpec {
            label: "x".into(),
            replicas: 0,
            uniq_id: None,
        }],
    });
    assert_eq!(
        reason,
        "services[0].replicas must be an integer between 1 and 1000000, got 0"
    );
    let reason = log.reject(Command::CreateServices { services: vec![] });
    assert_eq!(reason, "containers must not be empty");
    assert_eq!(log.create(&[1])[0].id, 1);
}

#[test]
fn scale_up_places_more_and_scale_down_relieves_the_fullest_nodes() {
    let mut log = Log::new();
    log.add_node(1, 10);
    log.add_node(2, 10);
    log.create(&[6]);
    log.create(&[2]);
    assert_eq!(log.placement(1), vec![(1, 3), (2, 3)]);
    assert_eq!(log.placement(2), vec![(1, 1), (2, 1)]);
    // Loads 4/10 and 4/10: the tie goes to node 2, then node 1 (4 > 3), then node 2.
    let Outcome::ServiceScaled { service } = log.run(Command::ScaleService { id: 1, replicas: 3 })
    else {
        panic!("scale failed");
    };
    assert_eq!((service.replicas, service.running), (3, 3));
    assert_eq!(log.placement(1), vec![(1, 2), (2, 1)]);
    assert_eq!(log.state.node_load(1), Some(3));
    assert_eq!(log.state.node_load(2), Some(2));
    log.run(Command::ScaleService { id: 1, replicas: 5 });
    assert_eq!(log.placement(1), vec![(1, 3), (2, 2)]);
}

#[test]
fn scale_down_drops_pending_before_running_replicas() {
    let mut log = Log::new();
    log.add_node(1, 2);
    log.create(&[5]);
    log.run(Command::ScaleService { id: 1, replicas: 3 });
    assert_eq!((log.placement(1), log.pending(1)), (vec![(1, 2)], 1));
    log.run(Command::ScaleService { id: 1, replicas: 1 });
    assert_eq!((log.placement(1), log.pending(1)), (vec![(1, 1)], 0));
}

#[test]
fn scale_to_zero_keeps_the_service() {
    let mut log = Log::new();
    log.add_node(1, 5);
    log.create(&[3]);
    log.run(Command::ScaleService { id: 1, replicas: 0 });
    let service = log.state.service(1).expect("still there");
    assert!(service.placement.is_empty());
    assert_eq!((service.replicas, service.pending), (0, 0));
    assert_eq!(log.state.node_load(1), Some(0));
    log.run(Command::ScaleService { id: 1, replicas: 2 });
    assert_eq!(log.placement(1), vec![(1, 2)]);
}

#[test]
fn scale_rejections() {
    let mut log = Log::new();
    log.create(&[1]);
    assert_eq!(
        log.reject(Command::ScaleService { id: 7, replicas: 1 }),
        "unknown service 7"
    );
    assert_eq!(
        log.reject(Command::ScaleService {
            id: 1,
            replicas: MAX_REPLICAS + 1
        }),
        "replicas must be an integer between 0 and 1000000, got 1000001"
    );
}

#[test]
fn freed_capacity_goes_to_pending_services_in_id_order() {
    let mut log = Log::new();
    log.add_node(1, 4);
    log.create(&[3, 3, 2]);
    assert_eq!([log.pending(1), log.pending(2), log.pending(3)], [0, 2, 2]);
    assert_eq!(
        log.run(Command::DeleteService { id: 1 }),
        Outcome::ServiceDeleted { id: 1 }
    );
    assert!(log.state.service(1).is_none());
    // Three slots freed: service 2 takes the two it lacked, service 3 the last one.
    assert_eq!([log.pending(2), log.pending(3)], [0, 1]);
    assert_eq!(log.state.node_load(1), Some(4));
    assert_eq!(
        log.reject(Command::DeleteService { id: 1 }),
        "unknown service 1"
    );
}

#[test]
fn added_node_takes_pending_replicas() {
    let mut log = Log::new();
    log.add_node(1, 1);
    log.create(&[4]);
    let outcome = log.add_node(2, 2);
    let Outcome::NodeAdded { node, pending } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!((node.id, node.load, node.status), (2, 2, NodeStatus::Up));
    assert_eq!(pending, 1);
    assert_eq!(log.placement(1), vec![(1, 1), (2, 2)]);
}

#[test]
fn duplicate_nodes_are_rejected() {
    let mut log = Log::new();
    log.add_node(1, 1);
    assert_eq!(
        log.reject(Command::AddNode { node: spec(1, 5) }),
        "node 1 already exists"
    );
    let same_name = NodeSpec {
        name: "n1".into(),
        ..spec(2, 1)
    };
    assert_eq!(
        log.reject(Command::AddNode { node: same_name }),
        r#"name "n1" is already used by node 1"#
    );
    let same_addr = NodeSpec {
        addr: "host:8001".into(),
        ..spec(2, 1)
    };
    assert_eq!(
        log.reject(Command::AddNode { node: same_addr }),
        r#"address "host:8001" is already used by node 1"#
    );
    assert_eq!(
        log.reject(Command::AddNode {
            node: spec(2, MAX_NODE_CAPACITY + 1)
        }),
        "capacity must be at most 1000000, got 1000001"
    );
}

#[test]
fn removed_node_replicas_are_replaced_or_left_pending() {
    let mut log = Log::new();
    log.add_node(1, 4);
    log.add_node(2, 4);
    log.add_node(3, 1);
    log.create(&[6]);
    assert_eq!(log.placement(1), vec![(1, 3), (2, 2), (3, 1)]);
    let outcome = log.run(Command::RemoveNode { id: 1 });
    // Three displaced, two slots free (one on node 2, none on node 3).
    assert_eq!(
        outcome,
        Outcome::NodeRemoved {
            id: 1,
            replaced: 2,
            pending: 1
        }
    );
    assert!(log.state.node(1).is_none());
    assert_eq!(log.state.node_load(1), None);
    assert_eq!(log.placement(1), vec![(2, 4), (3, 1)]);
    assert_eq!(log.reject(Command::RemoveNode { id: 1 }), "unknown node 1");
}

#[test]
fn down_node_loses_its_replicas_and_keeps_its_entry() {
    let mut log = Log::new();
    log.add_node(1, 10);
    log.add_node(2, 10);
    log.create(&[4]);
    let down = Command::MarkNodeDown { id: 2 };
    assert_eq!(
        log.run(down.clone()),
        Outcome::NodeMarked {
            id: 2,
            status: NodeStatus::Down,
            moved: 2,
            pending: 0
        }
    );
    assert_eq!(log.placement(1), vec![(1, 4)]);
    let view = log.state.node_view(2).expect("kept");
    assert_eq!((view.status, view.load), (NodeStatus::Down, 0));
    // Marking it down again is a harmless no-op.
    let before = log.state.clone();
    assert_eq!(
        log.run(down),
        Outcome::NodeMarked {
            id: 2,
            status: NodeStatus::Down,
            moved: 0,
            pending: 0
        }
    );
    assert_eq!(log.state, before);
    // New work avoids it.
    log.create(&[2]);
    assert_eq!(log.placement(2), vec![(1, 2)]);
}

#[test]
fn node_back_up_takes_pending_but_running_replicas_stay_put() {
    let mut log = Log::new();
    log.add_node(1, 2);
    log.add_node(2, 2);
    log.create(&[2]);
    log.run(Command::MarkNodeDown { id: 2 });
    log.create(&[2]);
    assert_eq!(log.pending(2), 2);
    let outcome = log.run(Command::MarkNodeUp { id: 2 });
    assert_eq!(
        outcome,
        Outcome::NodeMarked {
            id: 2,
            status: NodeStatus::Up,
            moved: 2,
            pending: 0
        }
    );
    assert_eq!(log.placement(1), vec![(1, 2)]);
    assert_eq!(log.placement(2), vec![(2, 2)]);
    for cmd in [
        Command::MarkNodeUp { id: 9 },
        Command::MarkNodeDown { id: 9 },
    ] {
        assert_eq!(log.reject(cmd), "unknown node 9");
    }
}

#[test]
fn views_report_loads() {
    let mut log = Log::new();
    log.add_node(1, 3);
    log.add_node(2, 3);
    log.create(&[3]);
    let loads: Vec<_> = log.state.node_views().map(|n| (n.id, n.load)).collect();
    assert_eq!(loads, vec![(1, 2), (2, 1)]);
    let services: Vec<_> = log.state.service_views().map(|s| s.running).collect();
    assert_eq!(services, vec![3]);
    assert_eq!(log.state.nodes().len(), 2);
    assert_eq!(log.state.services().len(), 1);
    assert!(log.state.node_view(3).is_none());
}

#[test]
fn snapshot_round_trip_restores_derived_data() {
    let mut log = Log::new();
    log.add_node(1, 2);
    log.add_node(2, 5);
    log.create(&[4, 6]);
    log.run(Command::MarkNodeDown { id: 1 });
    let json = serde_json::to_string(&log.state).expect("serialises");
    let restored: ClusterState = serde_json::from_str(&json).expect("loads");
    assert_eq!(restored, log.state);
    assert_eq!(restored.node_load(2), Some(5));
    assert_eq!(restored.total_pending(), 5);
}

#[test]
fn corrupt_snapshots_are_refused() {
    let mut log = Log::new();
    log.add_node(1, 4);
    log.add_node(2, 4);
    log.create(&[3]);
    let good = serde_json::to_value(&log.state).expect("serialises");
    let refuse = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut bad = good.clone();
        edit(&mut bad);
        serde_json::from_value::<ClusterState>(bad)
            .expect_err("corrupt snapshot accepted")
            .to_string()
    };
    let over = refuse(&|v| v["nodes"]["1"]["capacity"] = 1.into());
    assert!(over.contains("node 1 over capacity"), "{over}");
    let lost = refuse(&|v| v["services"]["1"]["pending"] = 1.into());
    assert!(lost.contains("accounts for 4 replicas of 3"), "{lost}");
    let down = refuse(&|v| v["nodes"]["2"]["status"] = "down".into());
    assert!(down.contains("replicas on node 2"), "{down}");
    let ghost = refuse(&|v| v["nodes"].as_object_mut().unwrap().clear());
    assert!(ghost.contains("replicas on node"), "{ghost}");
    let id = refuse(&|v| v["next_service_id"] = 1.into());
    assert!(id.contains("not below the next id"), "{id}");
    let unsettled = refuse(&|v| {
        v["services"]["1"]["replicas"] = 4.into();
        v["services"]["1"]["pending"] = 1.into();
    });
    assert!(
        unsettled.contains("has room while replicas are pending"),
        "{unsettled}"
    );
}

#[test]
fn commands_and_outcomes_survive_serde() {
    let mut log = Log::new();
    let cmds = vec![
        Command::AddNode { node: spec(1, 3) },
        Command::CreateServices {
            services: vec![ServiceSpec {
                label: "a".into(),
                replicas: 2,
                uniq_id: Some(0),
            }],
        },
        Command::ScaleService { id: 1, replicas: 1 },
        Command::MarkNodeDown { id: 1 },
        Command::MarkNodeUp { id: 1 },
        Command::DeleteService { id: 1 },
        Command::RemoveNode { id: 1 },
        Command::RemoveNode { id: 1 },
    ];
    for cmd in cmds {
        let json = serde_json::to_string(&cmd).expect("serialises");
        assert_eq!(serde_json::from_str::<Command>(&json).expect("parses"), cmd);
        let outcome = log.run(cmd);
        let json = serde_json::to_string(&outcome).expect("serialises");
        assert_eq!(
            serde_json::from_str::<Outcome>(&json).expect("parses"),
            outcome
        );
    }
}
