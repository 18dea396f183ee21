//! Every command README.md shows is run here, so the README cannot fall out of step with the
//! binary: the seed's curl tour against a `flotilla demo`, the client commands, a cluster of
//! `flotilla node` processes, TLS certificates, the configuration file, and the commands named
//! in the prose.
//!
//! The README is read when the test runs. Its commands are the lines of its indented code blocks
//! (a `#` comment, whole-line or at the end, is not part of a command; a block whose first line
//! is `# NAME.EXT` is a file the commands use) and the inline code spans that start with
//! `curl`, `flotilla`, `cargo`, `python3` or `NAME=value flotilla`. Each runs through `sh` with
//! the text the README shows, except for an explicit table of substitutions: the demo's ports
//! (8000 for the API, 8001–8005 for its nodes, 8099 and 8101 for what the commands spawn) become
//! the ports of a demo started for the test, the other hosts' addresses become free loopback
//! ports, and the system paths become files in a temporary directory. A command must exit 0
//! (curl: answer 2xx) unless the README says it fails.
//!
//! A command that cannot run here is on [`NOT_RUN`] with the reason. A command that is neither
//! run nor on that list fails [`every_command_in_the_readme_is_run_or_listed_as_not_run`], and so
//! does an entry of the list the README no longer shows.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;

use flotilla_tests::demo::Demo;
use flotilla_tests::process::flotilla_bin;
use flotilla_tests::process::free_ports;
use flotilla_tests::process::get;
use flotilla_tests::process::wait_for;
use serde_json::Value;

/// Commands the README shows that this test does not run, each with the reason.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo xtask run",
        "builds everything and runs the demo on the fixed ports 8000–8005 until Ctrl-C; the demo \
         it starts is what the tour and the CLI commands run against here",
    ),
    (
        "cargo xtask run -- --nodes 7 --data-dir /tmp/flotilla",
        "as `cargo xtask run`: a demo on the fixed ports that runs until stopped",
    ),
    (
        "cargo xtask test",
        "runs every check of the project, this test included",
    ),
    (
        "flotilla demo",
        "names the command in the prose; the tour and the CLI commands run against a \
         `flotilla demo` started on free ports",
    ),
    (
        "flotilla node",
        "names the command in the prose; its command lines run in the multi-host section",
    ),
    (
        "flotilla certs",
        "names the command group in the prose; its command lines run in the multi-host section",
    ),
    (
        "cargo build --release -p flotilla",
        "a release build of the whole binary takes many minutes; the tests run the debug binary",
    ),
    (
        "curl -X DELETE -H \"Content-Type: application/json\" -d '{\"host\": \"HOST\", \"port\": \
         \"PORT\"}' MEMBER/nodes",
        "a template (HOST, PORT, MEMBER); the tour runs the same request against the demo",
    ),
    (
        "cargo xtask web",
        "builds the page for wasm32 (installing the target if missing); the browser tests build \
         and load it",
    ),
    (
        "python3 -m http.server -d web/dist 8080",
        "serves web/dist/, which only `cargo xtask web` makes, on a fixed port until stopped; the \
         browser tests serve the page from a sub-path themselves",
    ),
    (
        "cargo xtask sim --seed S --nodes N --seconds T --trace",
        "a template (S, N, T); the simulation tests run the same traces",
    ),
    (
        "cargo xtask bench",
        "the benchmarks run for minutes and need Chromium; BENCHMARKS.md records their runs",
    ),
];

/// The sections whose commands a test below runs (every command there not on [`NOT_RUN`]).
const RUN_SECTIONS: &[&str] = &[
    "The demo cluster",
    "CLI",
    "A cluster across processes or hosts",
    "Browser page",
    "Configuration and logs",
];

/// The sections whose commands run against a demo started for them (8000… become its ports).
const DEMO_SECTIONS: &[&str] = &["The demo cluster", "CLI"];

/// Held by each test that runs a section: one section's processes at a time, since a few
/// clusters of debug builds at once on a small, shared machine miss their Raft timeouts.
static ONE_SECTION_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long a process a command starts may take to bind and find (or become) a leader.
const SERVER_WAIT: Duration = Duration::from_secs(30);

/// What a file the README names under /etc holds: a token or cluster secret long enough to be
/// accepted.
const SECRET_FILE_TEXT: &str = "readme-secret-0123456789abcdef";

/// Where a command or file is shown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// The `n`th indented block of the README.
    Block(usize),
    /// Inline code in the running text of a section.
    Prose,
}

