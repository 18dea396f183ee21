//! `cargo xtask bench`: runs flotilla-core's benchmarks (harness = false; each prints its own
//! results).

use crate::BenchArgs;
use crate::cmd::{Cmd, Result};

/// Runs `cargo bench -p flotilla-core`, with `args.args` passed through after it.
pub fn run(args: BenchArgs) -> Result {
    Cmd::cargo()
        .args(["bench", "--package", "flotilla-core"])
        .args(&args.args)
        .run()
}
