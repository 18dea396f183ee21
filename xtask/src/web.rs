//! `cargo xtask web`: builds the browser page into `web/dist/` — index.html, CSS, JS modules,
//! the wasm and its JS glue — ready for any static file server, at any sub-path.
//!
//! Steps: make sure the wasm32 target is installed; build flotilla-web for it with the
//! `wasm-release` profile (size-optimised, see the root Cargo.toml); generate the JS glue with
//! `wasm-bindgen-cli-support`, a library pinned to exactly flotilla-web's wasm-bindgen version, so
//! no CLI has to be installed or kept in step; copy the static files from `web/www/`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cmd::{Cmd, Error, Result, workspace_root};
use crate::toolchain::{self, WASM_TARGET};

/// The cargo profile the wasm is built with (defined in the root Cargo.toml).
pub const PROFILE: &str = "wasm-release";

/// The base name of the generated files: `flotilla_web.js` and `flotilla_web_bg.wasm`.
pub const OUT_NAME: &str = "flotilla_web";

/// Where the page is built: `web/dist/` (ignored by git).
pub fn dist_dir() -> PathBuf {
    workspace_root().join("web").join("dist")
}

/// The static files of the page, copied as they are.
pub fn www_dir() -> PathBuf {
    workspace_root().join("web").join("www")
}

/// Builds `web/dist/` and prints the size of what a browser downloads.
pub fn run() -> Result {
    toolchain::ensure_wasm_target()?;
    Cmd::cargo()
        .args([
            "build",
            "--package",
            "flotilla-web",
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            PROFILE,
        ])
        .run()?;
    let wasm = target_dir()
        .join(WASM_TARGET)
        .join(PROFILE)
        .join("flotilla_web.wasm");
    let dist = dist_dir();
    if dist.exists() {
        fs::remove_dir_all(&dist)
            .map_err(|e| Error::new(format!("cannot clear {}: {e}", dist.display())))?;
    }
    fs::create_dir_all(&dist)
        .map_err(|e| Error::new(format!("cannot create {}: {e}", dist.display())))?;
    eprintln!("web: generating the JS glue for {}", wasm.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name(OUT_NAME)
        .web(true)
        .and_then(|bindgen| {
            bindgen
                .typescript(false)
                // Function names are for debuggers; visitors download less without them.
                .remove_name_section(true)
                .remove_producers_section(true)
                // `init()` with no argument then fetches the wasm next to the glue.
                .omit_default_module_path(false)
                .generate(&dist)
        })
        .map_err(|e| Error::new(format!("wasm-bindgen failed on {}: {e:#}", wasm.display())))?;
    copy_dir(&www_dir(), &dist)?;
    report_sizes(&dist)
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Copies every file under `from` into `to`, keeping sub-directories.
fn copy_dir(from: &Path, to: &Path) -> Result {
    let entries = fs::read_dir(from)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", from.display())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::new(format!("cannot read {}: {e}", from.display())))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            fs::create_dir_all(&target)
                .map_err(|e| Error::new(format!("cannot create {}: {e}", target.display())))?;
            copy_dir(&source, &target)?;
        } else {
            fs::copy(&source, &target).map_err(|e| {
                Error::new(format!(
                    "cannot copy {} to {}: {e}",
                    source.display(),
                    target.display()
                ))
            })?;
        }
    }
    Ok(())
}

/// Prints each file's size in `dist`, with the gzipped size of the wasm when `gzip` is on PATH
/// (what a server with compression sends; the goal is at most 400 KB).
fn report_sizes(dist: &Path) -> Result {
    let mut files: Vec<(String, u64)> = Vec::new();
    collect_sizes(dist, dist, &mut files)?;
    files.sort();
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    for (name, size) in &files {
        eprintln!("web: {size:>9} bytes  {name}");
    }
    eprintln!("web: {total:>9} bytes  in all, in {}", dist.display());
    let wasm = dist.join(format!("{OUT_NAME}_bg.wasm"));
    if let Some(gzipped) = gzipped_size(&wasm) {
        eprintln!("web: {gzipped:>9} bytes  {OUT_NAME}_bg.wasm gzipped (-9)");
    }
    Ok(())
}

fn collect_sizes(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> Result {
    let entries =
        fs::read_dir(dir).map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_sizes(root, &path, out)?;
        } else {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.push((name, entry.metadata().map_or(0, |m| m.len())));
        }
    }
    Ok(())
}

/// The size of `file` compressed by `gzip -9`, or `None` without a working `gzip`.
pub fn gzipped_size(file: &Path) -> Option<u64> {
    let bytes = fs::read(file).ok()?;
    let mut child = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    // Written from a thread: gzip's output pipe would fill up while we still write its input.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_sources_are_where_the_build_looks() {
        assert!(www_dir().join("index.html").is_file());
        assert!(dist_dir().ends_with("web/dist"));
    }
}
