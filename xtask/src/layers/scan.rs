//! Reading one source file for the layer check: the module paths it names (`crate::…`,
//! `super::…`, `self::…`, `use` groups included), with their lines, ignoring comments, string
//! literals and the unit tests at the end of the file.

/// One path a file names, as written but split into segments, e.g. `["super", "live", "Live"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPath {
    /// The 1-based line it starts on.
    pub line: usize,
    /// Its segments, starting with `crate`, `super` or `self`.
    pub segments: Vec<String>,
}

/// Every `crate::`, `super::` and `self::` path in `source`, in order. Comments (doc comments
/// included), string and character literals are not code and name nothing; scanning stops at
/// the unit tests (see [`without_unit_tests`]).
pub fn paths(source: &str) -> Vec<RawPath> {
    let code = without_unit_tests(&blank_comments_and_literals(source));
    let tokens = tokenize(&code);
    let mut found = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        let starts_path = matches!(&tokens[at].kind, Kind::Ident(name) if is_path_root(name))
            && matches!(tokens.get(at + 1), Some(t) if t.kind == Kind::PathSep)
            && !matches!(
                at.checked_sub(1).map(|i| &tokens[i].kind),
                Some(Kind::PathSep)
            );
        if starts_path {
            at = parse_path(&tokens, at, Vec::new(), &mut found);
        } else {
            at += 1;
        }
    }
    found
}

/// Whether a path starting with `name` is one the layer check resolves.
fn is_path_root(name: &str) -> bool {
    matches!(name, "crate" | "super" | "self")
}

/// `source` with every comment and the contents of every string and character literal replaced
/// by spaces, line breaks kept, so what remains is code with its original line numbers.
pub fn blank_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    // Keeps line breaks (so line numbers hold) and drops everything else.
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                if let Some(&escaped) = chars.get(i) {
                    blank(&mut out, escaped);
                }
                i += 1;
            }
            i += 1;
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br"…": no escapes; ends at a quote followed by as many #.
            i += 1 + hashes + 1;
            let closes = |at: usize| {
                chars[at] == '"' && (1..=hashes).all(|k| chars.get(at + k) == Some(&'#'))
            };
            while i < chars.len() && !closes(i) {
                blank(&mut out, chars[i]);
                i += 1;
            }
            i += 1 + hashes;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a, 'static).
            if next == Some('\\') {
                // The quote, the backslash and the escaped character, then up to the quote.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// If a raw string literal (`r"`, `r#"`, `br"`…) starts with the `r` at `at`, its number of `#`.
fn raw_string_start(chars: &[char], at: usize) -> Option<usize> {
    if chars[at] != 'r' {
        return None;
    }
    let is_ident = |i: Option<usize>| i.is_some_and(|i| is_ident_char(chars[i]));
    let before = at.checked_sub(1);
    let prefixed = before.is_some_and(|b| matches!(chars[b], 'b' | 'c'))
        && !is_ident(before.and_then(|b| b.checked_sub(1)));
    if is_ident(before) && !prefixed {
        return None;
    }
    let hashes = chars[at + 1..].iter().take_while(|&&c| c == '#').count();
    (chars.get(at + 1 + hashes) == Some(&'"')).then_some(hashes)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `code` up to its unit tests: scanning stops at a line `#[cfg(test)]` whose next non-blank
/// line declares a module (`mod tests {`), the usual place of a file's tests. Test-only code
/// elsewhere in a file still counts; files named `tests.rs` are skipped by the caller.
pub fn without_unit_tests(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let declares_module = |line: &str| {
        let line = line.trim_start();
        let line = line.strip_prefix("pub ").unwrap_or(line);
        let line = line.strip_prefix("pub(crate) ").unwrap_or(line);
        line.starts_with("mod ")
    };
    for (at, line) in lines.iter().enumerate() {
        if line.trim() == "#[cfg(test)]"
            && lines[at + 1..]
                .iter()
                .find(|next| !next.trim().is_empty())
                .is_some_and(|next| declares_module(next))
        {
            return lines[..at].join("\n");
        }
    }
    code.to_string()
}

/// What the path parser needs to tell apart.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Glob,
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    line: usize,
}

fn tokenize(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let kind = if c == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if c.is_whitespace() {
            i += 1;
            continue;
        } else if is_ident_char(c) {
            let start = i;
            while i < chars.len() && is_ident_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(Token {
                kind: Kind::Ident(word),
                line,
            });
            continue;
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            i += 1;
            Kind::PathSep
        } else {
            match c {
                '{' => Kind::Open,
                '}' => Kind::Close,
                ',' => Kind::Comma,
                '*' => Kind::Glob,
                // `$crate` in a macro is the defining crate: the `$` is left out.
                '$' => {
                    i += 1;
                    continue;
                }
                _ => Kind::Other,
            }
        };
        tokens.push(Token { kind, line });
        i += 1;
    }
    tokens
}

