//! `cargo xtask bench`: flotilla-core's benchmarks (placement, simulation speed) and the browser
//! page's (frame time in headless Chromium, after building the page, whose build prints the
//! download size). Every benchmark is a plain `main` that prints its results next to a peer
//! measured in the same run; none asserts a speed.

use crate::BenchArgs;
use crate::cmd::{Cmd, Result};

/// Runs `cargo bench -p flotilla-core` (with `args.args` passed through after it), then builds
/// the page and runs the page benchmark.
pub fn run(args: BenchArgs) -> Result {
    Cmd::cargo()
        .args(["bench", "--package", "flotilla-core"])
        .args(&args.args)
        .run()?;
    crate::web::run()?;
    Cmd::cargo()
        .args(["bench", "--package", "flotilla-tests", "--bench", "page"])
        .run()
}
