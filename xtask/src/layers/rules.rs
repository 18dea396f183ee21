//! The layer rules over one crate's module tree: which modules exist, which module names
//! which, and the three rules `cargo xtask test` enforces (see [`violations`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::scan;

/// A module's path from the crate root, e.g. `["api", "entry"]`; empty for the root.
pub type ModulePath = Vec<String>;

/// One source file of a crate.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Its path as messages show it, e.g. `native/src/api/entry.rs`.
    pub shown: String,
    /// The module it holds.
    pub module: ModulePath,
    /// Its text.
    pub source: String,
}

/// One `layers <crate-dir>: a > b, c > d` line of ARCHITECTURE.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerLine {
    /// The crate's directory, e.g. `native`.
    pub crate_dir: String,
    /// The top-level modules by level, top level first.
    pub levels: Vec<Vec<String>>,
}

impl LayerLine {
    /// The index of `module`'s level (0 is the top), if the line names it.
    fn level_of(&self, module: &str) -> Option<usize> {
        self.levels
            .iter()
            .position(|level| level.iter().any(|m| m == module))
    }

    /// How messages refer to this line.
    fn shown(&self) -> String {
        format!("ARCHITECTURE.md's \"layers {}\" line", self.crate_dir)
    }
}

/// One module naming another, where it is written.
#[derive(Debug, Clone)]
struct Reference {
    file: String,
    line: usize,
    from: ModulePath,
    to: ModulePath,
    written: String,
}

impl Reference {
    /// `native/src/api/live.rs:8: api::live imports api::entry (super::entry::Entry)`.
    fn shown(&self) -> String {
        format!(
            "{}:{}: {} imports {} ({})",
            self.file,
            self.line,
            display(&self.from),
            display(&self.to),
            self.written
        )
    }
}

/// `api::entry`, or `crate` for the root.
fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// Everything wrong with `files` (one crate) against its layer line, one message per problem:
///
/// (a) the line names every top-level module and nothing else;
/// (b) a top-level module names only itself and modules of strictly lower levels;
/// (c) under every module, the submodules name each other in no cycle (a submodule naming an
///     ancestor is fine).
pub fn violations(layers: &LayerLine, files: &[SourceFile]) -> Vec<String> {
    let modules = modules(files);
    let references = references(files, &modules);
    let mut found = Vec::new();
    found.extend(listing_problems(layers, files, &modules));
    found.extend(back_imports(layers, &references));
    found.extend(cycles(layers, &modules, &references));
    found
}

/// Every module the files hold, with every ancestor.
fn modules(files: &[SourceFile]) -> BTreeSet<ModulePath> {
    let mut modules = BTreeSet::new();
    for file in files {
        for depth in 0..=file.module.len() {
            modules.insert(file.module[..depth].to_vec());
        }
    }
    modules
}

/// Every reference from one module to another (not to itself), resolved to the innermost
/// module the path goes through.
fn references(files: &[SourceFile], modules: &BTreeSet<ModulePath>) -> Vec<Reference> {
    let mut references = Vec::new();
    for file in files {
        let mut seen = BTreeSet::new();
        for path in scan::paths(&file.source) {
            let Some(absolute) = resolve(&file.module, &path.segments) else {
                continue;
            };
            let depth = (0..=absolute.len())
                .rev()
                .find(|&depth| modules.contains(&absolute[..depth]))
                .unwrap_or(0);
            let to = absolute[..depth].to_vec();
            if to == file.module || !seen.insert((path.line, to.clone())) {
                continue;
            }
            references.push(Reference {
                file: file.shown.clone(),
                line: path.line,
                from: file.module.clone(),
                to,
                written: path.segments.join("::"),
            });
        }
    }
    references
}

/// The path from the crate root that `segments` (starting with `crate`, `super` or `self`),
/// written in module `from`, names; `None` if it climbs above the root.
fn resolve(from: &[String], segments: &[String]) -> Option<Vec<String>> {
    let mut rest = segments;
    let mut base: Vec<String> = if rest.first().is_some_and(|s| s == "crate") {
        rest = &rest[1..];
        Vec::new()
    } else {
        from.to_vec()
    };
    while let Some(first) = rest.first() {
        match first.as_str() {
            "self" => {}
            "super" => {
                base.pop()?;
            }
            _ => break,
        }
        rest = &rest[1..];
    }
    // A `{self}` in a `use` group names the module before it.
    base.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(base)
}

/// Rule (a): top-level modules missing from the line, and names in it that are no module.
fn listing_problems(
    layers: &LayerLine,
    files: &[SourceFile],
    modules: &BTreeSet<ModulePath>,
) -> Vec<String> {
    let mut found = Vec::new();
    let top: BTreeSet<&str> = modules
        .iter()
        .filter(|m| m.len() == 1)
        .map(|m| m[0].as_str())
        .collect();
    for module in &top {
        if layers.level_of(module).is_none() {
            let file = files
                .iter()
                .find(|f| f.module.first().is_some_and(|m| m == module))
                .map_or(String::new(), |f| format!("{}: ", f.shown));
            found.push(format!(
                "{file}module {module} is missing from {}",
                layers.shown()
            ));
        }
    }
    let mut named = BTreeSet::new();
    for module in layers.levels.iter().flatten() {
        if !top.contains(module.as_str()) {
            found.push(format!(
                "{} names {module}, which is not a module of {}/src",
                layers.shown(),
                layers.crate_dir
            ));
        }
        if !named.insert(module) {
            found.push(format!("{} names {module} twice", layers.shown()));
        }
    }
    found
}

