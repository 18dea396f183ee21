//! The OpenAPI documents (`GET /openapi.json`) and their page (`/docs`) against a running
//! `flotilla demo`: its entry point and one of its nodes.
//!
//! - Every operation a document names is served: each documented method and path, with sample
//!   parameters, reaches a handler (not the JSON 404 for unknown paths or the 405 for unknown
//!   methods), and every other method on a documented path is the 405. The other direction —
//!   no route served undocumented — holds by construction (routes are added only through
//!   `api::openapi::ApiRoutes`, from annotated handlers) and is checked on the source: no
//!   `.route(` anywhere but the internal `/raft/*` router.
//! - The documents are valid OpenAPI 3.1, by a validator someone else wrote: Python's
//!   `openapi-spec-validator` (`pip install openapi-spec-validator`).
//! - The request examples they carry (both seed shapes of `POST /service`, scale) are accepted.
//! - The documents ask for the bearer token exactly where the server does, and name the JSON
//!   error body of every refusal.
//! - `/docs` is HTML that loads only its own server's files, and those are served.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use flotilla_tests::demo::Demo;
use flotilla_tests::process::EventStream;
use flotilla_tests::process::get;
use flotilla_tests::process::send;
use serde_json::Value;
use serde_json::json;

const TOKEN: &str = "openapi-test-token-0123456789";

/// The methods a document could name that the servers might route.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A demo of three nodes started with a token.
fn start_demo() -> Demo {
    Demo::builder().nodes(3).args(&["--token", TOKEN]).start()
}

/// The entry point's document and the first node's.
fn documents(demo: &Demo) -> [(&'static str, String, Value); 2] {
    [
        ("entry point", demo.api(), document(&demo.api())),
        ("node", demo.node(1), document(&demo.node(1))),
    ]
}

fn document(addr: &str) -> Value {
    let (status, document) = get(addr, "/openapi.json");
    assert_eq!(status, 200, "GET {addr}/openapi.json: {document}");
    assert_eq!(document["openapi"], "3.1.0", "{addr}");
    document
}

/// What a request got: status, content type and (unless it is an event stream) the body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    location: String,
    body: String,
}

impl Answer {
    fn error(&self) -> String {
        serde_json::from_str::<Value>(&self.body).unwrap_or(Value::Null)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Whether the router knew the method and path (a handler answered, whatever it said).
    fn routed(&self) -> bool {
        let unknown_path = self.status == 404 && self.error().starts_with("no such endpoint");
        self.status != 0 && self.status != 405 && !unknown_path
    }
}

/// Sends `method` to `addr` `path` (with the token if `token`), and `{}` as the body of anything
/// but GET; follows no redirect and reads no event stream.
fn request(method: &str, addr: &str, path: &str, token: bool) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let url = format!("http://{addr}{path}");
    let bearer = if token {
        format!("Bearer {TOKEN}")
    } else {
        String::new()
    };
    let result = match method {
        "GET" => agent.get(&url).header("authorization", &bearer).call(),
        "DELETE" => agent
            .delete(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .force_send_body()
            .send("{}"),
        "POST" => agent
            .post(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .send("{}"),
        "PUT" => agent
            .put(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .send("{}"),
        "PATCH" => agent
            .patch(&url)
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .send("{}"),
        other => panic!("no such method in this test: {other}"),
    };
    match result {
        Ok(mut response) => {
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            let content_type = header("content-type");
            let location = header("location");
            let body = if content_type.starts_with("text/event-stream") {
                String::new()
            } else {
                response.body_mut().read_to_string().unwrap_or_default()
            };
            Answer {
                status: response.status().as_u16(),
                content_type,
                location,
                body,
            }
        }
        Err(err) => Answer {
            status: 0,
            content_type: String::new(),
            location: String::new(),
            body: err.to_string(),
        },
    }
}

/// `path` with every `{param}` replaced by its sample value.
fn fill(path: &str, samples: &BTreeMap<&str, String>) -> String {
    let mut filled = path.to_string();
    for (name, value) in samples {
        filled = filled.replace(&format!("{{{name}}}"), value);
    }
    assert!(!filled.contains('{'), "no sample for a parameter of {path}");
    filled
}

/// The documented operations: `(path, method in upper case, operation)`.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .iter()
                .filter(|(method, _)| METHODS.contains(&method.to_uppercase().as_str()))
                .map(|(method, operation)| (path.clone(), method.to_uppercase(), operation.clone()))
        })
        .collect()
}

