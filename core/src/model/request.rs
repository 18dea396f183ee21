//! The gate for client requests: JSON bodies of `POST /service` and scale requests become
//! typed specs here, or are refused with an error that names the offending field.
//!
//! Nothing reaches the Raft log without passing through this module, so a malformed request
//! costs no consensus round and cannot leave a half-applied entry behind. `apply` re-checks
//! the same limits with [`check_services`] anyway: a command in the log may come from an
//! older or foreign proposer, and the state machine must not trust it.
//!
//! Unknown fields are ignored, as the seed did: clients written for it keep working.

use std::fmt;

use serde_json::{Map, Value};

use super::service::ServiceSpec;

/// Most replicas one service may ask for: keeps a single command's placement work bounded.
pub const MAX_REPLICAS: u32 = 1_000_000;
/// Most containers in one `POST /service`: one request is one log entry, which must stay
/// reasonably small.
pub const MAX_CONTAINERS: usize = 1000;
/// Longest label, in characters (not bytes), after trimming.
pub const MAX_LABEL_CHARS: usize = 256;

/// Why a request was refused. Each variant's message names the field (as a path such as
/// `containers[2].replicas`) so the client can fix the request without guessing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The body is not an object with either of the two accepted shapes.
    UnknownShape,
    /// The body has both `container` and `containers`; guessing which one was meant could
    /// run the wrong thing.
    BothShapes,
    /// A required field is absent.
    MissingField {
        /// Path of the missing field.
        field: String,
    },
    /// A container has neither `label` nor its synonym `description`.
    MissingLabel {
        /// Path of the container.
        entry: String,
    },
    /// A container has both `label` and `description`; they are synonyms, so one must go.
    BothLabels {
        /// Path of the container.
        entry: String,
    },
    /// A field has the wrong JSON type.
    WrongType {
        /// Path of the field.
        field: String,
        /// What was expected, e.g. "an object".
        expected: &'static str,
        /// The value received, abbreviated.
        got: String,
    },
    /// `containers` is an empty array: a request that creates nothing is a client bug.
    EmptyContainers,
    /// More than [`MAX_CONTAINERS`] containers.
    TooManyContainers {
        /// How many were sent.
        count: usize,
    },
    /// A replica count outside `min..=MAX_REPLICAS` or not an integer.
    Replicas {
        /// Path of the field.
        field: String,
        /// Smallest allowed value (1 to create, 0 to scale).
        min: u32,
        /// The value received, abbreviated.
        got: String,
    },
    /// A label that is empty or only whitespace.
    EmptyLabel {
        /// Path of the field.
        field: String,
    },
    /// A label longer than [`MAX_LABEL_CHARS`] characters.
    LabelTooLong {
        /// Path of the field.
        field: String,
        /// Its length in characters, after trimming.
        chars: usize,
    },
    /// A `uniq_id` that is not a non-negative integer.
    UniqId {
        /// Path of the field.
        field: String,
        /// The value received, abbreviated.
        got: String,
    },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::UnknownShape => {
                write!(
                    f,
                    r#"body must be a JSON object with "container" or "containers""#
                )
            }
            RequestError::BothShapes => write!(
                f,
                r#"body must have either "container" or "containers", not both"#
            ),
            RequestError::MissingField { field } => write!(f, r#"missing field "{field}""#),
            RequestError::MissingLabel { entry } => {
                write!(f, r#"{entry} needs a "label" (or "description")"#)
            }
            RequestError::BothLabels { entry } => write!(
                f,
                r#"{entry} has both "label" and "description"; they mean the same, send one"#
            ),
            RequestError::WrongType {
                field,
                expected,
                got,
            } => write!(f, "{field} must be {expected}, got {got}"),
            RequestError::EmptyContainers => write!(f, "containers must not be empty"),
            RequestError::TooManyContainers { count } => write!(
                f,
                "at most {MAX_CONTAINERS} containers in one request, got {count}"
            ),
            RequestError::Replicas { field, min, got } => write!(
                f,
                "{field} must be an integer between {min} and {MAX_REPLICAS}, got {got}"
            ),
            RequestError::EmptyLabel { field } => write!(f, "{field} must not be empty"),
            RequestError::LabelTooLong { field, chars } => write!(
                f,
                "{field} must be at most {MAX_LABEL_CHARS} characters, got {chars}"
            ),
            RequestError::UniqId { field, got } => {
                write!(f, "{field} must be a non-negative integer, got {got}")
            }
        }
    }
}

impl std::error::Error for RequestError {}

