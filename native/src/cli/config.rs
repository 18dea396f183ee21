//! Where flag values come from besides the command line: a `FLOTILLA_…` environment variable for
//! every flag, and an optional TOML file (`--config PATH`, or `FLOTILLA_CONFIG`). A value given
//! in several places is taken from the first of: the command line, the environment, the file,
//! the flag's default.
//!
//! The file names flags by their long name, with dashes or underscores (`heartbeat-ms` or
//! `heartbeat_ms`). Keys at the top apply to whichever command runs, when it has that flag;
//! keys under a `[demo]`, `[node]` (or any other command's) table apply to that command only
//! (`[node]` to `flotilla node` running a node, not to `flotilla node add`).
//! A key no command knows, a value of the wrong kind or an unreadable file is an error that names
//! the file and the key.
//!
//! How: the command line is parsed once leniently to learn which flags it sets and which
//! command runs; each file value for a flag that neither the command line nor its environment
//! variable sets is appended to the arguments as `--flag value`, and the result is parsed for
//! real, so clap validates file values exactly as it validates flags.

use std::ffi::OsString;
use std::path::Path;
use std::path::PathBuf;

use clap::ArgMatches;
use clap::parser::ValueSource;

/// The environment variable that names the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "FLOTILLA_CONFIG";

/// The long name of the flag that names the config file.
const CONFIG_FLAG: &str = "config";

/// The environment variable that sets flag `--long-name`: `FLOTILLA_LONG_NAME`.
pub fn env_var_for(long: &str) -> String {
    format!("FLOTILLA_{}", long.replace('-', "_").to_uppercase())
}

/// Gives every flag of `command` and of all its subcommands, at any depth, its environment
/// variable ([`env_var_for`]), unless it has one already. `--help` and `--version` get none.
pub fn with_env_vars(command: clap::Command) -> clap::Command {
    let command = command.mut_args(|arg| {
        let named = arg.get_long().map(str::to_string);
        match named {
            Some(long)
                if arg.get_env().is_none()
                    && long != "help"
                    && long != "version"
                    && arg.get_id() != "help"
                    && arg.get_id() != "version" =>
            {
                arg.env(env_var_for(&long))
            }
            _ => arg,
        }
    });
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    names.into_iter().fold(command, |command, name| {
        command.mut_subcommand(name, with_env_vars)
    })
}

/// Parses `args` (the program name first) into `T`, with environment variables and the config
/// file as described in the module documentation. Errors are clap's, ready to print and exit
/// with (a problem with the file is a clap error of kind `InvalidValue` naming file and key).
pub fn parse_from<T: clap::Parser>(args: Vec<OsString>) -> Result<T, clap::Error> {
    let command = with_env_vars(T::command());
    let lenient = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(args.clone())?;
    let file = config_path(&lenient);
    let mut args = args;
    let mut from_file = Vec::new();
    if let Some(path) = file {
        let chain = running_chain(&command, &lenient);
        let values = read_file(&path, &command, &chain)?;
        for value in values {
            if set_elsewhere(&chain, &value.id) {
                continue;
            }
            args.extend(value.as_args());
            from_file.push(value);
        }
    }
    let matches = command.try_get_matches_from(args).map_err(|err| {
        // Say where a bad value came from when the file gave it.
        match culprit(&err, &from_file) {
            Some(value) => clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!(
                    "{}(the value came from key `{}` in {})\n",
                    err.render().to_string().trim_start_matches("error: "),
                    value.key,
                    value.file.display()
                ),
            ),
            None => err,
        }
    })?;
    T::from_arg_matches(&matches)
}

/// Parses the process's own command line (see [`parse_from`]); on an error, prints it and exits
/// as clap does (status 2; 0 for `--help` and `--version`).
pub fn parse<T: clap::Parser>() -> T {
    parse_from(std::env::args_os().collect()).unwrap_or_else(|err| err.exit())
}

