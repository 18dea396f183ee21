//! The dependency invariant of flotilla-core: built for wasm32, its dependency tree holds no
//! I/O, no async runtime and no timer.
//!
//! flotilla-core is a deterministic state machine driven by a simulation in virtual time; the
//! native binary and the browser bring the I/O, the runtime and the clock. A crate in the list
//! below showing up in core's tree means core (or a dependency's feature) pulled one in.

use crate::cmd::{Cmd, Error, Result};
use crate::toolchain::WASM_TARGET;

/// The package whose tree is checked.
pub const CORE_PACKAGE: &str = "flotilla-core";

/// Crates that must never be in core's tree: each is I/O, an async runtime or a server/client
/// stack (`mio`: OS event loop; `hyper`, `axum`, `tower`, `reqwest`: HTTP servers and clients;
/// `openraft-rt-tokio`: openraft's tokio runtime). Core has no I/O, no runtime and no clock.
pub const FORBIDDEN_CRATES: &[&str] = &[
    "mio",
    "hyper",
    "axum",
    "tower",
    "reqwest",
    "openraft-rt-tokio",
];

/// The crate whose features are policed: tokio is allowed, for its runtime-free `sync`
/// primitives only.
pub const TOKIO: &str = "tokio";

/// tokio features that bring a runtime (`rt`, `rt-multi-thread`), I/O (`net`, `fs`,
/// `io-util`, `process`, `signal`) or a clock (`time`), none of which core may have.
pub const FORBIDDEN_TOKIO_FEATURES: &[&str] = &[
    "rt",
    "rt-multi-thread",
    "net",
    "time",
    "fs",
    "io-util",
    "process",
    "signal",
];

/// The `cargo tree` arguments that list core's wasm32 tree, one crate a line, as
/// `name vX.Y.Z [(source)]|feature,feature` (with ` (*)` after a repeated crate). Normal
/// dependencies only: dev-dependencies are not shipped and proc-macros run on the host.
pub fn cargo_tree_args() -> Vec<&'static str> {
    vec![
        "tree",
        "--package",
        CORE_PACKAGE,
        "--target",
        WASM_TARGET,
        "--edges",
        "normal,no-proc-macro",
        "--prefix",
        "none",
        "--format",
        "{p}|{f}",
    ]
}

/// One line of the `cargo tree` output: a crate and the features enabled on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// The crate's name, e.g. `tokio`.
    pub name: String,
    /// Its version, without the leading `v`, e.g. `1.54.1`.
    pub version: String,
    /// Its enabled features, including those other features imply.
    pub features: Vec<String>,
}

/// Parses the output of `cargo tree` run with [`cargo_tree_args`]. Fails on a line it does not
/// understand, so that a change in cargo's output cannot make the check pass silently.
pub fn parse_tree(output: &str) -> std::result::Result<Vec<TreeEntry>, String> {
    let mut entries = Vec::new();
    for (index, raw) in output.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let line = line.strip_suffix("(*)").unwrap_or(line).trim_end();
        let unexpected = || {
            format!(
                "unexpected line {} of `cargo tree` output: {raw:?}",
                index + 1
            )
        };
        let (package, features) = line.split_once('|').ok_or_else(unexpected)?;
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            return Err(unexpected());
        };
        let Some(version) = version.strip_prefix('v') else {
            return Err(unexpected());
        };
        entries.push(TreeEntry {
            name: name.to_string(),
            version: version.to_string(),
            features: features
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
        });
    }
    if entries.is_empty() {
        return Err("`cargo tree` listed no crates at all".to_string());
    }
    Ok(entries)
}

/// Lists what in `entries` breaks the invariant, one sentence each, without repeats.
pub fn violations(entries: &[TreeEntry]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in entries {
        let problem = if FORBIDDEN_CRATES.contains(&entry.name.as_str()) {
            Some(format!("{} v{} is in the tree", entry.name, entry.version))
        } else if entry.name == TOKIO {
            let bad: Vec<&str> = entry
                .features
                .iter()
                .map(String::as_str)
                .filter(|f| FORBIDDEN_TOKIO_FEATURES.contains(f))
                .collect();
            (!bad.is_empty()).then(|| {
                format!(
                    "tokio v{} has the features {} (only `sync` is allowed)",
                    entry.version,
                    bad.join(", ")
                )
            })
        } else {
            None
        };
        if let Some(problem) = problem
            && !found.contains(&problem)
        {
            found.push(problem);
        }
    }
    found
}