/// A command as the README shows it.
#[derive(Debug, Clone)]
struct Shown {
    /// The `## ` heading it is under.
    section: String,
    /// A block, or the prose.
    place: Place,
    /// The command, without its comment (inline code broken over lines is joined by a space).
    text: String,
}

/// A file the README shows: a block whose first line is `# NAME.EXT`.
#[derive(Debug, Clone)]
struct ShownFile {
    section: String,
    name: String,
    text: String,
}

/// The README's commands and files.
struct Readme {
    commands: Vec<Shown>,
    files: Vec<ShownFile>,
}

/// Reads README.md from the repository's root.
fn readme() -> Readme {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    parse(&text)
}

/// Splits markdown into its commands and files (see the module documentation).
fn parse(markdown: &str) -> Readme {
    let mut readme = Readme {
        commands: Vec::new(),
        files: Vec::new(),
    };
    let mut section = String::new();
    let mut block: Vec<&str> = Vec::new();
    let mut prose: Vec<&str> = Vec::new();
    let mut blocks = 0;
    let mut previous_blank = true;
    for line in markdown.lines().chain(std::iter::once("")) {
        let indented = line.strip_prefix("    ");
        match indented {
            Some(code) if previous_blank || !block.is_empty() => {
                inline_commands(&section, &prose.join(" "), &mut readme.commands);
                prose.clear();
                block.push(code);
            }
            _ if line.trim().is_empty() && !block.is_empty() => {
                // A blank line inside a block keeps it open until a non-indented line.
                block.push("");
            }
            _ => {
                if !block.is_empty() {
                    blocks += 1;
                    block_contents(&section, blocks, &block, &mut readme);
                    block.clear();
                }
                if let Some(heading) = line.strip_prefix("## ") {
                    inline_commands(&section, &prose.join(" "), &mut readme.commands);
                    prose.clear();
                    section = heading.trim().to_string();
                } else {
                    prose.push(line);
                }
            }
        }
        previous_blank = line.trim().is_empty();
    }
    if !block.is_empty() {
        block_contents(&section, blocks + 1, &block, &mut readme);
    }
    inline_commands(&section, &prose.join(" "), &mut readme.commands);
    readme
}

/// A block's commands (each line but comments), or the file it shows.
fn block_contents(section: &str, number: usize, lines: &[&str], readme: &mut Readme) {
    let end = lines
        .iter()
        .rposition(|line| !line.is_empty())
        .map_or(0, |at| at + 1);
    let lines = &lines[..end];
    let first = lines.first().copied().unwrap_or_default();
    if let Some(name) = first.strip_prefix("# ")
        && !name.contains(' ')
        && name.contains('.')
    {
        readme.files.push(ShownFile {
            section: section.to_string(),
            name: name.to_string(),
            text: lines.join("\n") + "\n",
        });
        return;
    }
    for line in lines {
        let text = without_comment(line);
        if !text.is_empty() {
            readme.commands.push(Shown {
                section: section.to_string(),
                place: Place::Block(number),
                text,
            });
        }
    }
}

/// `line` without a `#` comment (one outside quotes, at the start or after a space), trimmed.
fn without_comment(line: &str) -> String {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if previous.is_whitespace() => return line[..at].trim().to_string(),
            _ => {}
        }
        previous = c;
    }
    line.trim().to_string()
}

/// The inline code spans of `text` that are commands.
fn inline_commands(section: &str, text: &str, commands: &mut Vec<Shown>) {
    let spans: Vec<&str> = text.split('`').collect();
    for span in spans.iter().skip(1).step_by(2) {
        let span = span.split_whitespace().collect::<Vec<_>>().join(" ");
        if is_command(&span) {
            commands.push(Shown {
                section: section.to_string(),
                place: Place::Prose,
                text: span,
            });
        }
    }
}

/// Whether inline code is a command: its first word, after `NAME=value` settings, is a program
/// the README has people run.
fn is_command(span: &str) -> bool {
    let words = program_and_args(span);
    matches!(
        words.first().copied(),
        Some("curl" | "flotilla" | "cargo" | "python3")
    ) && words.len() > 1
}

/// The words of a command after any leading `NAME=value` environment settings.
fn program_and_args(command: &str) -> Vec<&str> {
    command
        .split_whitespace()
        .skip_while(|word| {
            word.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
        })
        .collect()
}

/// Why `command` is not run, if it is on [`NOT_RUN`].
fn not_run(command: &str) -> Option<&'static str> {
    NOT_RUN
        .iter()
        .find(|(text, _)| *text == command)
        .map(|(_, why)| *why)
}