#[test]
fn every_documented_operation_is_served_and_no_other_method() {
    let demo = start_demo();
    for (server, addr, document) in documents(&demo) {
        let samples: BTreeMap<&str, String> = match server {
            "node" => [("id", "1".to_string())].into(),
            _ => [
                ("id", "0".to_string()),
                ("service", "1".to_string()),
                ("addr", demo.node(2)),
            ]
            .into(),
        };
        let mut samples = samples;
        samples.insert("file", "index.css".to_string());
        let operations = operations(&document);
        assert!(operations.len() > 10, "{server}: {operations:?}");
        let mut wrong = Vec::new();
        for (path, method, operation) in &operations {
            let url = fill(path, &samples);
            let answer = request(method, &addr, &url, true);
            if !answer.routed() {
                wrong.push(format!("{method} {url}: not served: {answer:?}"));
            }
            let streams = operation["responses"]["200"]["content"]
                .as_object()
                .is_some_and(|content| content.contains_key("text/event-stream"));
            if streams && !answer.content_type.starts_with("text/event-stream") {
                wrong.push(format!(
                    "{method} {url}: documented as a stream: {answer:?}"
                ));
            }
            // The document asks for the token exactly where the server does.
            let secured = operation["security"][0]
                .as_object()
                .is_some_and(|requirement| requirement.contains_key("bearer"));
            let without_token = request(method, &addr, &url, false);
            if secured != (without_token.status == 401) {
                wrong.push(format!(
                    "{method} {url}: documented {}, but without a token: {without_token:?}",
                    if secured { "with the token" } else { "open" }
                ));
            }
            if !operation["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .is_some_and(|schema| schema.ends_with("/ErrorBody"))
            {
                wrong.push(format!("{method} {path}: no error body documented"));
            }
        }
        let documented: BTreeMap<&str, Vec<&str>> =
            operations
                .iter()
                .fold(BTreeMap::new(), |mut by_path, (path, method, _)| {
                    by_path
                        .entry(path.as_str())
                        .or_default()
                        .push(method.as_str());
                    by_path
                });
        for (path, methods) in &documented {
            let url = fill(path, &samples);
            for method in METHODS.iter().filter(|method| !methods.contains(method)) {
                let answer = request(method, &addr, &url, true);
                if answer.status != 405 {
                    wrong.push(format!(
                        "{method} {url} is not documented but answers {answer:?}"
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{server}:\n{}", wrong.join("\n"));
    }
}

#[test]
fn the_documents_pass_an_openapi_validator() {
    let python = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output();
    match python {
        Err(err) => panic!(
            "this test needs python3 with openapi-spec-validator (pip install \
             openapi-spec-validator): cannot run python3: {err}"
        ),
        Ok(output) if !output.status.success() => panic!(
            "this test needs Python's openapi-spec-validator: pip install \
             openapi-spec-validator ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Ok(_) => {}
    }
    let demo = start_demo();
    let dir = tempfile::tempdir().expect("temp dir");
    for (server, _, document) in documents(&demo) {
        let file = dir
            .path()
            .join(format!("{}.json", server.replace(' ', "-")));
        std::fs::write(&file, document.to_string()).expect("write the document");
        let output = Command::new("python3")
            .args(["-m", "openapi_spec_validator"])
            .arg(&file)
            .output()
            .expect("run python3");
        assert!(
            output.status.success(),
            "{server}'s document is not valid OpenAPI:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The example of the schema `name` in `document`.
fn example(document: &Value, name: &str) -> Value {
    let example = document["components"]["schemas"][name]["example"].clone();
    assert!(example.is_object(), "no example for {name}");
    example
}

#[test]
fn documented_request_examples_are_accepted() {
    let demo = start_demo();
    for (server, addr, document) in documents(&demo) {
        let prefix = if server == "node" { "" } else { "/clusters/0" };
        let created = |body: &Value| {
            let reply = send(
                "POST",
                &addr,
                &format!("{prefix}/services"),
                &[
                    ("content-type", "application/json"),
                    ("authorization", &format!("Bearer {TOKEN}")),
                ],
                Some(body.to_string().into_bytes()),
            );
            assert_eq!(reply.status, 201, "{server}: {body}: {reply:?}");
            reply.json()["services"][0]["id"].as_u64().expect("an id")
        };
        let one = created(&example(&document, "OneService"));
        created(&example(&document, "ManyServices"));
        let scale = send(
            "POST",
            &addr,
            &format!("{prefix}/services/{one}/scale"),
            &[
                ("content-type", "application/json"),
                ("authorization", &format!("Bearer {TOKEN}")),
            ],
            Some(example(&document, "ScaleRequest").to_string().into_bytes()),
        );
        assert_eq!(scale.status, 200, "{server}: {scale:?}");

        assert_eq!(
            document["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let error = &document["components"]["schemas"]["ErrorBody"];
        assert_eq!(error["required"], json!(["error"]), "{server}: {error}");
        let description = document["info"]["description"].as_str().unwrap_or_default();
        if server == "node" {
            assert!(description.contains("/raft/"), "{description}");
            assert!(
                !document["paths"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|path| path.starts_with("/raft")),
                "the internal Raft endpoints are documented"
            );
        }
    }
}

#[test]
fn docs_pages_load_only_their_own_files_and_reads_stay_open() {
    let demo = start_demo();
    for addr in [&demo.api(), &demo.node(1)] {
        let moved = request("GET", addr, "/docs", false);
        assert_eq!(
            (moved.status, moved.location.as_str()),
            (303, "docs/"),
            "{addr}"
        );
        // No token: documents and the page are reads, open like every GET.
        let page = send("GET", addr, "/docs/", &[], None);
        assert_eq!(page.status, 200, "{addr}: {page:?}");
        assert!(
            page.headers["content-type"].starts_with("text/html"),
            "{page:?}"
        );
        let assets = referenced(&page.text);
        assert!(assets.len() >= 3, "{addr}: {assets:?}");
        for asset in assets {
            assert!(
                !asset.contains("//") && !asset.contains(':'),
                "{addr}/docs/ loads {asset:?} from elsewhere"
            );
            let path = format!("/docs/{}", asset.trim_start_matches("./"));
            let file = send("GET", addr, &path, &[], None);
            assert_eq!(file.status, 200, "{addr}{path}: {file:?}");
            let image = file.headers["content-type"].starts_with("image/");
            assert!(image || !file.text.is_empty(), "{addr}{path} is empty");
        }
        // The page finds this server's document by a relative URL.
        let script = send("GET", addr, "/docs/swagger-initializer.js", &[], None);
        assert!(
            script.text.contains("\"url\": \"../openapi.json\""),
            "{}",
            script.text
        );
        assert!(
            script.text.contains("\"validatorUrl\": \"none\""),
            "{}",
            script.text
        );
        let missing = send("GET", addr, "/docs/no-such-file.js", &[], None);
        assert_eq!(missing.status, 404, "{missing:?}");
        assert!(missing.json()["error"].is_string(), "{missing:?}");
        // The same guard layers as the rest: a loopback server refuses other host names.
        for path in ["/openapi.json", "/docs/"] {
            let rebound = send("GET", addr, path, &[("host", "evil.example")], None);
            assert_eq!(rebound.status, 403, "{addr}{path}: {rebound:?}");
        }
    }
    // An event stream the document names opens as one.
    EventStream::open(&demo.node(1), "/events", Duration::from_secs(5));
}

/// The `src` and `href` attribute values of an HTML page.
fn referenced(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("a closing quote");
            found.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    found
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_route_is_served_outside_the_documented_route_lists() {
    let native = Path::new(env!("CARGO_MANIFEST_DIR")).join("../native/src");
    let internal = native.join("api/raft.rs");
    let mut undocumented = Vec::new();
    for file in sources(&native) {
        if file == internal || file.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read a source file");
        // Unit tests (from `#[cfg(test)]` on) build routers of their own.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            let adds_route = [".route(", ".route_service(", ".nest(", ".nest_service("]
                .iter()
                .any(|call| line.contains(call));
            if adds_route {
                undocumented.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "routes added outside api::openapi::ApiRoutes (so missing from /openapi.json):\n{}",
        undocumented.join("\n")
    );
    // The check sees the routes it must allow.
    let raft = std::fs::read_to_string(internal).expect("read api/raft.rs");
    assert!(
        raft.contains(".route("),
        "api/raft.rs adds no route any more"
    );
}
