//! [`ApiToken`]: the bearer token clients present to change a cluster.

use std::fmt;
use std::path::Path;

use subtle::ConstantTimeEq;

/// Shortest token accepted: 16 characters, so a token cannot be guessed by trying.
pub const MIN_TOKEN_LEN: usize = 16;

/// The token every mutating request must carry as `Authorization: Bearer <token>`. Compared in
/// constant time, so response timing says nothing about how much of a guess was right. Its
/// `Debug` form hides it, so it never reaches a log.
#[derive(Clone)]
pub struct ApiToken(String);

/// Why a token (or a secret) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Too short to be safe.
    #[error("{what} is {len} characters long; use at least {min} (e.g. `openssl rand -hex 32`)")]
    TooShort {
        /// What was being read ("--token", "--cluster-secret"…).
        what: String,
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// Holds characters that cannot travel in an HTTP header.
    #[error("{0} may hold only visible ASCII characters (no spaces or control characters)")]
    NotPrintable(String),
    /// Its file could not be read.
    #[error("cannot read {what} from {path}: {reason}")]
    File {
        /// What was being read.
        what: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl ApiToken {
    /// A token from its text (`what` names where it came from, for the error).
    pub fn new(text: &str, what: &str) -> Result<Self, TokenError> {
        check_secret_text(text, what, MIN_TOKEN_LEN).map(|text| ApiToken(text.to_string()))
    }

    /// A token from the first line of a file.
    pub fn from_file(path: &Path, what: &str) -> Result<Self, TokenError> {
        ApiToken::new(&read_secret_file(path, what)?, what)
    }

    /// Whether `presented` is this token (constant time in the token's content).
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// The `Authorization` header value that carries this token.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(…)")
    }
}

/// Checks a token or secret's text: visible ASCII, at least `min` characters; trims
/// surrounding whitespace (a trailing newline from `echo` or a file).
pub(super) fn check_secret_text<'a>(
    text: &'a str,
    what: &str,
    min: usize,
) -> Result<&'a str, TokenError> {
    let text = text.trim();
    if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(TokenError::NotPrintable(what.to_string()));
    }
    if text.len() < min {
        return Err(TokenError::TooShort {
            what: what.to_string(),
            len: text.len(),
            min,
        });
    }
    Ok(text)
}

/// The first line of a secret file.
pub(super) fn read_secret_file(path: &Path, what: &str) -> Result<String, TokenError> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().next().unwrap_or_default().to_string())
        .map_err(|err| TokenError::File {
            what: what.to_string(),
            path: path.display().to_string(),
            reason: err.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_itself_only() {
        let token = ApiToken::new("0123456789abcdef", "--token").unwrap();
        assert!(token.matches("0123456789abcdef"));
        assert!(!token.matches("0123456789abcdeF"));
        assert!(!token.matches("0123456789abcde"));
        assert!(!token.matches(""));
        assert_eq!(token.bearer(), "Bearer 0123456789abcdef");
    }

    #[test]
    fn short_or_unprintable_tokens_are_refused_and_debug_hides_the_token() {
        assert!(matches!(
            ApiToken::new("short", "--token"),
            Err(TokenError::TooShort { len: 5, .. })
        ));
        assert!(matches!(
            ApiToken::new("0123456789 abcdef", "--token"),
            Err(TokenError::NotPrintable(_))
        ));
        let token = ApiToken::new(" 0123456789abcdef\n", "--token").unwrap();
        assert!(token.matches("0123456789abcdef"));
        assert!(!format!("{token:?}").contains("0123"));
    }

    #[test]
    fn a_token_file_gives_its_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "0123456789abcdef\nignored\n").unwrap();
        assert!(
            ApiToken::from_file(&path, "--token-file")
                .unwrap()
                .matches("0123456789abcdef")
        );
        let missing = ApiToken::from_file(&dir.path().join("none"), "--token-file");
        assert!(matches!(missing, Err(TokenError::File { .. })));
    }
}
