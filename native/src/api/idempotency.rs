//! The `Idempotency-Key` header: the id every write carries into the Raft log, so a write that
//! is retried — by the client, by the entry point trying the next node, by a node forwarding to
//! a leader again — is applied once and answered alike (see `flotilla_core::model::recent`).
//!
//! The first Flotilla process that sees a write settles its id: the client's key if it sent
//! one, else a random one (128 bits from the thread-local generator of `rand`, seeded from the
//! operating system: unguessable and, at 2⁻¹²⁸ per pair, unique in practice). The entry point
//! passes the id on in the same header, so the node it reaches keeps it; the node puts it in
//! the [`Write`](flotilla_core::model::Write) it proposes, which every forward carries unchanged.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use flotilla_core::model::MAX_REQUEST_ID_CHARS;
use flotilla_core::model::RequestId;
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::Type;
use utoipa::openapi::path::Parameter;
use utoipa::openapi::path::ParameterBuilder;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::ObjectBuilder;

use super::error::ApiError;

/// The header's name (HTTP header names are case-insensitive; this is how it is sent).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The id of the write a request asks for: the client's `Idempotency-Key`, checked, or a new
/// random one. Refuses a malformed or repeated header with a 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(pub RequestId);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        request_id(&parts.headers).map(IdempotencyKey)
    }
}

impl IntoParams for IdempotencyKey {
    /// The header as the OpenAPI documents describe it, on every write that takes it.
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let key = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_REQUEST_ID_CHARS))
            .pattern(Some("^[A-Za-z0-9._:-]+$"));
        vec![
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The write's request id: a retry with the same key is answered as the \
                     first request was, not applied again. One is drawn when absent.",
                ))
                .schema(Some(key))
                .build(),
        ]
    }
}

/// The request id `headers` name, or a new random one if they name none.
pub fn request_id(headers: &HeaderMap) -> Result<RequestId, ApiError> {
    let mut keys = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(key) = keys.next() else {
        return Ok(new_request_id());
    };
    if keys.next().is_some() {
        return Err(ApiError::bad_request(
            "the Idempotency-Key header is given more than once: send one key per request",
        ));
    }
    let key = key
        .to_str()
        .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be printable ASCII"))?;
    RequestId::parse(key)
        .map_err(|problem| ApiError::bad_request(format!("Idempotency-Key header: {problem}")))
}

/// A fresh random request id, for a write whose client sent no key.
pub fn new_request_id() -> RequestId {
    RequestId::from_bits(rand::random())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn keys_are_taken_checked_or_drawn() {
        let mut headers = HeaderMap::new();
        let drawn = (request_id(&headers), request_id(&headers));
        let (Ok(a), Ok(b)) = drawn else {
            panic!("no key drawn: {drawn:?}");
        };
        assert_ne!(a, b, "two requests without a key get different ids");
        assert_eq!(a.as_str().len(), 32);

        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("order-17"));
        assert_eq!(
            request_id(&headers).map(|id| id.to_string()),
            Ok("order-17".to_string())
        );

        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("not ok"));
        let err = request_id(&headers).expect_err("a space is refused");
        assert_eq!(err.status.as_u16(), 400);
        assert!(err.message.starts_with("Idempotency-Key header: "), "{err}");

        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_static("a"));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("b"));
        assert_eq!(
            request_id(&headers).map_err(|err| err.status.as_u16()),
            Err(400)
        );
    }
}