/// The config file named by `--config` (at any level) or [`CONFIG_ENV`] (which `--config`'s
/// environment variable is).
fn config_path(matches: &ArgMatches) -> Option<PathBuf> {
    let mut level = Some(matches);
    while let Some(current) = level {
        if let Ok(Some(path)) = current.try_get_one::<PathBuf>(CONFIG_FLAG) {
            return Some(path.clone());
        }
        level = current.subcommand().map(|(_, sub)| sub);
    }
    None
}

/// The commands that run, outermost first, each with the matches of its own arguments: e.g.
/// `flotilla`, then `node`.
fn running_chain(
    command: &clap::Command,
    matches: &ArgMatches,
) -> Vec<(clap::Command, ArgMatches)> {
    let mut chain = vec![(command.clone(), matches.clone())];
    while let Some((command, matches)) = chain.last() {
        let Some((name, sub_matches)) = matches.subcommand() else {
            break;
        };
        let Some(sub) = command.find_subcommand(name) else {
            break;
        };
        let next = (sub.clone(), sub_matches.clone());
        chain.push(next);
    }
    chain
}

/// Whether the command line or the environment already sets the flag `id` of some running
/// command.
fn set_elsewhere(chain: &[(clap::Command, ArgMatches)], id: &str) -> bool {
    chain.iter().any(|(command, matches)| {
        command.get_arguments().any(|arg| arg.get_id() == id)
            && matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
    })
}

/// One flag value the file gives.
#[derive(Debug, Clone)]
struct FileValue {
    /// The file it is in.
    file: PathBuf,
    /// The key as written (`demo.port` for a key in a table).
    key: String,
    /// The flag's clap id.
    id: String,
    /// The flag's long name.
    long: String,
    /// Its values: one, or several for a repeatable flag; for a switch, `true` or `false`.
    values: Vec<String>,
    /// Whether the flag is a switch (takes no value).
    switch: bool,
}

impl FileValue {
    /// The command-line arguments that give this value.
    fn as_args(&self) -> Vec<OsString> {
        if self.switch {
            return if self.values.iter().any(|value| value == "true") {
                vec![OsString::from(format!("--{}", self.long))]
            } else {
                Vec::new()
            };
        }
        self.values
            .iter()
            .map(|value| OsString::from(format!("--{}={value}", self.long)))
            .collect()
    }
}

/// Reads the file's values for the running commands (`chain`). Errors name the file and key.
fn read_file(
    path: &Path,
    root: &clap::Command,
    chain: &[(clap::Command, ArgMatches)],
) -> Result<Vec<FileValue>, clap::Error> {
    let fail = |message: String| {
        clap::Error::raw(
            clap::error::ErrorKind::InvalidValue,
            format!("config file {}: {message}\n", path.display()),
        )
    };
    let text =
        std::fs::read_to_string(path).map_err(|err| fail(format!("cannot read it: {err}")))?;
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| fail(format!("not valid TOML: {err}")))?;
    // The command that runs (the deepest: `node` for `flotilla node --id 1`, `add` for
    // `flotilla node add`) takes file values, and so do the flags of `flotilla` itself, which
    // every command shares (`--log-format`); a parent's own flags do not apply to a subcommand.
    let running: Vec<&clap::Command> = match (chain.first(), chain.last()) {
        (Some((root, _)), Some((deepest, _))) if chain.len() > 1 => vec![root, deepest],
        (Some((root, _)), _) => vec![root],
        _ => Vec::new(),
    };
    let mut values = Vec::new();
    for (key, value) in &table {
        if let toml::Value::Table(section) = value {
            let Some(owner) = find_command(root, key) else {
                return Err(fail(format!(
                    "`[{key}]` is not a flotilla command (tables name one: [demo], [node], …)"
                )));
            };
            if !running
                .iter()
                .any(|command| command.get_name() == owner.get_name())
            {
                continue;
            }
            for (flag, value) in section {
                let full = format!("{key}.{flag}");
                let arg = find_flag(owner, flag).ok_or_else(|| {
                    fail(format!(
                        "key `{full}`: `flotilla {key}` has no flag --{}",
                        dashed(flag)
                    ))
                })?;
                values.push(file_value(path, &full, arg, value).map_err(fail)?);
            }
            continue;
        }
        let arg = running
            .iter()
            .rev()
            .find_map(|command| find_flag(command, key));
        match arg {
            Some(arg) => values.push(file_value(path, key, arg, value).map_err(fail)?),
            None if any_command_has(root, key) => {}
            None => {
                return Err(fail(format!(
                    "key `{key}`: no flotilla command has a flag --{}",
                    dashed(key)
                )));
            }
        }
    }
    Ok(values)
}