#[test]
fn every_command_in_the_readme_is_run_or_listed_as_not_run() {
    let readme = readme();
    assert!(
        readme.commands.len() > 20,
        "found only {} commands: is README.md parsed right?",
        readme.commands.len()
    );
    let sections: Vec<&str> = readme.commands.iter().map(|c| c.section.as_str()).collect();
    for section in RUN_SECTIONS {
        assert!(
            sections.contains(section),
            "RUN_SECTIONS names {section:?}, which has no commands in README.md"
        );
    }
    let unrun: Vec<String> = readme
        .commands
        .iter()
        .filter(|c| not_run(&c.text).is_none() && !RUN_SECTIONS.contains(&c.section.as_str()))
        .map(|c| format!("{:?} (in {:?})", c.text, c.section))
        .collect();
    assert!(
        unrun.is_empty(),
        "README.md shows commands no test runs; run them in tests/tests/readme.rs or list them \
         in NOT_RUN with the reason:\n  {}",
        unrun.join("\n  ")
    );
    let gone: Vec<&str> = NOT_RUN
        .iter()
        .map(|(text, _)| *text)
        .filter(|text| !readme.commands.iter().any(|c| c.text == *text))
        .collect();
    assert!(
        gone.is_empty(),
        "NOT_RUN lists commands README.md no longer shows: {gone:?}"
    );
}

#[test]
fn the_parser_finds_block_commands_files_and_inline_commands() {
    let readme = parse(
        "## One\n\nRun `flotilla status --wait` or\n`FLOTILLA_X=1 flotilla node\n--help`, not \
         `GET /stats`.\n\n    # a comment\n    curl -d '{\"a\": \"#1\"}' localhost:8000  # \
         says #\n    flotilla status\n\n    flotilla node list\n\n## Two\n\n    # f.toml\n    \
         a = 1\n",
    );
    let commands: Vec<(&str, &str, &Place)> = readme
        .commands
        .iter()
        .map(|c| (c.section.as_str(), c.text.as_str(), &c.place))
        .collect();
    assert_eq!(
        commands,
        vec![
            ("One", "flotilla status --wait", &Place::Prose),
            ("One", "FLOTILLA_X=1 flotilla node --help", &Place::Prose),
            (
                "One",
                "curl -d '{\"a\": \"#1\"}' localhost:8000",
                &Place::Block(1)
            ),
            ("One", "flotilla status", &Place::Block(1)),
            ("One", "flotilla node list", &Place::Block(1)),
        ]
    );
    assert_eq!(readme.files.len(), 1);
    assert_eq!(readme.files[0].name, "f.toml");
    assert_eq!(readme.files[0].text, "# f.toml\na = 1\n");
}

/// A process a command started (`flotilla node …`, `flotilla demo …`), killed when dropped.
struct Server {
    child: Child,
    log: PathBuf,
    /// A node's address, if it speaks plain HTTP.
    plain_node: Option<String>,
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a command printed.
#[derive(Debug)]
struct Ran {
    /// The command as run (after the substitutions).
    command: String,
    /// Its stdout (for curl, the body without the status line this test adds).
    stdout: String,
}

/// Runs one section's commands in the README's order, as one shell session would: variables
/// they export stay set for the rest of the section.
struct Session {
    _turn: MutexGuard<'static, ()>,
    section: String,
    demo: Option<Demo>,
    env: BTreeMap<String, String>,
    dir: tempfile::TempDir,
    servers: usize,
    ran: Vec<Ran>,
}

impl Session {
    /// A session for `section`, with a demo if the section's commands run against one.
    fn new(section: &str) -> Session {
        // A section that failed (poisoning the lock) does not stop the others.
        let turn = ONE_SECTION_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let demo = DEMO_SECTIONS
            .contains(&section)
            .then(|| Demo::builder().start());
        let mut env = BTreeMap::new();
        if let Some(demo) = &demo {
            env.insert("FLOTILLA_API".to_string(), format!("http://{}", demo.api()));
        }
        Session {
            _turn: turn,
            section: section.to_string(),
            demo,
            env,
            dir: tempfile::tempdir().expect("temp dir"),
            servers: 0,
            ran: Vec::new(),
        }
    }

