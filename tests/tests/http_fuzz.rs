//! Hostile input against the HTTP API of a running `flotilla demo`: its entry point (the
//! `/clusters/…` API) and one node's own API, every public endpoint, driven by proptest with
//! wrong methods, odd paths and ids (percent-encoded bytes, huge numbers, long segments, odd
//! Unicode), wrong and missing content types, and bodies that are empty, oversized, not JSON,
//! nested deeply, or valid requests with one field replaced by a value of the wrong type, a huge
//! number or odd Unicode.
//!
//! Every answer must come (the server stays up), must not be a 5xx, and every refusal must be a
//! 4xx whose body is a JSON object with an `"error"` message; after a refusal the services, nodes
//! and links are as they were before it.
//!
//! `FLOTILLA_FUZZ_CASES` sets the cases per API (default 1,000: about 20 s in a debug build);
//! `FLOTILLA_FUZZ_SEED` replays a run's requests (the seed is printed). A run does not stop at
//! the first wrong answer: it lists every request that got one.
//!
//! Requests that would start processes or cut the demo's own links are not sent (a valid
//! `POST /clusters`, a node spawned on a free port, a body naming one of the demo's ports): they
//! would be accepted, which is right, but they would change the system under test.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use flotilla_tests::ledger::accounting_violations;
use flotilla_tests::process::Proc;
use flotilla_tests::process::get;
use flotilla_tests::process::post;
use flotilla_tests::process::wait_for;
use flotilla_tests::raw_http::RawRequest;
use flotilla_tests::raw_http::exchange;
use flotilla_tests::seeded::number_from_env;
use flotilla_tests::seeded::seed_from_env;
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest::test_runner::RngAlgorithm;
use proptest::test_runner::TestRng;
use proptest::test_runner::TestRunner;
use serde_json::Value;
use serde_json::json;

/// Longest any one answer may take: a write waits for the leader at most its request timeout.
const ANSWER_LIMIT: Duration = Duration::from_secs(30);

/// One endpoint: its path (placeholders `{cluster}` and `{service}`), the methods it serves, a
/// valid body to mutate, whether a GET of it streams forever (server-sent events), and what the
/// fuzzer must not send it.
struct Endpoint {
    path: &'static str,
    methods: &'static [&'static str],
    template: Option<Value>,
    streams: bool,
    guard: Guard,
}

/// Requests an endpoint accepts with side effects outside the API's state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    /// None.
    Nothing,
    /// `POST /clusters` with a valid port starts a cluster.
    StartsClusters,
    /// `"spawn": true` with a valid port starts a node; naming a demo port adds or removes one.
    SpawnsOrRemovesNodes,
    /// Naming a demo node's address cuts a real link.
    CutsLinks,
}

/// One API under test.
struct Target {
    name: &'static str,
    addr: String,
    endpoints: Vec<Endpoint>,
    /// What must not change after a refusal.
    listings: Vec<&'static str>,
    /// The demo's ports, which bodies must not name.
    ports: Vec<u16>,
    /// Where the target says how far its listings are applied (a path and a field of its JSON):
    /// after an accepted write, the next case waits until they show it.
    applied: (&'static str, &'static str),
}

fn service_template() -> Value {
    json!({"container": {"uniq_id": 0, "label": "fuzz"}, "replicas": 1})
}