/// `key` with underscores turned into dashes, as flags are spelled.
fn dashed(key: &str) -> String {
    key.replace('_', "-")
}

/// The subcommand called `name`, at any depth under `root`.
fn find_command<'a>(root: &'a clap::Command, name: &str) -> Option<&'a clap::Command> {
    root.get_subcommands().find_map(|sub| {
        if sub.get_name() == name {
            Some(sub)
        } else {
            find_command(sub, name)
        }
    })
}

/// The flag of `command` whose long name is `key` (dashes or underscores), not `--config`.
fn find_flag<'a>(command: &'a clap::Command, key: &str) -> Option<&'a clap::Arg> {
    let long = dashed(key);
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long.as_str()) && long != CONFIG_FLAG)
}

/// Whether any command under `root` (or `root`) has the flag `key`.
fn any_command_has(root: &clap::Command, key: &str) -> bool {
    find_flag(root, key).is_some() || root.get_subcommands().any(|sub| any_command_has(sub, key))
}

/// The file's `value` for `arg`, checked for its kind.
fn file_value(
    path: &Path,
    key: &str,
    arg: &clap::Arg,
    value: &toml::Value,
) -> Result<FileValue, String> {
    let switch = !arg.get_action().takes_values();
    let repeatable = matches!(arg.get_action(), clap::ArgAction::Append);
    let scalar = |value: &toml::Value| -> Result<String, String> {
        match value {
            toml::Value::String(text) => Ok(text.clone()),
            toml::Value::Integer(number) => Ok(number.to_string()),
            toml::Value::Float(number) => Ok(number.to_string()),
            toml::Value::Boolean(flag) => Ok(flag.to_string()),
            other => Err(format!(
                "key `{key}`: expected a string, number or boolean, found {}",
                other.type_str()
            )),
        }
    };
    let values = match value {
        toml::Value::Boolean(flag) if switch => vec![flag.to_string()],
        _ if switch => {
            return Err(format!(
                "key `{key}`: --{} is a switch: write true or false",
                arg.get_long().unwrap_or(key)
            ));
        }
        toml::Value::Array(items) if repeatable => {
            items.iter().map(scalar).collect::<Result<_, _>>()?
        }
        toml::Value::Array(_) => {
            return Err(format!(
                "key `{key}`: --{} takes one value, not a list",
                arg.get_long().unwrap_or(key)
            ));
        }
        other => vec![scalar(other)?],
    };
    Ok(FileValue {
        file: path.to_path_buf(),
        key: key.to_string(),
        id: arg.get_id().to_string(),
        long: arg.get_long().unwrap_or(key).to_string(),
        values,
        switch,
    })
}