    /// Runs every command of the section that is not on [`NOT_RUN`]: each block in a directory
    /// of its own with the processes it starts running until its end, the prose's commands one
    /// by one in the section's directory (a process one starts is stopped once it is ready).
    fn run(mut self) -> Session {
        let readme = readme();
        let commands: Vec<&Shown> = readme
            .commands
            .iter()
            .filter(|c| c.section == self.section && not_run(&c.text).is_none())
            .collect();
        assert!(
            !commands.is_empty(),
            "no commands to run in {:?}",
            self.section
        );
        let mut places: Vec<&Place> = Vec::new();
        for command in &commands {
            if !places.contains(&&command.place) {
                places.push(&command.place);
            }
        }
        for place in places {
            let dir = match place {
                Place::Prose => self.dir.path().to_path_buf(),
                Place::Block(n) => self.dir.path().join(format!("block-{n}")),
            };
            std::fs::create_dir_all(&dir).expect("block directory");
            let substitutions = self.substitutions(&dir);
            for file in readme.files.iter().filter(|f| f.section == self.section) {
                let text = substitute(&file.text, &substitutions);
                std::fs::write(dir.join(&file.name), text).expect("write the README's file");
            }
            let mut running = Vec::new();
            for command in commands.iter().filter(|c| c.place == *place) {
                let text = substitute(&command.text, &substitutions);
                if let Some(server) = self.run_one(&text, &dir)
                    && *place != Place::Prose
                {
                    running.push(server);
                }
            }
            one_cluster(&running);
        }
        self
    }

    /// The substitutions for commands run in `dir`: the demo's ports (if any) and free ports for
    /// what they spawn, free loopback ports for the other hosts, files in `dir` for system
    /// paths (the secret files written).
    fn substitutions(&self, dir: &Path) -> Vec<(String, String)> {
        let mut table = Vec::new();
        if let Some(demo) = &self.demo {
            let port = |addr: &str| addr.rsplit_once(':').expect("host:port").1.to_string();
            table.push(("8000".to_string(), port(&demo.api())));
            for (n, node) in demo.nodes().iter().enumerate() {
                table.push((format!("{}", 8001 + n), port(node)));
            }
            table.push(("8099".to_string(), free_ports(1).to_string()));
            table.push(("8101".to_string(), free_ports(3).to_string()));
        }
        for host in 1..=3 {
            table.push((
                format!("10.0.0.{host}:7001"),
                format!("127.0.0.1:{}", free_ports(1)),
            ));
        }
        table.push(("10.0.0.1".to_string(), "127.0.0.1".to_string()));
        let path = |name: &str| dir.join(name).to_str().expect("UTF-8 path").to_string();
        for (shown, file) in [
            ("/etc/flotilla/token", "token"),
            ("/etc/flotilla/secret", "secret"),
        ] {
            std::fs::write(dir.join(file), SECRET_FILE_TEXT).expect("write a secret file");
            table.push((shown.to_string(), path(file)));
        }
        table.push(("/var/lib/flotilla".to_string(), path("data")));
        table.push((
            "/etc/bash_completion.d/flotilla".to_string(),
            path("flotilla.bash"),
        ));
        table
    }

    /// Runs one command in `dir`: an `export` sets the variable for the rest of the section, a
    /// `flotilla node` or `flotilla demo` starts a process (returned once it is ready), curl
    /// must get a 2xx answer, anything else must exit 0.
    fn run_one(&mut self, text: &str, dir: &Path) -> Option<Server> {
        if let Some(assignment) = text.strip_prefix("export ") {
            let name = assignment.split_once('=').expect("export NAME=VALUE").0;
            let out = self.shell(&format!("{text} && printenv {name}"), dir);
            assert_eq!(out.0, 0, "{text}: {}", out.2);
            self.env.insert(name.to_string(), out.1.trim().to_string());
            return None;
        }
        if is_server(text) {
            return Some(self.start_server(text, dir));
        }
        let curl = program_and_args(text).first() == Some(&"curl");
        let run = if curl {
            format!("{text} -sS -w '\\n%{{http_code}}'")
        } else {
            text.to_string()
        };
        let (code, stdout, stderr) = self.shell(&run, dir);
        assert_eq!(
            code, 0,
            "README command {text:?} exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        let stdout = if curl {
            let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
            assert!(
                status.starts_with('2'),
                "README command {text:?} got HTTP {status}: {body}"
            );
            body.to_string()
        } else {
            stdout
        };
        self.ran.push(Ran {
            command: text.to_string(),
            stdout,
        });
        None
    }

