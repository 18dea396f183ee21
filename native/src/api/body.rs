//! [`JsonBody`]: a request body parsed as JSON, with failures answered as [`ApiError`]s (axum's
//! own `Json` extractor answers in plain text).
//!
//! The body must be sent as `Content-Type: application/json` (415 otherwise): a browser lets any
//! web page post a plain form (`text/plain`, `application/x-www-form-urlencoded`) to any
//! address without asking, but sends JSON to another origin only if that origin's CORS rules
//! allow it — so this is what keeps a page on another site from changing the cluster.

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use axum::http::header::CONTENT_TYPE;
use serde_json::Value;

use super::error::ApiError;
use super::limits::BodyLimit;
use super::limits::ServerLimits;

/// The request body as a JSON value. Bodies not sent as JSON, empty bodies, bodies that are not
/// JSON and bodies over the size limit are refused with a JSON error naming the problem.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("(not text)").to_string());
        if !content_type.as_deref().is_some_and(is_json) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "send the body as JSON with `Content-Type: application/json` (got {})",
                    content_type.map_or("no Content-Type".to_string(), |t| format!("{t:?}"))
                ),
            ));
        }
        // Refuse a body announced as too large before reading any of it: a client that waits
        // for `100 Continue` (curl does, for large bodies) then never sends it.
        let announced = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let most = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(ServerLimits::default().max_body_bytes, |limit| limit.0);
        if let Some(length) = announced.filter(|&length| length > most as u64) {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is {length} bytes; at most {most} are accepted (--max-body-bytes)"
                ),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "the request body is empty: send a JSON document",
            ));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|err| {
            ApiError::bad_request(format!("the request body is not valid JSON: {err}"))
        })
    }
}

/// Whether a `Content-Type` names JSON: `application/json`, with parameters (`; charset=utf-8`)
/// or not, in any letter case.
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json(""));
    }
}