/// The file value a clap error is about, if it is about one.
fn culprit<'a>(err: &clap::Error, from_file: &'a [FileValue]) -> Option<&'a FileValue> {
    let clap::error::ContextValue::String(arg) = err.get(clap::error::ContextKind::InvalidArg)?
    else {
        return None;
    };
    from_file
        .iter()
        .find(|value| arg.split_whitespace().next() == Some(&format!("--{}", value.long)))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::cli::Cli;
    use crate::cli::Command;
    use crate::cli::LogFormat;
    use crate::cli::NodeCommand;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(text.as_bytes()).expect("written");
        file
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        parse_from(args.iter().map(OsString::from).collect())
    }

    fn demo(cli: Cli) -> crate::cli::DemoArgs {
        match cli.command {
            Command::Demo(args) => args,
            other => panic!("not a demo: {other:?}"),
        }
    }

    #[test]
    fn file_values_fill_what_the_command_line_leaves_and_tables_apply_to_their_command() {
        let config = file(
            "nodes = 3\nheartbeat_ms = 70\nlog-format = \"json\"\n[demo]\ncapacity = 7\n[node]\ncapacity = 9\n",
        );
        let path = config.path().to_str().unwrap();
        let cli = parse(&["flotilla", "demo", "--config", path, "--nodes", "4"]).expect("parses");
        assert_eq!(cli.log_format, LogFormat::Json);
        let args = demo(cli);
        assert_eq!(args.nodes, 4, "the command line wins");
        assert_eq!(args.capacity, 7, "[demo] applies to demo, [node] does not");
        assert_eq!(
            args.common.timing.heartbeat_ms, 70,
            "underscores name flags too"
        );
        assert_eq!(args.port, 8000, "what neither sets keeps its default");
    }

    #[test]
    fn a_node_takes_its_table_and_a_node_subcommand_does_not() {
        let config = file("[node]\nid = 4\nlisten = \"localhost:0\"\ncapacity = 9\n");
        let path = config.path().to_str().unwrap();
        let cli = parse(&["flotilla", "node", "--config", path]).expect("parses");
        let Command::Node(NodeCommand::Run(args)) = cli.command else {
            panic!("not a node");
        };
        assert_eq!((args.id, args.capacity), (4, 9));
        assert_eq!(args.listen, "localhost:0");
        let cli = parse(&["flotilla", "node", "list", "--config", path]).expect("parses");
        assert!(matches!(cli.command, Command::Node(NodeCommand::Manage(_))));
    }

    #[test]
    fn a_bad_file_is_an_error_naming_file_and_key() {
        let cases = [
            ("nodez = 3\n", "nodez"),
            ("nodes = \"many\"\n", "nodes"),
            ("[demo]\nlisten = \"x\"\n", "demo.listen"),
            ("[dmeo]\nport = 1\n", "[dmeo]"),
            ("insecure = \"yes\"\n", "insecure"),
            ("cors-origin = 3\nnodes = [1, 2]\n", "nodes"),
            ("port = \n", "TOML"),
        ];
        for (text, named) in cases {
            let config = file(text);
            let path = config.path().to_str().unwrap();
            let err = parse(&["flotilla", "demo", "--config", path])
                .map(|cli| format!("{cli:?}"))
                .expect_err(text);
            let message = err.to_string();
            assert!(message.contains(named), "{text:?}: {message}");
            assert!(
                message.contains(path) || message.contains("TOML"),
                "{text:?}: {message}"
            );
        }
        let err = parse(&["flotilla", "demo", "--config", "/nonexistent/flotilla.toml"])
            .map(|cli| format!("{cli:?}"))
            .expect_err("missing file");
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[test]
    fn repeatable_flags_take_lists_and_switches_take_booleans() {
        let config = file("allowed-host = [\"a.example\", \"b.example\"]\ninsecure = true\n");
        let path = config.path().to_str().unwrap();
        let args = demo(parse(&["flotilla", "demo", "--config", path]).expect("parses"));
        assert_eq!(
            args.common.security.allowed_host,
            vec!["a.example".to_string(), "b.example".to_string()]
        );
        assert!(args.common.security.insecure);
    }

    #[test]
    fn every_flag_has_its_environment_variable() {
        let command = with_env_vars(<Cli as clap::CommandFactory>::command());
        let demo = command.find_subcommand("demo").expect("demo");
        let env = |long: &str| {
            demo.get_arguments()
                .find(|arg| arg.get_long() == Some(long))
                .and_then(|arg| arg.get_env())
                .map(|name| name.to_string_lossy().into_owned())
        };
        assert_eq!(
            env("heartbeat-ms").as_deref(),
            Some("FLOTILLA_HEARTBEAT_MS")
        );
        assert_eq!(
            env("max-services").as_deref(),
            Some("FLOTILLA_MAX_SERVICES")
        );
        assert_eq!(env("token").as_deref(), Some("FLOTILLA_TOKEN"));
        for arg in demo.get_arguments() {
            if arg.get_long().is_some_and(|long| long != "help") {
                assert!(arg.get_env().is_some(), "--{:?} has none", arg.get_long());
            }
        }
    }
}