/// Parses the body of `POST /service` into the services to create, accepting both shapes
/// the seed documents:
///
/// * `{"container": {"uniq_id": 0, "label": "description"}, "replicas": 99}` — one service;
/// * `{"containers": [{"description": "container 0", "replicas": 10}, …]}` — several,
///   where each entry may also use `label` instead of `description`, and carry `uniq_id`.
///
/// Labels are stored trimmed. The order of the result is the order of the request, which
/// becomes the order of service ids.
pub fn parse_service_request(body: &Value) -> Result<Vec<ServiceSpec>, RequestError> {
    let obj = body.as_object().ok_or(RequestError::UnknownShape)?;
    match (obj.get("container"), obj.get("containers")) {
        (Some(_), Some(_)) => Err(RequestError::BothShapes),
        (Some(container), None) => {
            let container = as_object("container", container)?;
            let replicas = required(obj, "", "replicas")?;
            Ok(vec![ServiceSpec {
                label: label_of(container, "container")?,
                replicas: validate_replicas("replicas", replicas, 1)?,
                uniq_id: uniq_id_of(container, "container")?,
            }])
        }
        (None, Some(containers)) => {
            let entries = containers
                .as_array()
                .ok_or_else(|| wrong_type("containers", "an array", containers))?;
            if entries.is_empty() {
                return Err(RequestError::EmptyContainers);
            }
            if entries.len() > MAX_CONTAINERS {
                return Err(RequestError::TooManyContainers {
                    count: entries.len(),
                });
            }
            entries
                .iter()
                .enumerate()
                .map(|(i, entry)| {
                    let path = format!("containers[{i}]");
                    let entry = as_object(&path, entry)?;
                    let replicas = required(entry, &path, "replicas")?;
                    Ok(ServiceSpec {
                        label: label_of(entry, &path)?,
                        replicas: validate_replicas(&format!("{path}.replicas"), replicas, 1)?,
                        uniq_id: uniq_id_of(entry, &path)?,
                    })
                })
                .collect()
        }
        (None, None) => Err(RequestError::UnknownShape),
    }
}

/// Parses a scale request, `{"replicas": N}`, into the new replica count. 0 is allowed: the
/// service stays defined (keeping its id and label) with nothing running, and can be scaled
/// up again later; removing it is what delete is for.
pub fn parse_scale_request(body: &Value) -> Result<u32, RequestError> {
    let obj = as_object("body", body)?;
    validate_replicas("replicas", required(obj, "", "replicas")?, 0)
}

/// Checks that `value` is an integer replica count in `min..=MAX_REPLICAS`; `field` names it
/// in the error. Create requests use `min = 1`, scale requests `min = 0`.
pub fn validate_replicas(field: &str, value: &Value, min: u32) -> Result<u32, RequestError> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (min..=MAX_REPLICAS).contains(n))
        .ok_or_else(|| RequestError::Replicas {
            field: field.to_owned(),
            min,
            got: abbreviate(value),
        })
}

/// Re-checks already-typed specs against the same limits as the parser: the state machine
/// calls this before applying a create, so a command that bypassed the gate is rejected
/// rather than trusted.
pub fn check_services(specs: &[ServiceSpec]) -> Result<(), RequestError> {
    if specs.is_empty() {
        return Err(RequestError::EmptyContainers);
    }
    if specs.len() > MAX_CONTAINERS {
        return Err(RequestError::TooManyContainers { count: specs.len() });
    }
    for (i, spec) in specs.iter().enumerate() {
        check_label(&format!("services[{i}].label"), &spec.label)?;
        if !(1..=MAX_REPLICAS).contains(&spec.replicas) {
            return Err(RequestError::Replicas {
                field: format!("services[{i}].replicas"),
                min: 1,
                got: spec.replicas.to_string(),
            });
        }
    }
    Ok(())
}

/// Reads the label of a container from `label` or its synonym `description`.
fn label_of(entry: &Map<String, Value>, path: &str) -> Result<String, RequestError> {
    let (key, value) = match (entry.get("label"), entry.get("description")) {
        (Some(_), Some(_)) => {
            return Err(RequestError::BothLabels {
                entry: path.to_owned(),
            });
        }
        (Some(v), None) => ("label", v),
        (None, Some(v)) => ("description", v),
        (None, None) => {
            return Err(RequestError::MissingLabel {
                entry: path.to_owned(),
            });
        }
    };
    let field = format!("{path}.{key}");
    let text = value
        .as_str()
        .ok_or_else(|| wrong_type(&field, "a string", value))?;
    check_label(&field, text).map(str::to_owned)
}

/// Trims a label and checks it is non-empty and not too long; returns the trimmed text.
fn check_label<'a>(field: &str, label: &'a str) -> Result<&'a str, RequestError> {
    let trimmed = label.trim();
    if trimmed.is_empty() {
        return Err(RequestError::EmptyLabel {
            field: field.to_owned(),
        });
    }
    let chars = trimmed.chars().count();
    if chars > MAX_LABEL_CHARS {
        return Err(RequestError::LabelTooLong {
            field: field.to_owned(),
            chars,
        });
    }
    Ok(trimmed)
}

/// Reads the optional `uniq_id`; `null` counts as absent.
fn uniq_id_of(entry: &Map<String, Value>, path: &str) -> Result<Option<u64>, RequestError> {
    match entry.get("uniq_id") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| RequestError::UniqId {
            field: format!("{path}.uniq_id"),
            got: abbreviate(v),
        }),
    }
}

/// Looks up a required field of `obj`, whose path is `path` ("" for the body).
fn required<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a Value, RequestError> {
    obj.get(key).ok_or_else(|| RequestError::MissingField {
        field: if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        },
    })
}

fn as_object<'a>(field: &str, value: &'a Value) -> Result<&'a Map<String, Value>, RequestError> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(field, "a JSON object", value))
}

fn wrong_type(field: &str, expected: &'static str, got: &Value) -> RequestError {
    RequestError::WrongType {
        field: field.to_owned(),
        expected,
        got: abbreviate(got),
    }
}

/// The offending value as JSON, cut short: error messages echo what the client sent, but a
/// megabyte-long label must not come back as a megabyte-long error.
fn abbreviate(value: &Value) -> String {
    const MAX_CHARS: usize = 40;
    let json = value.to_string();
    match json.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &json[..cut]),
        None => json,
    }
}

#[cfg(test)]
mod tests;
