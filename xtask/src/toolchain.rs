//! Makes sure the Rust toolchain has what the checks need: the `rustfmt` and `clippy`
//! components and the `wasm32-unknown-unknown` target, installing them with rustup when they
//! are missing (and saying so).

use crate::cmd::{Cmd, Error, Result};

/// The WebAssembly target that flotilla-core and flotilla-web must build for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Ensures everything `cargo xtask test` needs: rustfmt, clippy and the wasm32 target.
pub fn ensure_all() -> Result {
    ensure_component("rustfmt", &["fmt", "--version"])?;
    ensure_component("clippy", &["clippy", "--version"])?;
    ensure_wasm_target()?;
    eprintln!("toolchain: rustfmt, clippy and the {WASM_TARGET} target are installed");
    Ok(())
}

/// Ensures the rustup component `component` works, probed with `cargo <probe…>`; installs it
/// with `rustup component add` if the probe fails.
pub fn ensure_component(component: &str, probe: &[&str]) -> Result {
    let probe = Cmd::cargo().args(probe);
    if probe.succeeds_quietly() {
        return Ok(());
    }
    eprintln!("toolchain: `{probe}` failed, so the `{component}` component is missing");
    require_rustup(&format!("the `{component}` component"))?;
    Cmd::new("rustup")
        .args(["component", "add", component])
        .run()?;
    if probe.succeeds_quietly() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "`rustup component add {component}` ran, but `{probe}` still fails"
        )))
    }
}

/// Ensures the `wasm32-unknown-unknown` target is installed, adding it with rustup if not.
pub fn ensure_wasm_target() -> Result {
    if !rustup_available() {
        // Without rustup (a distribution's Rust, say) the target may still be there.
        if target_libdir_exists(WASM_TARGET) {
            return Ok(());
        }
        return require_rustup(&format!("the {WASM_TARGET} target"));
    }
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .read()?;
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    eprintln!("toolchain: the {WASM_TARGET} target is not installed; adding it with rustup");
    Cmd::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .run()
}

/// Fails with a message naming `what` is missing unless rustup is on PATH.
fn require_rustup(what: &str) -> Result {
    if rustup_available() {
        Ok(())
    } else {
        Err(Error::new(format!(
            "{what} is missing and rustup, which xtask uses to install it, is not on PATH. \
             Install Rust with rustup (https://rustup.rs), or install {what} for your \
             toolchain by hand"
        )))
    }
}

fn rustup_available() -> bool {
    Cmd::new("rustup").arg("--version").succeeds_quietly()
}

/// Tells whether the active rustc has the standard library for `target` (works without rustup).
fn target_libdir_exists(target: &str) -> bool {
    let libdir = std::process::Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output();
    match libdir {
        Ok(out) if out.status.success() => {
            let dir = String::from_utf8_lossy(&out.stdout);
            std::path::Path::new(dir.trim()).is_dir()
        }
        _ => false,
    }
}
