//! What can go wrong in a client command ([`ClientError`]): each kind is one line naming the
//! problem (the server's own JSON `error` when it sent one) and an exit code of its own, so a
//! script can tell bad input from an API that is down.

use std::fmt;

/// The command succeeded.
pub const EXIT_OK: u8 = 0;
/// The server refused the request (4xx other than 401): bad input, no such service or node, a
/// conflict, a port it may not use. Nothing changed.
pub const EXIT_REFUSED: u8 = 1;
/// The command line is wrong (clap's own code for usage errors), or a file it names cannot be
/// used (`--tls-ca`).
pub const EXIT_USAGE: u8 = 2;
/// The API could not be reached: nothing listens there, the name does not resolve, or TLS
/// could not be set up.
pub const EXIT_UNREACHABLE: u8 = 3;
/// The server wants a token (401): none was given, or not the server's.
pub const EXIT_UNAUTHORIZED: u8 = 4;
/// The server failed (5xx, e.g. no leader within its request timeout), did not answer within
/// `--timeout`, or answered something that is not the API's JSON.
pub const EXIT_SERVER: u8 = 5;

/// The exit codes, as `--help` and README say them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  refused by the server (4xx: bad input, no such service or node, conflict); nothing changed
  2  usage: the command line is wrong, or --tls-ca cannot be read
  3  the API could not be reached (nothing listening, unknown host, TLS failure)
  4  the server wants a token (401): missing or wrong; set FLOTILLA_TOKEN
  5  the server failed (5xx, e.g. no leader in time), timed out, or answered something else";

/// A failed client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The command line or a file it names cannot be used.
    Usage(String),
    /// The server answered 4xx (not 401).
    Refused {
        /// What was asked, e.g. `POST /clusters/0/services/9/scale`.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The server's `error` message, or its body.
        message: String,
    },
    /// The server answered 401.
    Unauthorized {
        /// What was asked.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The server's `error` message.
        message: String,
        /// Whether a token was sent (wrong) or not (missing).
        token_sent: bool,
    },
    /// No connection to the API.
    Unreachable {
        /// The URL that could not be reached.
        url: String,
        /// Why, as the operating system or TLS said it.
        cause: String,
    },
    /// The server failed, timed out or answered something unexpected.
    Server {
        /// What was asked.
        request: String,
        /// What happened.
        message: String,
    },
}

impl ClientError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Usage(_) => EXIT_USAGE,
            ClientError::Refused { .. } => EXIT_REFUSED,
            ClientError::Unauthorized { .. } => EXIT_UNAUTHORIZED,
            ClientError::Unreachable { .. } => EXIT_UNREACHABLE,
            ClientError::Server { .. } => EXIT_SERVER,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Usage(message) => write!(f, "{message}"),
            ClientError::Refused {
                request,
                status,
                message,
            } => write!(f, "{request} refused ({status}): {message}"),
            ClientError::Unauthorized {
                request,
                status,
                message,
                token_sent,
            } => {
                let hint = if *token_sent {
                    "check FLOTILLA_TOKEN"
                } else {
                    "set FLOTILLA_TOKEN to the server's token"
                };
                write!(f, "{request} refused ({status}): {message}; {hint}")
            }
            ClientError::Unreachable { url, cause } => write!(
                f,
                "cannot reach the API at {url}: {cause} (is `flotilla demo` running there? \
                 --api URL names another)"
            ),
            ClientError::Server { request, message } => write!(f, "{request} failed: {message}"),
        }
    }
}

impl std::error::Error for ClientError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_its_own_code_and_the_help_names_them_all() {
        let refused = ClientError::Refused {
            request: "POST /x".into(),
            status: 404,
            message: "no service with id 9".into(),
        };
        let unauthorized = ClientError::Unauthorized {
            request: "POST /x".into(),
            status: 401,
            message: "missing token".into(),
            token_sent: false,
        };
        let unreachable = ClientError::Unreachable {
            url: "http://localhost:1".into(),
            cause: "connection refused".into(),
        };
        let server = ClientError::Server {
            request: "GET /x".into(),
            message: "503".into(),
        };
        let usage = ClientError::Usage("bad".into());
        let codes: Vec<u8> = [&refused, &usage, &unreachable, &unauthorized, &server]
            .iter()
            .map(|err| err.exit_code())
            .collect();
        assert_eq!(
            codes,
            [
                EXIT_REFUSED,
                EXIT_USAGE,
                EXIT_UNREACHABLE,
                EXIT_UNAUTHORIZED,
                EXIT_SERVER
            ]
        );
        for code in [EXIT_OK].iter().chain(&codes) {
            assert!(EXIT_CODES.contains(&format!("\n  {code}  ")), "{code}");
        }
        assert_eq!(
            refused.to_string(),
            "POST /x refused (404): no service with id 9"
        );
        assert!(unauthorized.to_string().contains("FLOTILLA_TOKEN"));
        assert!(!unreachable.to_string().contains('\n'));
    }

    #[test]
    fn the_readme_lists_the_same_exit_codes() {
        let readme = include_str!("../../../README.md").replace('`', "");
        for line in EXIT_CODES.lines().skip(1) {
            let (code, meaning) = line.trim().split_once("  ").expect("CODE  MEANING");
            let row = format!("| {code} | {} |", meaning.trim());
            assert!(readme.contains(&row), "README.md lacks {row:?}");
        }
    }
}