fn entry_endpoints(port: u16) -> Vec<Endpoint> {
    let endpoint = |path, methods, template, guard| Endpoint {
        path,
        methods,
        template,
        streams: false,
        guard,
    };
    vec![
        endpoint(
            "/clusters",
            &["GET", "POST"],
            Some(json!({"id": "fz", "nodes": 1, "port": port, "capacity": 1})),
            Guard::StartsClusters,
        ),
        endpoint("/clusters/{cluster}", &["GET"], None, Guard::Nothing),
        endpoint("/clusters/{cluster}/stats", &["GET"], None, Guard::Nothing),
        endpoint("/clusters/{cluster}/state", &["GET"], None, Guard::Nothing),
        Endpoint {
            path: "/clusters/{cluster}/events",
            methods: &["GET"],
            template: None,
            streams: true,
            guard: Guard::Nothing,
        },
        endpoint(
            "/clusters/{cluster}/service",
            &["POST"],
            Some(service_template()),
            Guard::Nothing,
        ),
        endpoint(
            "/clusters/{cluster}/services",
            &["GET", "POST"],
            Some(json!({"containers": [{"label": "fuzz", "replicas": 1}]})),
            Guard::Nothing,
        ),
        endpoint(
            "/clusters/{cluster}/services/{service}",
            &["GET", "DELETE"],
            None,
            Guard::Nothing,
        ),
        endpoint(
            "/clusters/{cluster}/services/{service}/scale",
            &["POST"],
            Some(json!({"replicas": 1})),
            Guard::Nothing,
        ),
        endpoint(
            "/clusters/{cluster}/nodes",
            &["GET", "POST", "DELETE"],
            Some(
                json!({"id": "fz", "host": "localhost", "port": port, "capacity": 1, "spawn": false}),
            ),
            Guard::SpawnsOrRemovesNodes,
        ),
    ]
    .into_iter()
    .chain(documentation_endpoints())
    .collect()
}

/// `/openapi.json` and the `/docs` page, which every server serves.
fn documentation_endpoints() -> Vec<Endpoint> {
    ["/openapi.json", "/docs", "/docs/", "/docs/swagger-ui.css"]
        .into_iter()
        .map(|path| Endpoint {
            path,
            methods: &["GET"],
            template: None,
            streams: false,
            guard: Guard::Nothing,
        })
        .collect()
}

fn node_endpoints(port: u16) -> Vec<Endpoint> {
    let endpoint = |path, methods, template, guard| Endpoint {
        path,
        methods,
        template,
        streams: false,
        guard,
    };
    vec![
        endpoint("/stats", &["GET"], None, Guard::Nothing),
        endpoint("/state", &["GET"], None, Guard::Nothing),
        Endpoint {
            path: "/events",
            methods: &["GET"],
            template: None,
            streams: true,
            guard: Guard::Nothing,
        },
        endpoint(
            "/connections",
            &["GET", "POST"],
            Some(json!({ format!("localhost:{port}"): 1 })),
            Guard::CutsLinks,
        ),
        endpoint(
            "/connections/",
            &["GET", "POST"],
            Some(json!({ format!("localhost:{port}"): 0 })),
            Guard::CutsLinks,
        ),
        endpoint(
            "/service",
            &["POST"],
            Some(service_template()),
            Guard::Nothing,
        ),
        endpoint(
            "/services",
            &["GET", "POST"],
            Some(service_template()),
            Guard::Nothing,
        ),
        endpoint(
            "/services/{service}",
            &["GET", "DELETE"],
            None,
            Guard::Nothing,
        ),
        endpoint(
            "/services/{service}/scale",
            &["POST"],
            Some(json!({"replicas": 2})),
            Guard::Nothing,
        ),
        endpoint(
            "/nodes",
            &["GET", "POST", "DELETE"],
            Some(json!({"host": "localhost", "port": port, "capacity": 1, "spawn": false})),
            Guard::SpawnsOrRemovesNodes,
        ),
    ]
    .into_iter()
    .chain(documentation_endpoints())
    .collect()
}

