//! Tests of request parsing: both seed JSON shapes, and every way a body can be refused.

use serde_json::json;

use super::*;

fn err(body: Value) -> String {
    parse_service_request(&body)
        .expect_err("request should be refused")
        .to_string()
}

#[test]
fn seed_single_container_shape_parses() {
    // Verbatim from the seed README's curl example.
    let body: Value = serde_json::from_str(
        r#"{"container": {"uniq_id": 0, "label": "description"}, "replicas": 99}"#,
    )
    .unwrap();
    assert_eq!(
        parse_service_request(&body).unwrap(),
        vec![ServiceSpec {
            label: "description".into(),
            replicas: 99,
            uniq_id: Some(0),
        }]
    );
}

#[test]
fn seed_containers_shape_parses() {
    // The seed README's body, written there as a JS literal, here as JSON.
    let body = json!({
        "containers": [
            { "description": "container 0", "replicas": 10 },
            { "description": "container 1", "replicas": 10 }
        ]
    });
    let specs = parse_service_request(&body).unwrap();
    assert_eq!(
        specs,
        vec![
            ServiceSpec {
                label: "container 0".into(),
                replicas: 10,
                uniq_id: None
            },
            ServiceSpec {
                label: "container 1".into(),
                replicas: 10,
                uniq_id: None
            },
        ]
    );
}

#[test]
fn containers_accept_label_synonym_and_uniq_id() {
    let body = json!({"containers": [{"label": "  web  ", "replicas": 1, "uniq_id": 7}]});
    assert_eq!(
        parse_service_request(&body).unwrap(),
        vec![ServiceSpec {
            label: "web".into(),
            replicas: 1,
            uniq_id: Some(7)
        }]
    );
}

#[test]
fn null_uniq_id_is_absent_and_unknown_fields_are_ignored() {
    let body = json!({"container": {"label": "x", "uniq_id": null, "image": "nginx"},
                      "replicas": 1, "extra": true});
    assert_eq!(parse_service_request(&body).unwrap()[0].uniq_id, None);
}

#[test]
fn body_shape_errors() {
    let shape = r#"body must be a JSON object with "container" or "containers""#;
    assert_eq!(err(json!([1, 2])), shape);
    assert_eq!(err(json!("x")), shape);
    assert_eq!(err(json!({"replicas": 3})), shape);
    assert_eq!(
        err(json!({"container": {"label": "a"}, "containers": [], "replicas": 1})),
        r#"body must have either "container" or "containers", not both"#
    );
    assert_eq!(
        err(json!({"container": "web", "replicas": 1})),
        r#"container must be a JSON object, got "web""#
    );
    assert_eq!(
        err(json!({"containers": {"description": "a"}})),
        r#"containers must be an array, got {"description":"a"}"#
    );
    assert_eq!(
        err(json!({"containers": [5]})),
        "containers[0] must be a JSON object, got 5"
    );
}

#[test]
fn container_count_errors() {
    assert_eq!(
        err(json!({"containers": []})),
        "containers must not be empty"
    );
    let many: Vec<Value> = (0..=MAX_CONTAINERS)
        .map(|i| json!({"description": format!("c{i}"), "replicas": 1}))
        .collect();
    assert_eq!(
        err(json!({ "containers": many })),
        "at most 1000 containers in one request, got 1001"
    );
    let exactly: Vec<Value> = many[..MAX_CONTAINERS].to_vec();
    assert_eq!(
        parse_service_request(&json!({ "containers": exactly }))
            .unwrap()
            .len(),
        MAX_CONTAINERS
    );
}

#[test]
fn missing_field_errors() {
    assert_eq!(
        err(json!({"container": {"label": "a"}})),
        r#"missing field "replicas""#
    );
    assert_eq!(
        err(json!({"containers": [{"description": "a", "replicas": 1}, {"description": "b"}]})),
        r#"missing field "containers[1].replicas""#
    );
    assert_eq!(
        err(json!({"container": {"uniq_id": 1}, "replicas": 1})),
        r#"container needs a "label" (or "description")"#
    );
    assert_eq!(
        err(json!({"containers": [{"replicas": 1}]})),
        r#"containers[0] needs a "label" (or "description")"#
    );
}

