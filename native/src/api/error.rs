//! [`ApiError`]: every failure a client can see, as an HTTP status and a JSON body
//! `{"error": "…"}` that names the problem.

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use flotilla_core::model::RequestError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::node::propose::ProposeError;

/// The JSON body of every refusal: `{"error": "…"}`. What [`ApiError`] sends, and what the
/// OpenAPI documents describe for every 4xx and 5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"error": "no service with id 7"}))]
pub struct ErrorBody {
    /// What went wrong, in words a client can act on.
    pub error: String,
}

/// An error answered to an API client. Built with one constructor per status so handlers say
/// what went wrong, not which number to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, in words a client can act on.
    pub message: String,
}

impl ApiError {
    /// A new error with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed (not JSON, wrong shape).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such cluster, node, service or route.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: the request conflicts with the current state (duplicate id, port in use).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422: well-formed JSON whose values are not acceptable.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 502: a node this request needed answered with something unusable or could not be reached.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, message)
    }

    /// 503: the cluster cannot serve this now (no leader, no quorum); retrying later may work.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 500: a fault of this server (storage failed, Raft stopped). Never caused by input.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<RequestError> for ApiError {
    /// A body that is JSON but not a valid request: a wrong shape (missing fields, wrong
    /// types of structural fields) is 400; an unacceptable value is 422. A replica count or
    /// `uniq_id` that is not a suitable integer, whatever its JSON type, is a value: 422.
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::UnknownShape
            | RequestError::BothShapes
            | RequestError::MissingField { .. }
            | RequestError::MissingLabel { .. }
            | RequestError::BothLabels { .. }
            | RequestError::WrongType { .. } => Self::bad_request(err.to_string()),
            _ => Self::unprocessable(err.to_string()),
        }
    }
}

impl From<ProposeError> for ApiError {
    /// A change the leader refused is a conflict with the current state (409); a leader that
    /// answered with an error is a bad gateway (502); everything else may work on retry (503).
    fn from(err: ProposeError) -> Self {
        let status = match err {
            ProposeError::Rejected(_) => StatusCode::CONFLICT,
            // Too big a request is unacceptable whatever the state; a full cluster conflicts
            // with the state (it may pass once something is deleted).
            ProposeError::OverLimit(ref limit) if limit.limit.is_per_request() => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ProposeError::OverLimit(_) => StatusCode::CONFLICT,
            ProposeError::LeaderRefused(_) => StatusCode::BAD_GATEWAY,
            ProposeError::Unavailable(_)
            | ProposeError::AnswerLost(_)
            | ProposeError::Timeout { .. }
            | ProposeError::NoLeader { .. }
            | ProposeError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
        };
        Self::new(status, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::transport::CallError;

    #[test]
    fn propose_errors_keep_their_statuses_and_words() {
        let cases = [
            (ProposeError::Rejected("no".into()), 409, "no".to_string()),
            (ProposeError::Unavailable("later".into()), 503, "later".to_string()),
            (
                ProposeError::AnswerLost(CallError::AnswerLost("h:1".into())),
                503,
                "the answer from h:1 was lost (the link from it is cut); the request may have \
                 been applied: check the state before retrying"
                    .to_string(),
            ),
            (
                ProposeError::LeaderRefused(CallError::Refused {
                    addr: "h:1".into(),
                    reason: "bad".into(),
                }),
                502,
                "the leader could not take the request: h:1 refused the request: bad".to_string(),
            ),
            (
                ProposeError::Timeout {
                    waited: Duration::from_millis(10_000),
                    problem: "no leader has been elected".into(),
                },
                503,
                "not committed within 10.0s: no leader has been elected".to_string(),
            ),
            (
                ProposeError::NoLeader {
                    waited: Duration::from_millis(2_500),
                },
                503,
                "no leader within 2.5s: a majority of the cluster's nodes must be up and connected \
                 to elect one"
                    .to_string(),
            ),
            (
                ProposeError::ShuttingDown,
                503,
                "this node is shutting down".to_string(),
            ),
        ];
        for (err, status, message) in cases {
            let api = ApiError::from(err);
            assert_eq!((api.status.as_u16(), api.message), (status, message));
        }
    }
}
