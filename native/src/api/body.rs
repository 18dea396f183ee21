//! [`JsonBody`]: a request body parsed as JSON, with failures answered as [`ApiError`]s (axum's
//! own `Json` extractor answers in plain text and insists on a content type; curl users forget
//! `-H "Content-Type: application/json"`, and their requests should still work).

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use serde_json::Value;

use super::error::ApiError;
use super::layers::MAX_BODY_BYTES;

/// The request body as a JSON value. Empty bodies, bodies that are not JSON and bodies over
/// the size limit are refused with a JSON error naming the problem.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Refuse a body announced as too large before reading any of it: a client that waits
        // for `100 Continue` (curl does, for large bodies) then never sends it.
        let announced = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if let Some(length) = announced.filter(|&length| length > MAX_BODY_BYTES as u64) {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is {length} bytes; at most {MAX_BODY_BYTES} are accepted"
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