/// Rule (b): a top-level module naming one on its own level or above.
fn back_imports(layers: &LayerLine, references: &[Reference]) -> Vec<String> {
    let mut found = Vec::new();
    for reference in references {
        let (Some(from), Some(to)) = (reference.from.first(), reference.to.first()) else {
            continue;
        };
        if from == to {
            continue;
        }
        let (Some(from_level), Some(to_level)) = (layers.level_of(from), layers.level_of(to))
        else {
            continue;
        };
        let why = if to_level < from_level {
            format!("{to} is above {from} in {}", layers.shown())
        } else if to_level == from_level {
            format!("{to} and {from} share a level in {}", layers.shown())
        } else {
            continue;
        };
        found.push(format!(
            "{}:{}: {from} imports {to}: {} ({why})",
            reference.file, reference.line, reference.written
        ));
    }
    found
}

/// Rule (c): for every module, the cycles among its submodules, each with the references that
/// close it.
fn cycles(
    layers: &LayerLine,
    modules: &BTreeSet<ModulePath>,
    references: &[Reference],
) -> Vec<String> {
    let mut found = Vec::new();
    for parent in modules {
        let depth = parent.len();
        // Which submodule of `parent` names which, and the first reference that shows it.
        let mut edges: BTreeMap<(&str, &str), &Reference> = BTreeMap::new();
        for reference in references {
            let inside = |m: &ModulePath| m.len() > depth && m.starts_with(parent);
            if inside(&reference.from) && inside(&reference.to) {
                let (a, b) = (reference.from[depth].as_str(), reference.to[depth].as_str());
                if a != b {
                    edges.entry((a, b)).or_insert(reference);
                }
            }
        }
        for cycle in strongly_connected_cycles(&edges) {
            let whose = if parent.is_empty() {
                format!("{}/src's top-level modules", layers.crate_dir)
            } else {
                format!("the submodules of {}", display(parent))
            };
            let name = |child: &str| {
                let mut path = parent.clone();
                path.push(child.to_string());
                display(&path)
            };
            let ring: Vec<String> = cycle.iter().map(|c| name(c)).collect();
            let mut message = format!("{whose} form a cycle: {} → {}", ring.join(" → "), ring[0]);
            for (at, from) in cycle.iter().enumerate() {
                let to = cycle[(at + 1) % cycle.len()];
                message.push_str("\n    ");
                message.push_str(&edges[&(*from, to)].shown());
            }
            found.push(message);
        }
    }
    found
}

/// The cycles of the graph `edges`: in every strongly connected component of more than one
/// node, a shortest cycle through each node, each distinct cycle once (so `a ↔ b` and `b ↔ c`
/// both show, where one cycle alone would hide the other).
fn strongly_connected_cycles<'a>(
    edges: &BTreeMap<(&'a str, &'a str), &Reference>,
) -> Vec<Vec<&'a str>> {
    let nodes: BTreeSet<&str> = edges.keys().flat_map(|&(a, b)| [a, b]).collect();
    let reachable = |from: &'a str| {
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            for &(a, b) in edges.keys() {
                if a == node && seen.insert(b) {
                    queue.push_back(b);
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&str, BTreeSet<&str>> = nodes.iter().map(|&n| (n, reachable(n))).collect();
    let mut placed = BTreeSet::new();
    let mut cycles = Vec::new();
    for &start in &nodes {
        if placed.contains(start) {
            continue;
        }
        let component: BTreeSet<&str> = nodes
            .iter()
            .copied()
            .filter(|&n| reach[start].contains(n) && reach[n].contains(start))
            .collect();
        placed.extend(component.iter().copied());
        if component.len() < 2 {
            continue;
        }
        let mut seen: BTreeSet<Vec<&str>> = BTreeSet::new();
        for &node in &component {
            let cycle = shortest_cycle(node, &component, edges);
            // The same cycle found from another of its nodes is the same rotated: each is
            // shown from its first node by name.
            let mut rotation = cycle;
            let first = (0..rotation.len())
                .min_by_key(|&i| rotation[i])
                .unwrap_or(0);
            rotation.rotate_left(first);
            if seen.insert(rotation.clone()) {
                cycles.push(rotation);
            }
        }
    }
    cycles
}

/// The shortest cycle from `start` back to it inside `component` (which has one).
fn shortest_cycle<'a>(
    start: &'a str,
    component: &BTreeSet<&'a str>,
    edges: &BTreeMap<(&'a str, &'a str), &Reference>,
) -> Vec<&'a str> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(a, b) in edges.keys() {
            if a != node || !component.contains(b) {
                continue;
            }
            if b == start {
                let mut cycle = vec![node];
                while let Some(&previous) = came_from.get(cycle[cycle.len() - 1]) {
                    cycle.push(previous);
                }
                cycle.reverse();
                return cycle;
            }
            if !came_from.contains_key(b) {
                came_from.insert(b, node);
                queue.push_back(b);
            }
        }
    }
    vec![start]
}
