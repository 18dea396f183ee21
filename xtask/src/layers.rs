//! The `layers` step of `cargo xtask test`: each crate's modules import only downwards, as the
//! `layers <crate-dir>: a > b, c > d` lines under ARCHITECTURE.md's "## Layers" heading say.
//!
//! A line lists a crate's top-level modules by level, top first: `>` separates levels, `,` the
//! modules of one level. The rules ([`rules::violations`]) are: the line names exactly the
//! crate's top-level modules; a top-level module names only modules of strictly lower levels;
//! and at every depth of the module tree, sibling modules name each other in no cycle. A module
//! names another by a `crate::`, `super::` or `self::` path in its code (comments, strings and
//! the unit tests at the end of a file do not count; see [`scan`]).

mod rules;
mod scan;

use std::path::{Path, PathBuf};

use crate::cmd::{Error, Result, workspace_root};
use rules::{LayerLine, ModulePath, SourceFile};

/// Checks every crate ARCHITECTURE.md has a layer line for; prints each problem.
pub fn check() -> Result {
    let root = workspace_root();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md"))
        .map_err(|err| format!("cannot read ARCHITECTURE.md: {err}"))?;
    let (crates, problems) = problems(&root, &architecture)?;
    for problem in &problems {
        eprintln!("{problem}");
    }
    if problems.is_empty() {
        eprintln!("layers: {} import only downwards", crates.join(", "));
        Ok(())
    } else {
        Err(Error::new(format!(
            "{} layer problem(s): see ARCHITECTURE.md's \"## Layers\"",
            problems.len()
        )))
    }
}

/// The crates `architecture` (ARCHITECTURE.md's text) has layer lines for, and every problem
/// of the crates under `root` against them.
fn problems(
    root: &Path,
    architecture: &str,
) -> std::result::Result<(Vec<String>, Vec<String>), String> {
    let lines = layer_lines(architecture)?;
    let mut problems = Vec::new();
    for line in &lines {
        let files = source_files(root, &line.crate_dir)?;
        problems.extend(rules::violations(line, &files));
    }
    Ok((lines.into_iter().map(|l| l.crate_dir).collect(), problems))
}