/// Strings that have broken parsers before: empty, blank, control characters, bidirectional
/// overrides, zero-width and combining marks, emoji, other scripts' digits, numbers as text,
/// very long ones.
fn nasty_strings() -> Vec<String> {
    vec![
        String::new(),
        " ".to_string(),
        "\u{0000}".to_string(),
        "\u{202E}gnp.exe".to_string(),
        "\u{200B}\u{200D}\u{FEFF}".to_string(),
        "e\u{0301}\u{0301}\u{0301}".to_string(),
        "😀".repeat(100),
        "١٢٣".to_string(),
        "5".to_string(),
        " 7 ".to_string(),
        "0x10".to_string(),
        "-1".to_string(),
        "1e3".to_string(),
        "NaN".to_string(),
        "null".to_string(),
        "localhost".to_string(),
        "a".repeat(70_000),
        "../../etc/passwd".to_string(),
        "<script>alert(1)</script>".to_string(),
        "%00%FF".to_string(),
        "\u{10FFFF}\u{FFFD}".to_string(),
    ]
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(nasty_strings()),
        "\\PC{0,24}",
        any::<String>(),
    ]
}

/// Scalars of every JSON type, with the edges of numbers.
fn hostile_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec![
            json!(0),
            json!(1),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(u32::MAX),
            json!(u64::from(u32::MAX) + 1),
            json!(65_536),
            json!(1.5),
            json!(-0.0),
            json!(1e308),
            json!(-1e308),
            json!(1.8446744073709552e19),
            json!(5e-324),
        ]),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_string().prop_map(Value::String),
    ]
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "container",
            "containers",
            "label",
            "description",
            "uniq_id",
            "replicas",
            "id",
            "host",
            "port",
            "capacity",
            "spawn",
            "nodes",
        ])
        .prop_map(str::to_string),
        hostile_string(),
    ]
}

