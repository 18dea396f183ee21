//! How the entry point answers the registry's errors: each with its HTTP status and the
//! error's own words.

use crate::api::ApiError;
use crate::registry::RegistryError;

impl From<RegistryError> for ApiError {
    /// An unknown cluster is 404; an existing cluster or a port in use is a conflict (409); an
    /// address that is not `host:port` is unacceptable (422); a port outside `--spawn-ports`
    /// is forbidden (403); a node that does not start is a fault of this server (500).
    fn from(err: RegistryError) -> Self {
        let message = err.to_string();
        match err {
            RegistryError::UnknownCluster { .. } => ApiError::not_found(message),
            RegistryError::ClusterExists(_) | RegistryError::CannotListen { .. } => {
                ApiError::conflict(message)
            }
            RegistryError::BadAddress(_) => ApiError::unprocessable(message),
            RegistryError::PortNotAllowed { .. } => {
                ApiError::new(axum::http::StatusCode::FORBIDDEN, message)
            }
            RegistryError::NodeDidNotStart { .. } => ApiError::internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_cluster_is_a_404_naming_the_known_ones() {
        let err = ApiError::from(RegistryError::UnknownCluster {
            id: "9".into(),
            known: vec!["0".into(), "1".into()],
        });
        assert_eq!(err.status.as_u16(), 404);
        assert_eq!(err.message, r#"no cluster "9"; clusters are ["0", "1"]"#);
        let err = ApiError::from(RegistryError::ClusterExists("0".into()));
        assert_eq!(
            (err.status.as_u16(), err.message.as_str()),
            (409, r#"cluster "0" already exists"#)
        );
    }
}