/// Parses the path starting at `at` under `prefix` (a `use` group's prefix), pushing every
/// complete path it names to `found`; returns the index after it.
fn parse_path(
    tokens: &[Token],
    mut at: usize,
    prefix: Vec<String>,
    found: &mut Vec<RawPath>,
) -> usize {
    let line = tokens.get(at).map_or(0, |t| t.line);
    let mut segments = prefix;
    loop {
        match tokens.get(at).map(|t| &t.kind) {
            Some(Kind::Ident(name)) => {
                segments.push(name.clone());
                at += 1;
                if matches!(tokens.get(at).map(|t| &t.kind), Some(Kind::PathSep)) {
                    at += 1;
                    continue;
                }
                found.push(RawPath { line, segments });
                return at;
            }
            Some(Kind::Open) => {
                at += 1;
                loop {
                    match tokens.get(at).map(|t| &t.kind) {
                        None => return at,
                        Some(Kind::Close) => return at + 1,
                        Some(Kind::Comma) => at += 1,
                        // `d as e` names `d`, already found; `e` is a local name.
                        Some(Kind::Ident(word)) if word == "as" => at += 2,
                        Some(Kind::Ident(_) | Kind::Open) => {
                            at = parse_path(tokens, at, segments.clone(), found);
                        }
                        Some(Kind::Glob) => {
                            found.push(RawPath {
                                line: tokens[at].line,
                                segments: segments.clone(),
                            });
                            at += 1;
                        }
                        Some(_) => at += 1,
                    }
                }
            }
            Some(Kind::Glob) => {
                found.push(RawPath { line, segments });
                return at + 1;
            }
            _ => {
                // A turbofish, a stray `::` or the end of the code.
                found.push(RawPath { line, segments });
                return at;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(source: &str) -> Vec<(usize, String)> {
        paths(source)
            .into_iter()
            .map(|p| (p.line, p.segments.join("::")))
            .collect()
    }

    #[test]
    fn comments_and_literals_name_nothing() {
        let source = r##"//! Uses crate::api, says the doc.
/// See [`crate::api::entry`].
// use crate::api;
/* use crate::api;
   /* nested */ crate::api */
fn f<'a>(x: &'a str) -> char {
    let s = "crate::api::x \" crate::api";
    let r = r#"crate::api "quoted""#;
    let b = b'"';
    let c = '\'';
    crate::links::canonical(x);
    'x'
}
"##;
        assert_eq!(
            segments(source),
            [(11, "crate::links::canonical".to_string())]
        );
    }

    #[test]
    fn use_groups_spread_into_paths() {
        let source = "use crate::{a, b::{c, d as e}, f::*};\nuse super::{self, g};\n";
        assert_eq!(
            segments(source),
            [
                (1, "crate::a".to_string()),
                (1, "crate::b::c".to_string()),
                (1, "crate::b::d".to_string()),
                (1, "crate::f".to_string()),
                (2, "super::self".to_string()),
                (2, "super::g".to_string()),
            ]
        );
    }

    #[test]
    fn the_unit_tests_at_the_end_are_skipped() {
        let source = "use super::x;\n\n#[cfg(test)]\nmod tests {\n    use crate::api;\n}\n";
        assert_eq!(segments(source), [(1, "super::x".to_string())]);
        let gated_item = "#[cfg(test)]\nuse crate::api;\nfn f() {}\n";
        assert_eq!(segments(gated_item), [(2, "crate::api".to_string())]);
    }

    #[test]
    fn only_paths_rooted_at_crate_super_or_self_count() {
        let source =
            "use std::fmt;\nfn f(&self) { self.x(); Self::new(); a::crate_x(); self::g(); }";
        assert_eq!(segments(source), [(2, "self::g".to_string())]);
    }
}