/// Any JSON value, a few levels deep.
fn hostile_json() -> impl Strategy<Value = Value> {
    hostile_scalar().prop_recursive(4, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Bodies no JSON parser should take, or should take only with care.
fn special_bodies() -> Vec<Vec<u8>> {
    let deep = |depth: usize, open: &str, close: &str| {
        format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
    };
    vec![
        Vec::new(),
        b"   \r\n\t ".to_vec(),
        b"null".to_vec(),
        b"\"just a string\"".to_vec(),
        b"{\"replicas\": ".to_vec(),
        b"{\"replicas\": 1e999999}".to_vec(),
        b"{\"replicas\": 123456789012345678901234567890}".to_vec(),
        b"{\"replicas\": -0}".to_vec(),
        b"{\"replicas\": 1, \"replicas\": 2}".to_vec(),
        b"{\"container\": {\"label\": \"\\ud800\"}, \"replicas\": 1}".to_vec(),
        b"\xEF\xBB\xBF{\"replicas\": 1}".to_vec(),
        b"{\"container\": {\"label\": \"a\x00b\"}, \"replicas\": 1}".to_vec(),
        b"\xff\xfe\xfd".to_vec(),
        deep(100_000, "[", "]"),
        deep(120, "[", "]"),
        deep(50_000, "{\"a\":", "}"),
        format!(
            "{{\"container\": {{\"label\": \"{}\"}}, \"replicas\": 1}}",
            "x".repeat(1_100_000)
        )
        .into_bytes(),
        vec![b' '; 2_000_000],
    ]
}

/// A valid body with one thing changed: a field replaced by a hostile value, removed, or a
/// hostile field added, at any depth.
fn mutate(template: &Value, pick: usize, action: u8, value: Value, key: String) -> Value {
    let mut body = template.clone();
    let mut paths = Vec::new();
    collect_paths(&body, &mut Vec::new(), &mut paths);
    let Some(path) = paths.get(pick % paths.len().max(1)).cloned() else {
        return value;
    };
    let Some(target) = locate(&mut body, &path) else {
        return body;
    };
    match (action, target) {
        (0, target) => *target = value,
        (1, Value::Object(fields)) => {
            fields.insert(key, value);
        }
        (_, Value::Object(fields)) => {
            if let Some(first) = fields.keys().next().cloned() {
                fields.remove(&first);
            }
        }
        (_, Value::Array(items)) => {
            items.clear();
        }
        (_, target) => *target = value,
    }
    body
}

/// Every place in a JSON value, as keys and indexes from the root (the root included).
fn collect_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                prefix.push(key.clone());
                collect_paths(inner, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                prefix.push(index.to_string());
                collect_paths(inner, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn locate<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |value, step| match value {
        Value::Object(fields) => fields.get_mut(step),
        Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Values for the `{cluster}` and `{service}` path segments, already percent-encoded where a URL
/// needs it: real ids, numbers past every integer type, negative, encoded bytes that are not
/// UTF-8 or are NUL, dot segments, encoded slashes, Unicode, very long, empty.
fn path_ids() -> Vec<String> {
    vec![
        "3".into(),
        "18446744073709551615".into(),
        "18446744073709551616".into(),
        "99999999999999999999999999999".into(),
        "-1".into(),
        "+1".into(),
        "1.0".into(),
        "1e3".into(),
        "0x1".into(),
        "%FF".into(),
        "%C0%80".into(),
        "%00".into(),
        "%".into(),
        "%G1".into(),
        "..".into(),
        "%2e%2e".into(),
        "a%2Fb".into(),
        "%E2%80%AE".into(),
        "%F0%9F%98%80".into(),
        "9".repeat(5_000),
        "x".repeat(20_000),
        String::new(),
        "nope".into(),
    ]
}

/// What goes after the path: nothing, a query (good or bad), a trailing slash, more segments.
fn suffixes() -> Vec<String> {
    vec![
        String::new(),
        String::new(),
        "?limit=1".into(),
        "?limit=-1&from=abc".into(),
        "?limit=18446744073709551616".into(),
        "?from=%FF&limit=%00".into(),
        "?limit=1&limit=2".into(),
        "?%%%".into(),
        "/".into(),
        "/extra".into(),
        "//".into(),
    ]
}

fn content_types() -> Vec<Option<String>> {
    vec![
        Some("application/json".into()),
        Some("application/json".into()),
        Some("application/json".into()),
        Some("application/json; charset=utf-16".into()),
        Some("text/plain".into()),
        Some("application/x-www-form-urlencoded".into()),
        Some("multipart/form-data; boundary=x".into()),
        Some("application/json; charset=\"klingon\"".into()),
        Some(String::new()),
        None,
    ]
}

/// One generated request, before it is built against an endpoint.
#[derive(Clone, Debug)]
struct Case {
    endpoint: usize,
    method: Option<&'static str>,
    ids: (String, String),
    suffix: String,
    content_type: Option<String>,
    body: BodyPlan,
}

#[derive(Clone, Debug)]
enum BodyPlan {
    Mutated {
        pick: usize,
        action: u8,
        value: Value,
        key: String,
    },
    Json(Value),
    Raw(Vec<u8>),
    Special(usize),
}

fn case_strategy(endpoints: usize) -> impl Strategy<Value = Case> {
    let method = prop_oneof![
        3 => Just(None),
        1 => prop::sample::select(vec![
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW", "get",
        ])
        .prop_map(Some),
    ];
    // Real ids half the time, so requests get past the path to the body's checks.
    let cluster = prop_oneof![1 => Just("0".to_string()), 1 => prop::sample::select(path_ids())];
    let service = prop_oneof![
        1 => prop::sample::select(vec!["1".to_string(), "2".to_string()]),
        1 => prop::sample::select(path_ids()),
    ];
    let body = prop_oneof![
        4 => (any::<usize>(), 0u8..3, hostile_json(), field_name()).prop_map(
            |(pick, action, value, key)| BodyPlan::Mutated { pick, action, value, key }
        ),
        2 => hostile_json().prop_map(BodyPlan::Json),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(BodyPlan::Raw),
        2 => (0..special_bodies().len()).prop_map(BodyPlan::Special),
    ];
    (
        0..endpoints,
        method,
        (cluster, service),
        prop::sample::select(suffixes()),
        prop::sample::select(content_types()),
        body,
    )
        .prop_map(|(endpoint, method, ids, suffix, content_type, body)| Case {
            endpoint,
            method,
            ids,
            suffix,
            content_type,
            body,
        })
}

/// The request a case makes of `endpoint`, or `None` if it must not be sent (see [`Guard`]).
fn build(
    case: &Case,
    endpoint: &Endpoint,
    ports: &[u16],
    specials: &[Vec<u8>],
) -> Option<RawRequest> {
    let mut method = case.method.unwrap_or(endpoint.methods[0]);
    if case.method.is_none() {
        // A method the endpoint serves, picked by the case's ids so it varies.
        method = endpoint.methods[case.ids.0.len() % endpoint.methods.len()];
    }
    if endpoint.streams && matches!(method, "GET" | "HEAD") {
        // A GET of an event stream is answered by a stream that never ends.
        method = "POST";
    }
    let path = endpoint
        .path
        .replace("{cluster}", &case.ids.0)
        .replace("{service}", &case.ids.1);
    let body = match &case.body {
        BodyPlan::Mutated {
            pick,
            action,
            value,
            key,
        } => {
            let template = endpoint.template.clone().unwrap_or(json!({}));
            mutate(&template, *pick, *action, value.clone(), key.clone())
                .to_string()
                .into_bytes()
        }
        BodyPlan::Json(value) => value.to_string().into_bytes(),
        BodyPlan::Raw(bytes) => bytes.clone(),
        BodyPlan::Special(index) => specials[*index].clone(),
    };
    if !allowed(endpoint.guard, method, &body, ports) {
        return None;
    }
    Some(RawRequest {
        method: method.to_string(),
        target: format!("{path}{}", case.suffix).into_bytes(),
        content_type: case.content_type.clone(),
        body,
    })
}

/// Whether a request may be sent without starting processes or touching the demo's own nodes
/// and links.
fn allowed(guard: Guard, method: &str, body: &[u8], ports: &[u16]) -> bool {
    if guard == Guard::Nothing || method == "GET" || method == "HEAD" {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    if ports.iter().any(|port| text.contains(&port.to_string())) {
        return false;
    }
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let valid_port = match &parsed["port"] {
        Value::Number(number) => number
            .as_u64()
            .is_some_and(|port| (1..=65_535).contains(&port)),
        Value::String(text) => text
            .trim()
            .parse::<u64>()
            .is_ok_and(|port| (1..=65_535).contains(&port)),
        _ => false,
    };
    match guard {
        Guard::StartsClusters => !valid_port,
        Guard::SpawnsOrRemovesNodes => !(valid_port && parsed["spawn"] == json!(true)),
        Guard::CutsLinks | Guard::Nothing => true,
    }
}

/// What must not change when a request is refused, read from the target.
fn listings(target: &Target) -> Result<Vec<Value>, String> {
    target
        .listings
        .iter()
        .map(|path| match get(&target.addr, path) {
            (200, value) => Ok(value),
            (status, value) => Err(format!("GET {path}: {status} {value}")),
        })
        .collect()
}

/// After an accepted write (its answer names a `log_index`), waits until the target's listings
/// reflect it: a node's own state may lag the leader's acknowledgement.
fn settle(target: &Target, answer: &[u8]) {
    let answer: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
    let Some(index) = answer["log_index"].as_u64() else {
        return;
    };
    let (path, field) = target.applied;
    wait_for(Duration::from_secs(30), "the write to be applied", || {
        let (_, report) = get(&target.addr, path);
        (report[field].as_u64()? >= index).then_some(())
    });
}

/// Sends one case and checks the answer; its status, or what went wrong.
fn check(target: &Target, request: &RawRequest) -> Result<u16, String> {
    let before = listings(target)?;
    let answer = exchange(&target.addr, request, ANSWER_LIMIT)
        .map_err(|err| format!("no answer (the server died or hung up): {err}"))?;
    let body_text = String::from_utf8_lossy(&answer.body);
    let shown: String = body_text.chars().take(300).collect();
    if answer.status >= 500 {
        return Err(format!("answered {}: {shown}", answer.status));
    }
    if answer.status < 400 {
        settle(target, &answer.body);
        listings(target).map_err(|err| format!("the server stopped answering: {err}"))?;
        return Ok(answer.status);
    }
    let after = listings(target).map_err(|err| format!("the server stopped answering: {err}"))?;
    if request.method != "HEAD" {
        let json_type = answer
            .content_type
            .as_deref()
            .is_some_and(|kind| kind.starts_with("application/json"));
        let parsed: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let message = parsed["error"].as_str().unwrap_or_default();
        if !json_type || message.trim().is_empty() {
            return Err(format!(
                "refused with {} but not with a JSON {{\"error\": …}} body (content type {:?}): \
                 {shown}",
                answer.status, answer.content_type
            ));
        }
    }
    if before != after {
        return Err(format!(
            "refused with {} ({shown}) but the state changed:\nbefore {before:?}\nafter  {after:?}",
            answer.status
        ));
    }
    Ok(answer.status)
}

/// Figures of one target's run: requests sent, cases not sent (see [`Guard`]), answers by status.
struct Tally {
    sent: u32,
    skipped: u32,
    statuses: BTreeMap<u16, u32>,
}

/// Runs `cases` generated requests against `target` and returns the figures, or panics listing
/// every request that got a wrong answer (each with what was wrong). Failures are collected
/// rather than shrunk: one run then shows every distinct fault, each as a concrete request.
fn fuzz(target: &Target, cases: u32, seed: u64) -> Tally {
    let specials = special_bodies();
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let tally = RefCell::new(Tally {
        sent: 0,
        skipped: 0,
        statuses: BTreeMap::new(),
    });
    let failures: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let result = runner.run(&case_strategy(target.endpoints.len()), |case| {
        let endpoint = &target.endpoints[case.endpoint];
        let mut tally = tally.borrow_mut();
        let Some(request) = build(&case, endpoint, &target.ports, &specials) else {
            tally.skipped += 1;
            return Ok(());
        };
        tally.sent += 1;
        match check(target, &request) {
            Ok(status) => *tally.statuses.entry(status).or_insert(0) += 1,
            Err(why) => failures.borrow_mut().push(format!(
                "{} {} (content type {:?}) {}\n    => {why}",
                request.method,
                shorten(&request.target, 120),
                request.content_type,
                shorten(&request.body, 200),
            )),
        }
        Ok(())
    });
    if let Err(err) = result {
        panic!("{}: {err}", target.name);
    }
    let failures = failures.into_inner();
    assert!(
        failures.is_empty(),
        "{} (seed {seed}: FLOTILLA_FUZZ_SEED={seed} replays it): {} of {} requests got a wrong \
         answer:\n  {}",
        target.name,
        failures.len(),
        tally.borrow().sent,
        failures.join("\n  ")
    );
    tally.into_inner()
}

/// Bytes as text, cut to `limit` characters.
fn shorten(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut short: String = text.chars().take(limit).collect();
    if text.chars().count() > limit {
        short.push_str(&format!("… ({} bytes)", bytes.len()));
    }
    short
}

/// A three-node demo with two services: its process, its API's address, its nodes' addresses.
fn start_demo(data: &tempfile::TempDir) -> (Proc, String, Vec<String>) {
    let (demo, bound) = Proc::start_on_free_ports(
        &[
            "demo",
            "--port",
            "0",
            "--nodes",
            "3",
            "--data-dir",
            data.path().join("data").to_str().unwrap(),
        ],
        data.path(),
        "demo",
    );
    let api = demo.addr.clone();
    let nodes: Vec<String> = (1..=3)
        .map(|n| bound["nodes"][n.to_string()].as_str().unwrap().to_string())
        .collect();
    wait_for(Duration::from_secs(30), "a leader", || {
        let (status, state) = get(&api, "/clusters/0/stats");
        (status == 200 && state["leader"].is_object()).then_some(())
    });
    for label in ["first", "second"] {
        let (status, answer) = post(
            &api,
            "/clusters/0/service",
            &json!({"container": {"label": label}, "replicas": 2}),
        );
        assert_eq!(status, 201, "{answer}");
    }
    (demo, api, nodes)
}

#[test]
fn hostile_requests_get_json_4xx_and_change_nothing() {
    let cases = number_from_env("FLOTILLA_FUZZ_CASES", 1000) as u32;
    let seed = seed_from_env("FLOTILLA_FUZZ_SEED");
    let data = tempfile::tempdir().expect("temp dir");
    let (mut demo, api, nodes) = start_demo(&data);
    let port_of = |addr: &str| addr.rsplit_once(':').unwrap().1.parse::<u16>().unwrap();
    let mut ports: Vec<u16> = nodes.iter().map(|addr| port_of(addr)).collect();
    ports.push(port_of(&api));

    let targets = [
        Target {
            name: "entry point",
            addr: api.clone(),
            endpoints: entry_endpoints(ports[0]),
            listings: vec!["/clusters", "/clusters/0/services"],
            ports: ports.clone(),
            applied: ("/clusters/0/state", "last_applied"),
        },
        Target {
            name: "node 1",
            addr: nodes[0].clone(),
            endpoints: node_endpoints(ports[1]),
            listings: vec!["/services", "/nodes", "/connections"],
            ports: ports.clone(),
            applied: ("/stats", "applied_index"),
        },
    ];
    for target in &targets {
        let Tally {
            sent,
            skipped,
            statuses,
        } = fuzz(target, cases, seed);
        println!(
            "{}: {sent} hostile requests sent ({skipped} generated but not sent: they would \
             start processes or touch the demo's own nodes); answers by status: {statuses:?}",
            target.name
        );
    }

    // Still up, still consistent, still taking writes.
    assert!(demo.is_running(), "the demo died:\n{}", demo.log());
    let (status, answer) = post(
        &api,
        "/clusters/0/service",
        &json!({"container": {"label": "after-the-fuzz"}, "replicas": 1}),
    );
    assert_eq!(status, 201, "{answer}");
    let (status, state) = get(&api, "/clusters/0/state");
    assert_eq!(status, 200, "{state}");
    let violations = accounting_violations(&state);
    assert!(violations.is_empty(), "{violations:?}");
}

/// The faults the fuzzer found, each as the request that showed it: a path segment that is not
/// UTF-8 was refused in plain text; a path the page does not have, with a method other than GET,
/// got an empty 405; a page path longer than a file name may be got a 500.
#[test]
fn what_the_fuzzer_found_is_refused_with_json_4xx() {
    let data = tempfile::tempdir().expect("temp dir");
    let (_demo, api, nodes) = start_demo(&data);
    let long = "x".repeat(20_000);
    let cases = [
        (&api, "GET", "/clusters/%FF/stats".to_string(), 400),
        (
            &api,
            "POST",
            "/clusters/0/services/%FF/scale".to_string(),
            400,
        ),
        (&nodes[0], "GET", "/services/%FF".to_string(), 400),
        (&api, "POST", "/clusters/0/events/".to_string(), 404),
        (&api, "DELETE", "/no-such-page".to_string(), 404),
        (&api, "GET", format!("/clusters/{long}/x"), 404),
        (&api, "GET", format!("/{long}"), 404),
    ];
    for (addr, method, target, expected) in cases {
        let request = RawRequest {
            method: method.to_string(),
            target: target.clone().into_bytes(),
            content_type: Some("application/json".to_string()),
            body: b"{\"replicas\": 1}".to_vec(),
        };
        let answer = exchange(addr, &request, ANSWER_LIMIT).expect("an answer");
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let shown: String = target.chars().take(60).collect();
        assert_eq!(answer.status, expected, "{method} {shown}: {body}");
        assert!(
            answer
                .content_type
                .as_deref()
                .is_some_and(|kind| kind.starts_with("application/json"))
                && body["error"].as_str().is_some_and(|text| !text.is_empty()),
            "{method} {shown}: {:?} {body}",
            answer.content_type
        );
    }
}
