//! Runs the `flotilla` binary's client commands (`flotilla status`, `service …`) as a script
//! would, and reads what they print: the exit code, stdout and stderr ([`run_cli`]), and the
//! tables, checked to be aligned column by column ([`read_table`]).

use std::collections::BTreeMap;
use std::process::Command;
use std::process::Stdio;

use crate::process::flotilla_bin;

/// What one client command did.
#[derive(Debug, Clone)]
pub struct CliRun {
    /// Its exit code (-1 if a signal ended it).
    pub code: i32,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl CliRun {
    /// Panics, showing both outputs, unless the command exited with `code`.
    pub fn expect_code(&self, code: i32, what: &str) -> &CliRun {
        assert_eq!(
            self.code, code,
            "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// stdout as JSON (panics, showing it, if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }
}

/// Runs `flotilla ARGS` with `FLOTILLA_TOKEN` set to `token` (or unset), and none of the other
/// `FLOTILLA_…` variables the client reads, so the test's own environment cannot change it.
/// Its stdin is empty and its stdout and stderr are pipes (so it shows no spinner).
pub fn run_cli(args: &[&str], token: Option<&str>) -> CliRun {
    let mut command = Command::new(flotilla_bin());
    command
        .args(args)
        .env_remove("FLOTILLA_TOKEN")
        .env_remove("FLOTILLA_API")
        .env_remove("FLOTILLA_TLS_CA")
        .stdin(Stdio::null());
    if let Some(token) = token {
        command.env("FLOTILLA_TOKEN", token);
    }
    let output = command.output().expect("run flotilla");
    CliRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The table in `text` whose heading line starts with `first_heading`, as one map per row from
/// heading to cell. Panics unless every cell of every row starts exactly under its heading, with
/// at least two spaces before it (the table ends at the first blank line or the end).
pub fn read_table(text: &str, first_heading: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text
        .lines()
        .skip_while(|line| line.split_whitespace().next() != Some(first_heading));
    let heading = lines
        .next()
        .unwrap_or_else(|| panic!("no table headed {first_heading:?} in:\n{text}"));
    let starts = column_starts(heading);
    let names: Vec<String> = heading.split_whitespace().map(str::to_string).collect();
    assert_eq!(
        starts.len(),
        names.len(),
        "headings are single words: {heading:?}"
    );
    let mut rows = Vec::new();
    for line in lines.take_while(|line| !line.trim().is_empty()) {
        let chars: Vec<char> = line.chars().collect();
        let mut row = BTreeMap::new();
        for (column, start) in starts.iter().enumerate() {
            let aligned = chars.get(*start).is_some_and(|c| !c.is_whitespace())
                && (*start == 0 || chars[start - 2..*start].iter().all(|c| *c == ' '));
            assert!(
                aligned,
                "column {:?} of {line:?} does not start at {start}, under its heading:\n{text}",
                names[column]
            );
            let end = starts.get(column + 1).copied().unwrap_or(chars.len());
            let cell: String = chars[*start..end.min(chars.len())].iter().collect();
            row.insert(names[column].clone(), cell.trim().to_string());
        }
        rows.push(row);
    }
    rows
}

/// Where each heading of a heading line starts.
fn column_starts(heading: &str) -> Vec<usize> {
    let chars: Vec<char> = heading.chars().collect();
    (0..chars.len())
        .filter(|&i| !chars[i].is_whitespace() && (i == 0 || chars[i - 1].is_whitespace()))
        .collect()
}
