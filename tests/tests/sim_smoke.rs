use flotilla_core::sim::{SimConfig, Simulation};
use std::time::Duration;

#[test]
fn smoke() {
    let mut sim = Simulation::new(SimConfig::new(7, 3)).unwrap();
    for _ in 0..30 {
        sim.advance(Duration::from_millis(100));
        eprintln!("t={:?} next", sim.now());
        for e in sim.take_events().iter().take(20) {
            eprintln!("{e}");
        }
    }
}