    /// Runs `text` with `sh -c` in `dir`, `flotilla` on the PATH and the session's variables
    /// (none of the caller's own `FLOTILLA_…`): exit code, stdout, stderr.
    fn shell(&self, text: &str, dir: &Path) -> (i32, String, String) {
        let output = self
            .command(text, dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run sh");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// `sh -c text` in `dir` with the session's environment.
    fn command(&self, text: &str, dir: &Path) -> Command {
        let bin_dir = flotilla_bin()
            .parent()
            .expect("the binary's directory")
            .to_path_buf();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin_dir];
        paths.extend(std::env::split_paths(&path));
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(text)
            .current_dir(dir)
            .stdin(Stdio::null())
            .env("PATH", std::env::join_paths(paths).expect("a PATH"))
            .env_remove("RUST_LOG");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("FLOTILLA_") {
                command.env_remove(name);
            }
        }
        command.envs(&self.env);
        command
    }

    /// Starts a `flotilla node` or `flotilla demo` command and waits until it has bound its
    /// ports (a port file asked for through `FLOTILLA_PORT_FILE`) and, unless it speaks TLS,
    /// until it has a leader. A demo gets `FLOTILLA_PORT=0`: the README's runs on port 8000.
    fn start_server(&mut self, text: &str, dir: &Path) -> Server {
        self.servers += 1;
        let name = format!("server-{}", self.servers);
        let ports = dir.join(format!("{name}.ports"));
        let log = dir.join(format!("{name}.log"));
        let demo = program_and_args(text).get(1) == Some(&"demo");
        // `NAME=value exec flotilla …`: the process is flotilla itself, with the settings.
        let settings = text.split_whitespace().count() - program_and_args(text).len();
        let words: Vec<&str> = text.splitn(settings + 1, ' ').collect();
        let exec = match words.split_last() {
            Some((program, settings)) => format!("{} exec {program}", settings.join(" ")),
            None => unreachable!("splitn yields at least one piece"),
        };
        let mut command = self.command(&exec, dir);
        command
            .env("FLOTILLA_PORT_FILE", &ports)
            .stdout(std::fs::File::create(&log).expect("log file"))
            .stderr(
                std::fs::File::options()
                    .append(true)
                    .open(&log)
                    .expect("log"),
            );
        if demo {
            command.env("FLOTILLA_PORT", "0");
        }
        let mut server = Server {
            child: command.spawn().expect("start sh"),
            log,
            plain_node: None,
        };
        let bound: Value = wait_for(SERVER_WAIT, &format!("{text:?} to bind"), || {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "README command {text:?} ended ({status}):\n{}",
                    server.log()
                );
            }
            serde_json::from_str(&std::fs::read_to_string(&ports).ok()?).ok()
        });
        let tls = text.contains("--tls-cert") || self.env.contains_key("FLOTILLA_TLS_CERT");
        if demo {
            let api = bound["api"].as_str().expect("the demo's API").to_string();
            wait_for(SERVER_WAIT, &format!("a leader in {text:?}"), || {
                get(&api, "/clusters/0/stats").1["leader"]
                    .is_object()
                    .then_some(())
            });
        } else if tls {
            let addr = bound["addr"].as_str().expect("the node's address");
            assert!(
                TcpStream::connect(addr).is_ok(),
                "{text:?} listens on {addr}"
            );
        } else {
            let addr = bound["addr"]
                .as_str()
                .expect("the node's address")
                .to_string();
            wait_for(SERVER_WAIT, &format!("{text:?} to know a leader"), || {
                let (_, stats) = get(&addr, "/stats");
                (!stats["leader"].is_null()).then_some(())
            });
            server.plain_node = Some(addr);
        }
        self.ran.push(Ran {
            command: text.to_string(),
            stdout: bound.to_string(),
        });
        server
    }

    /// What the command that ran as `command` printed (the last run of it).
    fn output_of(&self, command: &str) -> &str {
        self.ran
            .iter()
            .rev()
            .find(|ran| ran.command == command)
            .map(|ran| ran.stdout.as_str())
            .unwrap_or_else(|| {
                let ran: Vec<&str> = self.ran.iter().map(|r| r.command.as_str()).collect();
                panic!("{command:?} did not run; these did: {ran:#?}")
            })
    }
}

/// Checks that the plain-HTTP nodes one block started (if several) form one cluster: the first
/// lists them all as members.
fn one_cluster(servers: &[Server]) {
    let nodes: Vec<&String> = servers
        .iter()
        .filter_map(|s| s.plain_node.as_ref())
        .collect();
    if nodes.len() < 2 {
        return;
    }
    wait_for(
        SERVER_WAIT,
        "the nodes a block started to form one cluster",
        || {
            let (_, stats) = get(nodes[0], "/stats");
            let members = stats["members"].as_object()?;
            (members.len() == nodes.len()).then_some(())
        },
    );
}