/// The `layers …` lines in the fenced `text` blocks of ARCHITECTURE.md's "## Layers" section.
fn layer_lines(architecture: &str) -> std::result::Result<Vec<LayerLine>, String> {
    let mut in_section = false;
    let mut in_text_block = false;
    let mut found = Vec::new();
    for line in architecture.lines() {
        let trimmed = line.trim();
        if !in_text_block && trimmed.starts_with("## ") {
            in_section = trimmed == "## Layers";
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some(fence) = trimmed.strip_prefix("```") {
            in_text_block = !in_text_block && fence.trim() == "text";
            continue;
        }
        if in_text_block && let Some(rest) = trimmed.strip_prefix("layers ") {
            found.push(parse_layer_line(rest)?);
        }
    }
    if found.is_empty() {
        return Err(
            "ARCHITECTURE.md has no `layers <crate-dir>: a > b, c` lines in a ```text \
                    block under \"## Layers\""
                .to_string(),
        );
    }
    Ok(found)
}

/// Parses what follows `layers `: `native: run > api, registry > node`.
fn parse_layer_line(rest: &str) -> std::result::Result<LayerLine, String> {
    let bad = |why: &str| format!("ARCHITECTURE.md: `layers {rest}`: {why}");
    let (crate_dir, levels) = rest
        .split_once(':')
        .ok_or_else(|| bad("expected `layers <crate-dir>: a > b, c`"))?;
    let levels: Vec<Vec<String>> = levels
        .split('>')
        .map(|level| level.split(',').map(|m| m.trim().to_string()).collect())
        .collect();
    let well_named =
        |m: &String| !m.is_empty() && m.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !levels.iter().flatten().all(well_named) {
        return Err(bad("every module is a name, separated by `,` or `>`"));
    }
    Ok(LayerLine {
        crate_dir: crate_dir.trim().to_string(),
        levels,
    })
}

/// Every module file of the crate in `root/crate_dir/src`, without test-only files (`tests.rs`)
/// and separate binaries (`src/bin/`).
fn source_files(root: &Path, crate_dir: &str) -> std::result::Result<Vec<SourceFile>, String> {
    let src = root.join(crate_dir).join("src");
    let mut paths = Vec::new();
    collect_rs_files(&src, &mut paths)
        .map_err(|err| format!("cannot list {}: {err}", src.display()))?;
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(&src).unwrap_or(&path);
        let Some(module) = module_of(relative) else {
            continue;
        };
        let source = std::fs::read_to_string(&path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        let shown = Path::new(crate_dir).join("src").join(relative);
        files.push(SourceFile {
            shown: shown.display().to_string(),
            module,
            source,
        });
    }
    Ok(files)
}

fn collect_rs_files(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rs_files(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
    Ok(())
}

/// The module a file under `src/` holds (`api/mod.rs` and `api.rs` → `api`, `lib.rs` and
/// `main.rs` → the root); `None` for files the check skips.
fn module_of(relative: &Path) -> Option<ModulePath> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop()?;
    if parts.first().is_some_and(|p| p == "bin") || file == "tests.rs" {
        return None;
    }
    let stem = file.strip_suffix(".rs")?;
    match stem {
        "lib" | "main" if parts.is_empty() => {}
        "mod" => {}
        _ => parts.push(stem.to_string()),
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate `demo` from `(path under src, source)` pairs, skipping what the check skips.
    fn files(sources: &[(&str, &str)]) -> Vec<SourceFile> {
        sources
            .iter()
            .filter_map(|(path, source)| {
                Some(SourceFile {
                    shown: format!("demo/src/{path}"),
                    module: module_of(Path::new(path))?,
                    source: source.to_string(),
                })
            })
            .collect()
    }

    fn problems(line: &str, sources: &[(&str, &str)]) -> Vec<String> {
        let layers = parse_layer_line(line).expect("a layer line");
        rules::violations(&layers, &files(sources))
    }

    /// A tidy crate: `api` over `node` over `store`, with submodules that name their parent.
    const TIDY: &[(&str, &str)] = &[
        ("lib.rs", "pub mod api;\npub mod node;\npub mod store;\n"),
        ("api/mod.rs", "mod entry;\nuse crate::node::Node;\n"),
        (
            "api/entry.rs",
            "use super::super::store;\nuse crate::api::helper;\n",
        ),
        ("node.rs", "use crate::store::{Log, self};\n"),
        ("store/mod.rs", "mod log;\npub use log::Log;\n"),
        ("store/log.rs", "use super::Error;\n"),
    ];

    #[test]
    fn a_tidy_crate_passes() {
        assert_eq!(
            problems("demo: api > node > store", TIDY),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_back_import_bites() {
        let mut sources = TIDY.to_vec();
        sources[5] = (
            "store/log.rs",
            "use super::Error;\n\nfn f() { crate::node::g() }\n",
        );
        let found = problems("demo: api > node > store", &sources);
        assert_eq!(
            found[0],
            "demo/src/store/log.rs:3: store imports node: crate::node::g (node is above store in \
             ARCHITECTURE.md's \"layers demo\" line)"
        );
        // At the top level, every back-import closes a cycle too.
        assert_eq!(
            found[1..],
            [
                "demo/src's top-level modules form a cycle: node → store → node\n    \
              demo/src/node.rs:1: node imports store (crate::store::Log)\n    \
              demo/src/store/log.rs:3: store::log imports node (crate::node::g)"
            ]
        );
        let same_level = problems("demo: api > node, store", TIDY);
        assert_eq!(
            same_level,
            [
                "demo/src/node.rs:1: node imports store: crate::store::Log (store and node share a \
              level in ARCHITECTURE.md's \"layers demo\" line)"
            ]
        );
    }

    #[test]
    fn a_sibling_cycle_bites() {
        let mut sources = TIDY.to_vec();
        sources[1] = ("api/mod.rs", "mod entry;\nmod live;\n");
        sources.push(("api/live.rs", "use super::entry::Entry;\n"));
        sources.push(("api/entry.rs", "\n\nfn f() { self::super::live::x() }\n"));
        sources.remove(2);
        let found = problems("demo: api > node > store", &sources);
        assert_eq!(
            found,
            [
                "the submodules of api form a cycle: api::entry → api::live → api::entry\n    \
              demo/src/api/entry.rs:3: api::entry imports api::live (self::super::live::x)\n    \
              demo/src/api/live.rs:1: api::live imports api::entry (super::entry::Entry)"
            ]
        );
    }

    #[test]
    fn a_longer_cycle_through_submodules_bites() {
        let sources = [
            ("lib.rs", ""),
            ("a/mod.rs", "mod x;\nmod y;\nmod z;\n"),
            ("a/x/mod.rs", "mod deep;\n"),
            ("a/x/deep.rs", "use crate::a::y::Y;\n"),
            ("a/y.rs", "use super::z;\n"),
            ("a/z.rs", "use crate::a::x;\n"),
        ];
        let found = problems("demo: a", &sources);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("the submodules of a form a cycle: a::x → a::y → a::z → a::x\n"),
            "{found:#?}"
        );
        assert!(found[0].contains("demo/src/a/x/deep.rs:1: a::x::deep imports a::y"));
    }

    #[test]
    fn two_cycles_through_one_module_both_show() {
        let sources = [
            ("lib.rs", ""),
            ("a.rs", "use crate::b;\n"),
            ("b.rs", "use crate::a;\nuse crate::c;\n"),
            ("c.rs", "use crate::b;\n"),
        ];
        let found = problems("demo: a > b > c", &sources);
        let cycles: Vec<&str> = found
            .iter()
            .filter_map(|problem| problem.lines().next())
            .filter(|first| first.contains("form a cycle"))
            .collect();
        assert_eq!(
            cycles,
            [
                "demo/src's top-level modules form a cycle: a → b → a",
                "demo/src's top-level modules form a cycle: b → c → b",
            ]
        );
    }

    #[test]
    fn a_missing_or_unknown_module_bites() {
        assert_eq!(
            problems("demo: api > store", TIDY),
            [
                "demo/src/node.rs: module node is missing from ARCHITECTURE.md's \"layers demo\" line"
            ]
        );
        assert_eq!(
            problems("demo: api > node > store, gone", TIDY),
            [
                "ARCHITECTURE.md's \"layers demo\" line names gone, which is not a module of demo/src"
            ]
        );
    }

    #[test]
    fn comments_doc_comments_strings_and_unit_tests_do_not_count() {
        let mut sources = TIDY.to_vec();
        sources[5] = (
            "store/log.rs",
            "//! Feeds [`crate::node`].\n/// Used by crate::api.\nfn f() {\n    // crate::api::x()\n    \
             /* crate::node::y() */\n    let _ = \"crate::api\";\n}\n\n#[cfg(test)]\nmod tests {\n    \
             use crate::api;\n}\n",
        );
        sources.push(("store/tests.rs", "use crate::api::entry;\n"));
        assert_eq!(
            problems("demo: api > node > store", &sources),
            Vec::<String>::new()
        );
    }

    #[test]
    fn files_map_to_modules() {
        let module = |path: &str| module_of(Path::new(path));
        assert_eq!(module("lib.rs"), Some(vec![]));
        assert_eq!(module("main.rs"), Some(vec![]));
        assert_eq!(module("api/mod.rs"), Some(vec!["api".to_string()]));
        assert_eq!(
            module("api/entry.rs"),
            Some(vec!["api".to_string(), "entry".to_string()])
        );
        assert_eq!(module("store/tests.rs"), None);
        assert_eq!(module("bin/tool.rs"), None);
    }

    #[test]
    fn layer_lines_come_from_the_layers_section() {
        let architecture = "# A\n\n## Code map\n```text\nlayers ignored: a\n```\n\n## Layers\nProse \
            with layers in it.\n```text\nlayers native: run > api, registry > node\nlayers core: sim\n```\n\
            ```rust\nlayers not: this\n```\n## Invariants\n```text\nlayers nor: this\n```\n";
        let lines = layer_lines(architecture).expect("two lines");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].crate_dir, "native");
        assert_eq!(
            lines[0].levels,
            [
                vec!["run".to_string()],
                vec!["api".to_string(), "registry".to_string()],
                vec!["node".to_string()]
            ]
        );
        assert_eq!(lines[1].crate_dir, "core");
        assert!(layer_lines("## Layers\nnothing yet\n").is_err());
        assert!(parse_layer_line("native: a >> b").is_err());
        assert!(parse_layer_line("native a > b").is_err());
    }
}