#[test]
fn replicas_errors() {
    assert_eq!(
        err(json!({"container": {"label": "a"}, "replicas": -3})),
        "replicas must be an integer between 1 and 1000000, got -3"
    );
    assert_eq!(
        err(json!({"container": {"label": "a"}, "replicas": 0})),
        "replicas must be an integer between 1 and 1000000, got 0"
    );
    assert_eq!(
        err(json!({"containers": [{"label": "a", "replicas": 1000001}]})),
        "containers[0].replicas must be an integer between 1 and 1000000, got 1000001"
    );
    assert_eq!(
        err(json!({"containers": [{"label": "a", "replicas": 2.5}]})),
        "containers[0].replicas must be an integer between 1 and 1000000, got 2.5"
    );
    assert_eq!(
        err(json!({"containers": [{"label": "a", "replicas": "10"}]})),
        r#"containers[0].replicas must be an integer between 1 and 1000000, got "10""#
    );
    assert_eq!(
        err(json!({"container": {"label": "a"}, "replicas": u64::MAX})),
        "replicas must be an integer between 1 and 1000000, got 18446744073709551615"
    );
    let ok = parse_service_request(&json!({"container": {"label": "a"}, "replicas": 1000000}));
    assert_eq!(ok.unwrap()[0].replicas, MAX_REPLICAS);
}

#[test]
fn label_errors() {
    assert_eq!(
        err(json!({"container": {"label": "   "}, "replicas": 1})),
        "container.label must not be empty"
    );
    assert_eq!(
        err(json!({"containers": [{"description": 7, "replicas": 1}]})),
        "containers[0].description must be a string, got 7"
    );
    assert_eq!(
        err(json!({"containers": [{"description": "a", "label": "a", "replicas": 1}]})),
        r#"containers[0] has both "label" and "description"; they mean the same, send one"#
    );
    let long = "é".repeat(MAX_LABEL_CHARS + 1);
    assert_eq!(
        err(json!({"container": {"label": long}, "replicas": 1})),
        "container.label must be at most 256 characters, got 257"
    );
    // The limit counts characters, not bytes, and applies after trimming.
    let fits = format!("  {}  ", "é".repeat(MAX_LABEL_CHARS));
    assert!(parse_service_request(&json!({"container": {"label": fits}, "replicas": 1})).is_ok());
}

#[test]
fn uniq_id_errors() {
    assert_eq!(
        err(json!({"container": {"label": "a", "uniq_id": -1}, "replicas": 1})),
        "container.uniq_id must be a non-negative integer, got -1"
    );
    assert_eq!(
        err(json!({"containers": [{"label": "a", "uniq_id": "x", "replicas": 1}]})),
        r#"containers[0].uniq_id must be a non-negative integer, got "x""#
    );
}

#[test]
fn long_values_are_abbreviated_in_errors() {
    let long = "x".repeat(1000);
    let message = err(json!({"container": {"label": "a"}, "replicas": long}));
    assert!(message.ends_with('…'), "{message}");
    assert!(message.len() < 150, "{message}");
}

#[test]
fn scale_requests() {
    assert_eq!(parse_scale_request(&json!({"replicas": 0})), Ok(0));
    assert_eq!(parse_scale_request(&json!({"replicas": 5})), Ok(5));
    assert_eq!(
        parse_scale_request(&json!({"replicas": -1}))
            .unwrap_err()
            .to_string(),
        "replicas must be an integer between 0 and 1000000, got -1"
    );
    assert_eq!(
        parse_scale_request(&json!({})).unwrap_err().to_string(),
        r#"missing field "replicas""#
    );
    assert_eq!(
        parse_scale_request(&json!(3)).unwrap_err().to_string(),
        "body must be a JSON object, got 3"
    );
}

#[test]
fn check_services_mirrors_the_parser_limits() {
    let spec = |label: &str, replicas| ServiceSpec {
        label: label.into(),
        replicas,
        uniq_id: None,
    };
    assert_eq!(check_services(&[spec("a", 1)]), Ok(()));
    assert_eq!(check_services(&[]), Err(RequestError::EmptyContainers));
    assert_eq!(
        check_services(&[spec("a", 1), spec(" ", 1)])
            .unwrap_err()
            .to_string(),
        "services[1].label must not be empty"
    );
    assert_eq!(
        check_services(&[spec("a", 0)]).unwrap_err().to_string(),
        "services[0].replicas must be an integer between 1 and 1000000, got 0"
    );
    let many = vec![spec("a", 1); MAX_CONTAINERS + 1];
    assert_eq!(
        check_services(&many),
        Err(RequestError::TooManyContainers { count: 1001 })
    );
}
