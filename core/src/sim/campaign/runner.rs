//! [`run_campaign`]: many seeds, on as many threads as asked, each seed on one thread (a
//! simulation is single-threaded; seeds share nothing).

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::mpsc;

use super::CampaignSummary;
use super::SeedReport;
use super::run_seed;

/// Runs seeds `from..from + count` with `nodes` nodes each on `threads` threads (1: on this
/// one), hands every seed's report to `each` as it finishes (in completion order) and returns
/// the campaign's figures.
pub fn run_campaign(
    from: u64,
    count: u64,
    nodes: usize,
    threads: usize,
    mut each: impl FnMut(&SeedReport),
) -> CampaignSummary {
    let mut summary = CampaignSummary::default();
    let threads = threads.clamp(1, count.max(1) as usize);
    if threads == 1 {
        for seed in from..from.saturating_add(count) {
            let report = run_seed(seed, nodes);
            summary.add(&report);
            each(&report);
        }
        return summary;
    }
    let next = AtomicU64::new(0);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let offset = next.fetch_add(1, Ordering::Relaxed);
                    if offset >= count {
                        break;
                    }
                    if sender.send(run_seed(from + offset, nodes)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for report in receiver {
            summary.add(&report);
            each(&report);
        }
    });
    summary
}