/// Whether `command` starts a long-running process: `flotilla node` or `flotilla demo` with
/// flags (not a client subcommand such as `node list`, nor `--help`).
fn is_server(command: &str) -> bool {
    let words = program_and_args(command);
    let runs = matches!(words.get(..2), Some(["flotilla", "node" | "demo"]));
    let client = words.get(2).is_some_and(|word| !word.starts_with('-'));
    runs && !client && !words.iter().any(|w| *w == "--help" || *w == "-h")
}

/// `text` with each `from` of `table` (not inside a longer number or name) replaced by its `to`,
/// earlier entries first.
fn substitute(text: &str, table: &[(String, String)]) -> String {
    let mut text = text.to_string();
    for (from, to) in table {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(from.as_str()) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + from.len()..].chars().next();
            let inside = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            out.push_str(&rest[..at]);
            if inside(before) || inside(after) {
                out.push_str(from);
            } else {
                out.push_str(to);
            }
            rest = &rest[at + from.len()..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

#[test]
fn substitutions_touch_whole_ports_and_paths_only() {
    let table = [
        ("8000".to_string(), "31000".to_string()),
        ("10.0.0.1:7001".to_string(), "127.0.0.1:31001".to_string()),
        ("10.0.0.1".to_string(), "127.0.0.1".to_string()),
    ];
    assert_eq!(
        substitute(
            "curl localhost:8000/x -d '{\"port\":8000}' 18000 80001 --host 10.0.0.1 10.0.0.1:7001",
            &table
        ),
        "curl localhost:31000/x -d '{\"port\":31000}' 18000 80001 --host 127.0.0.1 \
         127.0.0.1:31001"
    );
}

#[test]
fn the_demo_clusters_curl_tour_works_against_a_demo() {
    let session = Session::new("The demo cluster").run();
    let demo = session.demo.as_ref().expect("a demo");
    // The tour's last command shows the link it cut.
    let links: Value =
        serde_json::from_str(session.output_of(&format!("curl {}/connections", demo.node(4))))
            .expect("the links as JSON");
    assert_eq!(links[demo.node(2)], 0, "{links}");
    // The service of 99 replicas, the web service made with a key, and the node that left.
    let state = demo.state();
    let labels: Vec<&str> = state["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert_eq!(labels, ["description", "web"], "{state}");
    let nodes = state["nodes"].as_array().unwrap();
    assert!(
        nodes.iter().all(|n| n["addr"] != demo.node(1).as_str()),
        "{state}"
    );
}

#[test]
fn the_cli_commands_work_against_a_demo() {
    let session = Session::new("CLI").run();
    let demo = session.demo.as_ref().expect("a demo");
    // The completion script went where the README sends it (to the file standing in for it).
    let scripts: Vec<String> = std::fs::read_dir(session.dir.path())
        .expect("the session's directory")
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("flotilla.bash")).ok())
        .collect();
    assert!(
        scripts.len() == 1 && scripts[0].contains("complete"),
        "one completion script: {scripts:?}"
    );
    let (_, clusters) = get(&demo.api(), "/clusters");
    assert_eq!(clusters["clusters"][1]["id"], "side", "{clusters}");
}

#[test]
fn the_multi_host_commands_work_on_loopback() {
    let session = Session::new("A cluster across processes or hosts").run();
    let stats: Value = serde_json::from_str(
        session
            .ran
            .iter()
            .rev()
            .find(|ran| ran.command.starts_with("curl --cacert"))
            .map(|ran| ran.stdout.as_str())
            .expect("the curl over TLS ran"),
    )
    .expect("/stats as JSON");
    assert_eq!(stats["id"], 1, "{stats}");
}

#[test]
fn the_browser_pages_demo_command_works() {
    Session::new("Browser page").run();
}

#[test]
fn the_configuration_file_and_commands_work() {
    let session = Session::new("Configuration and logs").run();
    let started: Vec<&str> = session.ran.iter().map(|ran| ran.command.as_str()).collect();
    assert_eq!(
        started,
        [
            "flotilla node --config flotilla.toml",
            "FLOTILLA_HEARTBEAT_MS=75 flotilla node --config flotilla.toml"
        ]
    );
}