/// Runs `cargo tree` on flotilla-core for wasm32 and fails if the invariant is broken.
pub fn check_core() -> Result {
    let tree = Cmd::cargo().args(cargo_tree_args());
    let output = tree.read()?;
    let entries = parse_tree(&output).map_err(|e| Error::new(format!("`{tree}`: {e}")))?;
    let problems = violations(&entries);
    if problems.is_empty() {
        let tokio = entries
            .iter()
            .find(|e| e.name == TOKIO)
            .map(|e| format!("; tokio features: {}", e.features.join(",")))
            .unwrap_or_default();
        eprintln!(
            "deps: {CORE_PACKAGE}'s {WASM_TARGET} tree has no I/O, runtime or clock crates{tokio}"
        );
        return Ok(());
    }
    Err(Error::new(format!(
        "{CORE_PACKAGE} must have no I/O, no async runtime and no clock, but its {WASM_TARGET} \
         dependency tree breaks that:\n  - {}\nSee who pulls it in with `cargo tree -p \
         {CORE_PACKAGE} --target {WASM_TARGET} -e normal,features -i <crate>`",
        problems.join("\n  - ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from this workspace, when core depended on openraft, openraft-rt, serde,
    /// serde_json, tokio (sync) and rand.
    const CORE_SAMPLE: &str = include_str!("../testdata/cargo-tree-core-wasm32.txt");

    /// Captured from a scratch crate depending on tokio with `sync`, `rt`, `net` and `time`.
    const TOKIO_RUNTIME_SAMPLE: &str =
        include_str!("../testdata/cargo-tree-tokio-runtime-wasm32.txt");

    #[test]
    fn parses_the_captured_core_tree() {
        let entries = parse_tree(CORE_SAMPLE).expect("the sample parses");
        assert_eq!(entries.len(), CORE_SAMPLE.lines().count());
        assert_eq!(entries[0].name, "flotilla-core");
        assert_eq!(entries[0].version, "0.1.0");
        assert!(entries[0].features.is_empty());
        let tokio = entries
            .iter()
            .find(|e| e.name == "tokio")
            .expect("tokio is there");
        assert_eq!(tokio.version, "1.54.1");
        assert_eq!(tokio.features, ["sync"]);
        let getrandom = entries
            .iter()
            .find(|e| e.name == "getrandom")
            .expect("getrandom");
        assert_eq!(getrandom.features, ["std", "sys_rng", "wasm_js"]);
    }

    #[test]
    fn repeated_crates_keep_their_features() {
        let entries =
            parse_tree("serde v1.0.229|default,derive (*)\nitoa v1.0.19| (*)\n").expect("parses");
        assert_eq!(entries[0].features, ["default", "derive"]);
        assert!(entries[1].features.is_empty());
    }

    #[test]
    fn the_captured_core_tree_is_clean() {
        let entries = parse_tree(CORE_SAMPLE).expect("the sample parses");
        assert_eq!(violations(&entries), Vec::<String>::new());
    }

    #[test]
    fn a_tokio_runtime_and_mio_are_caught() {
        let entries = parse_tree(TOKIO_RUNTIME_SAMPLE).expect("the sample parses");
        assert_eq!(
            violations(&entries),
            [
                "tokio v1.54.1 has the features net, rt, time (only `sync` is allowed)",
                "mio v1.2.5 is in the tree",
            ]
        );
    }

    #[test]
    fn every_forbidden_crate_is_caught_once() {
        let mut tree = String::from("flotilla-core v0.1.0 (/src/core)|\n");
        for name in FORBIDDEN_CRATES {
            tree.push_str(&format!(
                "{name} v1.0.0|default\n{name} v1.0.0|default (*)\n"
            ));
        }
        let entries = parse_tree(&tree).expect("parses");
        assert_eq!(violations(&entries).len(), FORBIDDEN_CRATES.len());
    }

    #[test]
    fn crates_merely_named_like_forbidden_ones_pass() {
        let tree = "tower-service v0.3.3|\nhyperloglog v1.0.0|\ntokio-stream v0.1.0|time\n";
        let entries = parse_tree(tree).expect("parses");
        assert!(violations(&entries).is_empty());
    }

    #[test]
    fn unexpected_output_is_an_error_not_a_pass() {
        assert!(parse_tree("").is_err());
        assert!(parse_tree("flotilla-core v0.1.0 (/src/core)\n").is_err());
        assert!(parse_tree("├── tokio feature \"sync\"\n").is_err());
        assert!(parse_tree("tokio 1.0|sync\n").is_err());
    }
}
