//! `mock-server/openapi.yaml` against the running server.
//!
//! Every endpoint and every error case is exercised over real HTTP (a small HTTP/1.1 client on
//! a tokio `TcpStream`), and every response is checked against what the document declares for
//! its path template, method and status: the status must be documented, the content type must
//! match, required headers must be present and the body must validate against the schema. At
//! the end, every response the document declares must have been seen at least once, so the
//! document cannot list something the test never produced.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

mod common;
#[path = "support/redis.rs"]
mod redis_support;

use common::{Resp as Reply, exchange, request_bytes};
use serde_json::{Value, json};
use truidentidad_mock_server::MockServer;
use truidentidad_scenarios::Catalogue;

const OPENAPI_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
/// A distinctive API key, so the test can check it never shows up in the journal.
const KEY: &str = "openapi-test-key-5c1e";
const FORM: &str = "application/x-www-form-urlencoded";
const ADMIN_TOKEN: &str = "admin-secret";
const UNKNOWN_ID: &str = "VLD00000000000000000000000000000000";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Fault scenarios shared with the load tool's tests. `create-fails` (every create answers
/// 500) is the only way to see a 5xx on create.
const TEST_FAULTS: (&str, &str) = (
    "fixtures/scenarios/test-faults.toml",
    include_str!("../../fixtures/scenarios/test-faults.toml"),
);

// ------------------------------------------------------------------ the document

/// The parsed OpenAPI document and what the test has seen of it.
struct Spec {
    doc: Value,
    /// `(path template, method, response key)` seen in a response.
    covered: BTreeSet<(String, String, String)>,
}

/// What a response was checked against.
#[derive(Debug)]
struct Checked {
    /// `(path template, method, response key)`, or `None` for a path the document does not list.
    key: Option<(String, String, String)>,
}

impl Spec {
    fn load() -> Spec {
        let text = std::fs::read_to_string(OPENAPI_FILE).expect("read mock-server/openapi.yaml");
        let doc: Value =
            serde_yaml::from_str(&text).expect("mock-server/openapi.yaml is valid YAML");
        Spec {
            doc,
            covered: BTreeSet::new(),
        }
    }

    fn paths(&self) -> &serde_json::Map<String, Value> {
        self.doc["paths"].as_object().expect("`paths` is a mapping")
    }

    /// Follows a local `$ref` (`#/components/...`).
    fn resolve<'a>(&'a self, v: &'a Value) -> Result<&'a Value, String> {
        match v.get("$ref").and_then(Value::as_str) {
            None => Ok(v),
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .ok_or_else(|| format!("non-local $ref {r}"))?;
                let target = self
                    .doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("dangling $ref {r}"))?;
                self.resolve(target)
            }
        }
    }

    /// The path template matching a concrete path; literal segments beat `{parameters}`.
    fn template_for(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.paths()
            .keys()
            .filter_map(|t| {
                let ts: Vec<&str> = t.split('/').collect();
                if ts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (a, b) in ts.iter().zip(&segments) {
                    if a.starts_with('{') && a.ends_with('}') {
                        if b.is_empty() {
                            return None;
                        }
                    } else if a == b {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, t))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, t)| t.clone())
    }

    /// A validator for `schema`, with the document's components in scope for `$ref`s.
    fn validator(&self, schema: &Value) -> Result<jsonschema::Validator, String> {
        let mut root = schema.clone();
        let obj = root.as_object_mut().ok_or("a schema must be an object")?;
        obj.insert("components".into(), self.doc["components"].clone());
        jsonschema::draft202012::new(&root).map_err(|e| format!("schema does not compile: {e}"))
    }

    fn validate(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let v = self.validator(schema)?;
        let errors: Vec<String> = v
            .iter_errors(instance)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    /// Checks one response against the document.
    fn verify(&self, method: &str, path: &str, reply: &Reply) -> Result<Checked, String> {
        let method = method.to_ascii_lowercase();
        let status = reply.status;
        let Some(template) = self.template_for(path) else {
            if status != 404 {
                return Err(format!(
                    "{path} is not in the document, yet answered {status} (only 404 is documented for unlisted paths)"
                ));
            }
            let response = self.resolve(&self.doc["components"]["responses"]["NotFound"])?;
            self.verify_response(response, reply)?;
            return Ok(Checked { key: None });
        };
        let item = &self.doc["paths"][&template];
        let (op_method, op) = match item.get(&method) {
            Some(op) => (method.clone(), op),
            // A method the path does not serve: the path's operations document the 405.
            None if status == 405 => METHODS
                .iter()
                .find_map(|m| {
                    item.get(*m)
                        .filter(|op| op["responses"].get("405").is_some())
                        .map(|op| (m.to_string(), op))
                })
                .ok_or_else(|| {
                    format!(
                        "{} {template} answered 405 but no operation of the path documents 405",
                        method.to_uppercase()
                    )
                })?,
            None => {
                return Err(format!(
                    "{} {template} is not documented, yet answered {status}",
                    method.to_uppercase()
                ));
            }
        };
        let responses = &op["responses"];
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let (key, response) = [exact, range]
            .into_iter()
            .find_map(|k| responses.get(&k).map(|r| (k, r)))
            .ok_or_else(|| {
                format!(
                    "status {status} is not documented for {} {template}",
                    op_method.to_uppercase()
                )
            })?;
        let response = self.resolve(response)?;
        self.verify_response(response, reply)
            .map_err(|e| format!("{} {template} -> {status}: {e}", op_method.to_uppercase()))?;
        Ok(Checked {
            key: Some((template, op_method, key)),
        })
    }

    fn verify_response(&self, response: &Value, reply: &Reply) -> Result<(), String> {
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for (name, h) in headers {
                let h = self.resolve(h)?;
                match reply.header(name) {
                    Some(value) => self
                        .validate(&h["schema"], &json!(value))
                        .map_err(|e| format!("header {name}: {e}"))?,
                    None if h["required"] == json!(true) => {
                        return Err(format!("required header {name} is missing"));
                    }
                    None => {}
                }
            }
        }
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            // A response without content (the CORS preflight's 204) must come without a body.
            return if reply.body.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "no body is documented, yet {} bytes came: {}",
                    reply.body.len(),
                    reply.text()
                ))
            };
        };
        let sent_type = reply
            .header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let media = content.get(&sent_type).ok_or_else(|| {
            format!(
                "content type `{sent_type}` is not documented (documented: {:?})",
                content.keys().collect::<Vec<_>>()
            )
        })?;
        let schema = self.resolve(&media["schema"])?;
        let instance = if sent_type == "application/json" {
            serde_json::from_slice(&reply.body)
                .map_err(|e| format!("body is not JSON ({e}): {}", reply.text()))?
        } else {
            json!(std::str::from_utf8(&reply.body).map_err(|e| format!("body is not UTF-8: {e}"))?)
        };
        self.validate(schema, &instance).map_err(|e| {
            format!(
                "body does not match the schema:\n{e}\nbody: {}",
                reply.text()
            )
        })?;
        if reply.status >= 400 {
            // Behaviour every client of the envelope relies on, beyond what a schema can say.
            let http_code = instance["http_code"].as_u64();
            let code = instance["code"].as_u64();
            if http_code != Some(u64::from(reply.status))
                || code != Some(20_000 + u64::from(reply.status))
            {
                return Err(format!(
                    "error envelope does not carry the status: {instance}"
                ));
            }
        }
        Ok(())
    }

    /// Every `(path template, method, response key)` the document declares.
    fn documented(&self) -> BTreeSet<(String, String, String)> {
        let mut out = BTreeSet::new();
        for (template, item) in self.paths() {
            for m in METHODS {
                if let Some(responses) = item.get(m).and_then(|op| op["responses"].as_object()) {
                    for key in responses.keys() {
                        out.insert((template.clone(), m.to_string(), key.clone()));
                    }
                }
            }
        }
        out
    }
}

// ------------------------------------------------------------------ a small HTTP/1.1 client

// The client itself (`exchange`, `Resp`) is the one in `common/`, shared with the other tests.

/// A request head plus body, with `Content-Length` set from the body.
fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    request_bytes("127.0.0.1", method, target, headers, body)
}

/// A request that declares `declared` body bytes but sends only `sent`.
fn short_body(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    declared: usize,
    sent: &[u8],
) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {declared}\r\n"
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(sent);
    out
}

// ------------------------------------------------------------------ the test client

/// Sends requests to one server and checks every response against the document.
struct Client<'a> {
    addr: SocketAddr,
    spec: &'a mut Spec,
}

impl Client<'_> {
    async fn raw(&mut self, method: &str, target: &str, bytes: &[u8]) -> (u16, Reply) {
        let reply = exchange(self.addr, bytes).await;
        let path = target.split('?').next().unwrap_or(target);
        match self.spec.verify(method, path, &reply) {
            Ok(Checked { key: Some(k) }) => {
                self.spec.covered.insert(k);
            }
            Ok(Checked { key: None }) => {}
            Err(e) => panic!(
                "{method} {target}: response contradicts mock-server/openapi.yaml:\n{e}\nstatus {}, body: {}",
                reply.status,
                reply.text()
            ),
        }
        (reply.status, reply)
    }

    async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        self.raw(method, target, &request(method, target, headers, body))
            .await
            .1
    }

    /// Sends and expects `status`; returns the JSON body (Null when not JSON).
    async fn expect(
        &mut self,
        status: u16,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Value {
        let reply = self.send(method, target, headers, body).await;
        assert_eq!(reply.status, status, "{method} {target}: {}", reply.text());
        serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
    }

    /// Expects an error `status` whose message mentions `needle`.
    async fn error(
        &mut self,
        status: u16,
        needle: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Value {
        let v = self.expect(status, method, target, headers, body).await;
        let message = v["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{method} {target}: message {message:?} should mention {needle:?}"
        );
        v
    }

    async fn create(&mut self, form: &str, extra: &[(&str, &str)]) -> Reply {
        let mut headers = vec![("Truora-API-Key", KEY), ("Content-Type", FORM)];
        headers.extend_from_slice(extra);
        self.send("POST", "/v1/validations", &headers, form.as_bytes())
            .await
    }

    /// Creates and returns the new validation's id.
    async fn create_ok(&mut self, form: &str, extra: &[(&str, &str)]) -> (String, Value) {
        let reply = self.create(form, extra).await;
        assert_eq!(reply.status, 200, "create {form}: {}", reply.text());
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        (v["validation_id"].as_str().unwrap().to_string(), v)
    }

    async fn create_error(
        &mut self,
        status: u16,
        needle: &str,
        form: &str,
        extra: &[(&str, &str)],
    ) -> Reply {
        let reply = self.create(form, extra).await;
        assert_eq!(reply.status, status, "create {form}: {}", reply.text());
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        let message = v["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "create {form}: message {message:?} should mention {needle:?}"
        );
        reply
    }

    async fn poll(&mut self, id: &str, query: &str) -> Reply {
        self.send(
            "GET",
            &format!("/v1/validations/{id}{query}"),
            &[("Truora-API-Key", KEY)],
            b"",
        )
        .await
    }

    async fn poll_ok(&mut self, id: &str, query: &str) -> Value {
        let reply = self.poll(id, query).await;
        assert_eq!(reply.status, 200, "poll {id}{query}: {}", reply.text());
        serde_json::from_slice(&reply.body).unwrap()
    }

    async fn control(
        &mut self,
        status: u16,
        method: &str,
        target: &str,
        json_body: Option<Value>,
    ) -> Value {
        match json_body {
            Some(b) => {
                let body = b.to_string();
                self.expect(
                    status,
                    method,
                    target,
                    &[("Content-Type", "application/json")],
                    body.as_bytes(),
                )
                .await
            }
            None => self.expect(status, method, target, &[], b"").await,
        }
    }
}

async fn main_server() -> MockServer {
    let mut catalogue = Catalogue::builtin();
    catalogue
        .load_file(TEST_FAULTS.0, TEST_FAULTS.1)
        .expect("test scenario parses");
    MockServer::builder()
        .seed(1)
        .manual_clock()
        .configure(|c| c.catalogue = Arc::new(catalogue))
        .start()
        .await
        .expect("start the mock")
}

// ------------------------------------------------------------------ tests

#[test]
fn document_parses_and_every_reference_resolves() {
    let spec = Spec::load();
    assert!(
        spec.doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "the document must be OpenAPI 3.1"
    );
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&spec.doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let target = r.strip_prefix('#').and_then(|p| spec.doc.pointer(p));
        assert!(target.is_some(), "dangling $ref {r}");
    }
    for (name, schema) in spec.doc["components"]["schemas"].as_object().unwrap() {
        if let Err(e) = spec.validator(schema) {
            panic!("components/schemas/{name}: {e}");
        }
    }
    // Every operation lists its 405 (the answer to the path's other methods), except the
    // Web Adapter's CORS preflight, which is answered before the method is looked at.
    for (template, item) in spec.paths() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                assert!(
                    op["responses"].get("405").is_some() || template == "/" || m == "options",
                    "{m} {template} must document 405"
                );
            }
        }
    }
}

#[test]
fn the_checker_catches_drift() {
    // The checks below are what makes the live test able to fail; prove they do.
    let spec = Spec::load();
    let reply = |status: u16, body: Value| Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    };
    let good = json!({
        "validation_id": "VLD0123456789abcdef0123456789abcdef",
        "ip_address": "127.0.0.1",
        "account_id": "declined-deceased.x",
        "type": "government",
        "validation_status": "failure",
        "creation_date": "2024-05-22T23:32:01.272290601Z",
        "failure_status": "declined",
        "declined_reason": "identity_belongs_to_dead_person",
    });
    let path = "/v1/validations/VLD0123456789abcdef0123456789abcdef";
    spec.verify("GET", path, &reply(200, good.clone()))
        .expect("a well-formed validation passes");

    let mut extra = good.clone();
    extra["surprise"] = json!(1);
    assert!(
        spec.verify("GET", path, &reply(200, extra)).is_err(),
        "an undocumented field is drift"
    );
    let mut missing_reason = good.clone();
    missing_reason
        .as_object_mut()
        .unwrap()
        .remove("declined_reason");
    assert!(
        spec.verify("GET", path, &reply(200, missing_reason))
            .is_err(),
        "declined needs declined_reason"
    );
    let mut pending_with_reason = good.clone();
    pending_with_reason["validation_status"] = json!("pending");
    assert!(
        spec.verify("GET", path, &reply(200, pending_with_reason))
            .is_err(),
        "pending has no failure fields"
    );
    let mut bad_reason = good.clone();
    bad_reason["declined_reason"] = json!("made_up_reason");
    assert!(
        spec.verify("GET", path, &reply(200, bad_reason)).is_err(),
        "reasons are an enum"
    );

    let err = json!({"code": 20418, "http_code": 418, "message": "teapot"});
    let e = spec.verify("GET", path, &reply(418, err)).unwrap_err();
    assert!(e.contains("not documented"), "{e}");
    let wrong_code = json!({"code": 10404, "http_code": 404, "message": "x"});
    assert!(
        spec.verify("GET", path, &reply(404, wrong_code)).is_err(),
        "code is 20000 + status"
    );
    let e = spec
        .verify("GET", "/v2/nothing", &reply(200, json!({})))
        .unwrap_err();
    assert!(e.contains("not in the document"), "{e}");
    let no_allow = reply(
        405,
        json!({"code": 20405, "http_code": 405, "message": "no"}),
    );
    let e = spec.verify("PUT", path, &no_allow).unwrap_err();
    assert!(e.contains("Allow"), "{e}");

    // The browser side: the Web Adapter's CORS header, its closed state object, the preflight.
    let adapter = "/web-adapter/v1/validations/VLD0123456789abcdef0123456789abcdef";
    let state = json!({
        "validation_id": "VLD0123456789abcdef0123456789abcdef",
        "validation_status": "failure",
        "failure_status": "declined",
        "declined_reason": "canceled",
        "expired_reason": null,
        "result": "failed",
        "journey": {"step": "ended", "device": "phone", "document_known": false},
        "expires_in_seconds": 12.5,
        "max_video_bytes": 8_388_608,
    });
    let with_cors = |status: u16, body: Value| {
        let mut r = reply(status, body);
        r.headers
            .push(("Access-Control-Allow-Origin".into(), "*".into()));
        r
    };
    spec.verify("GET", adapter, &with_cors(200, state.clone()))
        .expect("a well-formed adapter state passes");
    let e = spec
        .verify("GET", adapter, &reply(200, state.clone()))
        .unwrap_err();
    assert!(e.contains("Access-Control-Allow-Origin"), "{e}");
    let mut pending_failed = state.clone();
    pending_failed["result"] = json!("pending");
    assert!(
        spec.verify("GET", adapter, &with_cors(200, pending_failed))
            .is_err(),
        "result follows validation_status"
    );
    let mut extra_journey = state.clone();
    extra_journey["journey"]["on_hold"] = json!(true);
    assert!(
        spec.verify("GET", adapter, &with_cors(200, extra_journey))
            .is_err(),
        "the adapter's journey is closed"
    );
    let mut preflight = with_cors(204, json!({}));
    preflight.headers.extend(
        [
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            ("Access-Control-Allow-Headers", "content-type"),
            ("Access-Control-Max-Age", "600"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let e = spec.verify("OPTIONS", adapter, &preflight).unwrap_err();
    assert!(e.contains("no body is documented"), "{e}");
    preflight.body.clear();
    spec.verify("OPTIONS", adapter, &preflight)
        .expect("an empty preflight passes");
}

#[tokio::test]
async fn openapi_endpoint_serves_the_file_verbatim() {
    let server = MockServer::builder()
        .seed(1)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let reply = exchange(
        server.address(),
        &request("GET", "/_mock/openapi.yaml", &[], b""),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/yaml"));
    let file = std::fs::read(OPENAPI_FILE).unwrap();
    assert!(
        reply.body == file,
        "GET /_mock/openapi.yaml differs from mock-server/openapi.yaml (rebuild?)"
    );
}

#[tokio::test]
async fn every_documented_response_is_produced_and_matches_its_schema() {
    let mut spec = Spec::load();
    let server = main_server().await;
    let mut c = Client {
        addr: server.address(),
        spec: &mut spec,
    };
    // Each step is boxed: one async fn holding them all overflows a debug build's test stack.
    Box::pin(discovery(&mut c)).await;
    let (deceased, success) = Box::pin(lifecycle(&mut c, &server)).await;
    Box::pin(create_errors(&mut c)).await;
    let flaky = Box::pin(poll_errors(&mut c, &success)).await;
    Box::pin(unlisted_paths(&mut c, &success)).await;
    Box::pin(list_and_detail(&mut c, &deceased)).await;
    Box::pin(complete(&mut c)).await;
    Box::pin(switch_scenario(&mut c, &server)).await;
    Box::pin(arm(&mut c)).await;
    Box::pin(clock(&mut c)).await;
    Box::pin(journal(&mut c, &flaky)).await;
    let walked = Box::pin(web_journey(&mut c, &server)).await;
    Box::pin(web_adapter_errors(&mut c)).await;
    Box::pin(dashboard_api(&mut c, &walked)).await;
    Box::pin(pages(&mut c, &walked)).await;
    Box::pin(reset(&mut c, &deceased)).await;
    Box::pin(other_configurations(&mut c)).await;
    Box::pin(store_outage(&mut c)).await;

    // The document lists nothing the server was not seen to answer.
    let missing: Vec<String> = spec
        .documented()
        .difference(&spec.covered)
        .map(|(p, m, s)| format!("{} {p} -> {s}", m.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "documented but never produced by this test:\n{}",
        missing.join("\n")
    );
}

const KEY_HEADER: [(&str, &str); 1] = [("Truora-API-Key", KEY)];
const FORM_KEY_HEADERS: [(&str, &str); 2] = [("Truora-API-Key", KEY), ("Content-Type", FORM)];
const JSON_HEADERS: [(&str, &str); 1] = [("Content-Type", "application/json")];
const WEBM_HEADERS: [(&str, &str); 1] = [("Content-Type", "video/webm")];

/// A Web Adapter path of validation `id`.
fn adapter(id: &str, rest: &str) -> String {
    format!("/web-adapter/v1/validations/{id}{rest}")
}

/// Discovery and read-only control endpoints.
async fn discovery(c: &mut Client<'_>) {
    let v = c.expect(200, "GET", "/", &[], b"").await;
    assert_eq!(v["openapi"], "/_mock/openapi.yaml");
    c.error(405, "allowed: GET", "TRACE", "/", &[], b"").await;
    let v = c.expect(200, "GET", "/_mock/health", &[], b"").await;
    assert_eq!(
        (v["clock"].as_str(), v["validations"].as_u64()),
        (Some("manual"), Some(0))
    );
    c.error(405, "allowed: GET", "POST", "/_mock/health", &[], b"")
        .await;
    let v = c.expect(200, "GET", "/_mock/openapi.yaml", &[], b"").await;
    assert_eq!(v, Value::Null, "the document is YAML, not JSON");
    c.error(
        405,
        "allowed: GET",
        "DELETE",
        "/_mock/openapi.yaml",
        &[],
        b"",
    )
    .await;
    let v = c.expect(200, "GET", "/_mock/scenarios", &[], b"").await;
    let names: Vec<&str> = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"declined-deceased") && names.contains(&"create-fails"),
        "{names:?}"
    );
    c.error(405, "allowed: GET", "POST", "/_mock/scenarios", &[], b"")
        .await;
    let v = c.expect(200, "GET", "/_mock/clock", &[], b"").await;
    assert_eq!(v["mode"], "manual");
    c.error(405, "allowed: GET", "POST", "/_mock/clock", &[], b"")
        .await;
    let reply = c.send("GET", "/_mock/metrics", &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply
            .text()
            .contains("truidentidad_mock_open_connections 1"),
        "{}",
        reply.text()
    );
    c.error(405, "allowed: GET", "POST", "/_mock/metrics", &[], b"")
        .await;
}

/// Create, then poll to each terminal state on the manual clock.
async fn lifecycle(c: &mut Client<'_>, server: &MockServer) -> (String, String) {
    let full = "type=government&account_id=declined-deceased.x&user_authorized=true&country=CO&timeout=60&threshold=0.65&document_number=1020304050";
    let (deceased, v) = c.create_ok(full, &[]).await;
    assert_eq!(
        (v["validation_status"].as_str(), v["threshold"].as_f64()),
        (Some("pending"), Some(0.65))
    );
    let v = c.poll_ok(&deceased, "?show_details=true").await;
    assert!(
        v["details"]["government_validations"]
            .get("document_number")
            .is_none(),
        "details carry no personal data: {v}"
    );
    let (success, v) = c
        .create_ok("type=government", &[("X-Mock-Scenario", "success")])
        .await;
    assert!(
        v["account_id"].as_str().unwrap().starts_with("ACC"),
        "generated account_id: {v}"
    );
    let (expired, _) = c
        .create_ok(
            "type=government&account_id=expired-not-started.x&timeout=5",
            &[],
        )
        .await;
    let (system, _) = c
        .create_ok("type=government&account_id=system-error", &[])
        .await;
    let (face, _) = c
        .create_ok("type=government&account_id=declined-face-mismatch.1", &[])
        .await;
    let (liveness, _) = c
        .create_ok("type=government&account_id=declined-liveness.1", &[])
        .await;
    // Repeating a field with the same value is fine; Content-Type parameters are fine.
    let (_, v) = c
        .create_ok(
            "type=government&type=government",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )],
        )
        .await;
    assert_eq!(v["validation_status"], "pending");

    server.advance(Duration::from_secs(5));
    let v = c.poll_ok(&deceased, "").await;
    assert_eq!(
        (
            v["validation_status"].as_str(),
            v["failure_status"].as_str(),
            v["declined_reason"].as_str()
        ),
        (
            Some("failure"),
            Some("declined"),
            Some("identity_belongs_to_dead_person")
        )
    );
    assert!(v.get("details").is_none(), "details only with show_details");
    let v = c.poll_ok(&success, "?show_details=1").await;
    assert_eq!(v["validation_status"], "success");
    assert_eq!(
        v["details"]["government_validations"]["similarity_status"],
        "success"
    );
    let v = c.poll_ok(&expired, "?show_details=true").await;
    assert_eq!(
        (v["failure_status"].as_str(), v["expired_reason"].as_str()),
        (Some("expired"), Some("face_validation_not_started"))
    );
    let v = c.poll_ok(&system, "?show_details=false").await;
    assert_eq!(
        (v["failure_status"].as_str(), v.get("declined_reason")),
        (Some("system_error"), None)
    );
    let v = c.poll_ok(&face, "?show_details=true").await;
    assert_eq!(
        v["details"]["government_validations"],
        json!({"source": "registraduria", "country": "CO", "similarity_status": "failure",
            "passive_liveness_status": "success", "confidence_score": 0.31})
    );
    let v = c.poll_ok(&liveness, "?show_details=true").await;
    let g = &v["details"]["government_validations"];
    assert_eq!(
        (
            g["passive_liveness_status"].as_str(),
            g["similarity_status"].as_str()
        ),
        (Some("failure"), Some("skipped")),
        "a failed liveness is never compared with the registry: {v}"
    );
    let v = c.poll_ok(&expired, "?show_details=true").await;
    let g = &v["details"]["government_validations"];
    assert_eq!(
        (
            g["passive_liveness_status"].as_str(),
            g["similarity_status"].as_str()
        ),
        (Some("skipped"), Some("skipped"))
    );
    (deceased, success)
}

/// Create errors.
async fn create_errors(c: &mut Client<'_>) {
    c.create_error(400, "missing required field type", "", &[])
        .await;
    c.create_error(400, "does not emulate", "type=face-recognition", &[])
        .await;
    c.create_error(400, "unknown validation type", "type=gov", &[])
        .await;
    c.create_error(400, "account_id", "type=government&account_id=a%20b", &[])
        .await;
    c.create_error(
        400,
        "at most 256",
        &format!("type=government&account_id={}", "a".repeat(257)),
        &[],
    )
    .await;
    c.create_error(
        400,
        "more than once",
        "type=government&account_id=a&account_id=b",
        &[],
    )
    .await;
    c.create_error(
        400,
        "user_authorized",
        "type=government&user_authorized=yes",
        &[],
    )
    .await;
    c.create_error(400, "country must be CO", "type=government&country=MX", &[])
        .await;
    c.create_error(400, "timeout", "type=government&timeout=0", &[])
        .await;
    c.create_error(400, "timeout", "type=government&timeout=21601", &[])
        .await;
    c.create_error(400, "threshold", "type=government&threshold=1.5", &[])
        .await;
    c.create_error(
        400,
        "document_number",
        "type=government&document_number=12a",
        &[],
    )
    .await;
    c.create_error(400, "empty field name", "=x&type=government", &[])
        .await;
    c.create_error(
        400,
        "unknown scenario",
        "type=government",
        &[("X-Mock-Scenario", "no-such-scenario")],
    )
    .await;
    c.error(
        400,
        "not valid UTF-8",
        "POST",
        "/v1/validations",
        &FORM_KEY_HEADERS,
        b"type=\xff",
    )
    .await;
    c.error(
        400,
        "missing Content-Type",
        "POST",
        "/v1/validations",
        &KEY_HEADER,
        b"type=government",
    )
    .await;
    c.error(
        400,
        "does not accept JSON",
        "POST",
        "/v1/validations",
        &[
            ("Truora-API-Key", KEY),
            ("Content-Type", "application/json"),
        ],
        br#"{"type":"government"}"#,
    )
    .await;
    c.error(
        401,
        "missing Truora-API-Key",
        "POST",
        "/v1/validations",
        &[("Content-Type", FORM)],
        b"type=government",
    )
    .await;
    c.error(
        405,
        "allowed: POST",
        "GET",
        "/v1/validations",
        &KEY_HEADER,
        b"",
    )
    .await;
    c.error(
        405,
        "allowed: POST",
        "PUT",
        "/v1/validations",
        &FORM_KEY_HEADERS,
        b"type=government",
    )
    .await;
    let huge = short_body("POST", "/v1/validations", &FORM_KEY_HEADERS, 100_000, b"");
    let (status, reply) = c.raw("POST", "/v1/validations", &huge).await;
    assert_eq!(status, 413, "{}", reply.text());
    // A create fault answers before anything is stored; the retry goes through.
    let reply = c
        .create_error(
            429,
            "mock fault",
            "type=government&account_id=create-rate-limited.a",
            &[],
        )
        .await;
    assert_eq!(reply.header("retry-after"), Some("1"));
    c.create_ok("type=government&account_id=create-rate-limited.a", &[])
        .await;
    c.create_error(
        500,
        "create-fails",
        "type=government&account_id=create-fails",
        &[],
    )
    .await;
}

/// Poll errors.
async fn poll_errors(c: &mut Client<'_>, success: &str) -> String {
    c.error(
        400,
        "show_details",
        "GET",
        &format!("/v1/validations/{success}?show_details=maybe"),
        &KEY_HEADER,
        b"",
    )
    .await;
    c.error(
        401,
        "missing Truora-API-Key",
        "GET",
        &format!("/v1/validations/{success}"),
        &[],
        b"",
    )
    .await;
    c.error(
        404,
        "not found",
        "GET",
        &format!("/v1/validations/{UNKNOWN_ID}"),
        &KEY_HEADER,
        b"",
    )
    .await;
    c.error(
        404,
        "not found",
        "GET",
        "/v1/validations/not-an-id",
        &KEY_HEADER,
        b"",
    )
    .await;
    c.error(
        405,
        "allowed: GET",
        "POST",
        &format!("/v1/validations/{success}"),
        &FORM_KEY_HEADERS,
        b"type=government",
    )
    .await;
    c.error(
        405,
        "allowed: GET",
        "DELETE",
        &format!("/v1/validations/{success}"),
        &KEY_HEADER,
        b"",
    )
    .await;
    let (limited, _) = c
        .create_ok("type=government&account_id=rate-limited.r", &[])
        .await;
    let reply = c.poll(&limited, "").await;
    assert_eq!(
        (reply.status, reply.header("retry-after")),
        (429, Some("2")),
        "{}",
        reply.text()
    );
    let reply = c.poll(&limited, "").await;
    assert_eq!(reply.status, 429);
    assert!(
        reply
            .header("retry-after")
            .is_some_and(|d| d.ends_with(" GMT")),
        "HTTP-date Retry-After: {reply:?}"
    );
    assert_eq!(
        c.poll_ok(&limited, "").await["validation_status"],
        "pending"
    );
    let (flaky, _) = c
        .create_ok("type=government&account_id=flaky-5xx-then-success.f", &[])
        .await;
    assert_eq!(c.poll(&flaky, "").await.status, 503);
    assert_eq!(c.poll(&flaky, "").await.status, 500);
    assert_eq!(c.poll_ok(&flaky, "").await["validation_status"], "pending");
    flaky
}

/// Unlisted paths answer 404 with the envelope.
async fn unlisted_paths(c: &mut Client<'_>, success: &str) {
    for path in [
        "/nope",
        "/_mock",
        "/_mock/nope",
        "/v1/validations/",
        format!("/v1/validations/{success}/extra").as_str(),
    ] {
        c.error(404, "no", "GET", path, &KEY_HEADER, b"").await;
    }
    c.error(
        404,
        "no control endpoint",
        "GET",
        &format!("/_mock/validations/{success}/nope"),
        &[],
        b"",
    )
    .await;
}

/// Control: list, detail.
async fn list_and_detail(c: &mut Client<'_>, deceased: &str) {
    // A validation whose browser journey was opened carries a `journey` block.
    let (opened, _) = c
        .create_ok("type=government&account_id=never-completes.web", &[])
        .await;
    let body = json!({"device": "desktop", "document_number": "1020304050"}).to_string();
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&opened, "/open"),
            &JSON_HEADERS,
            body.as_bytes(),
        )
        .await;
    assert_eq!(v["journey"]["document_known"], true, "{v}");
    let v = c
        .expect(
            200,
            "GET",
            &format!("/_mock/validations/{opened}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(v["journey"]["device"], "desktop", "{v}");
    let v = c
        .expect(
            200,
            "GET",
            "/_mock/validations?account_id=never-completes.web",
            &[],
            b"",
        )
        .await;
    assert!(v["validations"][0]["journey"].is_object(), "{v}");

    let v = c.expect(200, "GET", "/_mock/validations", &[], b"").await;
    assert_eq!(
        v["count"].as_u64(),
        Some(v["validations"].as_array().unwrap().len() as u64)
    );
    let v = c
        .expect(200, "GET", "/_mock/validations?status=failure", &[], b"")
        .await;
    assert!(v["count"].as_u64().unwrap() >= 4);
    assert!(
        v["validations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["validation_status"] == "failure")
    );
    let v = c
        .expect(
            200,
            "GET",
            "/_mock/validations?account_id=declined-deceased.x",
            &[],
            b"",
        )
        .await;
    assert_eq!(
        v["validations"][0]["validation_id"].as_str(),
        Some(deceased)
    );
    assert_eq!(v["count"], 1);
    let v = c
        .expect(
            200,
            "GET",
            "/_mock/validations?scenario=success&limit=1&status=success",
            &[],
            b"",
        )
        .await;
    assert_eq!(v["count"], 1, "limit=1");
    let first = &v["validations"][0];
    assert_eq!(
        (
            first["scenario"].as_str(),
            first["validation_status"].as_str()
        ),
        (Some("success"), Some("success"))
    );
    c.error(400, "limit", "GET", "/_mock/validations?limit=0", &[], b"")
        .await;
    c.error(
        400,
        "status filter",
        "GET",
        "/_mock/validations?status=done",
        &[],
        b"",
    )
    .await;
    c.error(405, "allowed: GET", "POST", "/_mock/validations", &[], b"")
        .await;

    let v = c
        .expect(
            200,
            "GET",
            &format!("/_mock/validations/{deceased}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(
        (
            v["scenario"].as_str(),
            v["phase"].as_str(),
            v["polls"].as_u64()
        ),
        (Some("declined-deceased"), Some("outcome"), Some(2))
    );
    let kinds: Vec<&str> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["create", "poll", "poll"]);
    assert_eq!(v["requests"][0]["form"][0], json!(["type", "government"]));
    c.error(
        404,
        "not found",
        "GET",
        &format!("/_mock/validations/{UNKNOWN_ID}"),
        &[],
        b"",
    )
    .await;
    c.error(
        404,
        "not found",
        "GET",
        "/_mock/validations/VLDnope",
        &[],
        b"",
    )
    .await;
    c.error(
        405,
        "allowed: GET",
        "DELETE",
        &format!("/_mock/validations/{deceased}"),
        &[],
        b"",
    )
    .await;
}

/// Control: complete (JSON body, form body, query string).
async fn complete(c: &mut Client<'_>) {
    let (stuck, _) = c
        .create_ok("type=government&account_id=never-completes.1", &[])
        .await;
    let body =
        json!({"status": "failure", "failure_status": "declined", "declined_reason": "underage"});
    let v = c
        .control(
            200,
            "POST",
            &format!("/_mock/validations/{stuck}/complete"),
            Some(body),
        )
        .await;
    assert_eq!(v["forced"], "failure/declined/underage");
    let v = c.poll_ok(&stuck, "").await;
    assert_eq!(v["declined_reason"], "underage");
    c.control(
        409,
        "POST",
        &format!("/_mock/validations/{stuck}/complete"),
        Some(json!({"status": "success"})),
    )
    .await;
    let (stuck2, _) = c
        .create_ok("type=government&account_id=never-completes.2", &[])
        .await;
    let complete2 = format!("/_mock/validations/{stuck2}/complete");
    c.error(400, "missing field status", "POST", &complete2, &[], b"")
        .await;
    c.error(
        400,
        "needs failure_status",
        "POST",
        &complete2,
        &[("Content-Type", FORM)],
        b"status=failure",
    )
    .await;
    c.error(
        400,
        "unknown declined_reason",
        "POST",
        &format!("{complete2}?status=failure&failure_status=declined&declined_reason=nope"),
        &[],
        b"",
    )
    .await;
    c.error(
        400,
        "JSON body is invalid",
        "POST",
        &complete2,
        &[("Content-Type", "application/json")],
        b"{",
    )
    .await;
    c.error(
        404,
        "not found",
        "POST",
        &format!("/_mock/validations/{UNKNOWN_ID}/complete"),
        &[("Content-Type", FORM)],
        b"status=success",
    )
    .await;
    c.error(405, "allowed: POST", "GET", &complete2, &[], b"")
        .await;
    let (status, _) = c
        .raw(
            "POST",
            &complete2,
            &short_body("POST", &complete2, &[("Content-Type", FORM)], 100_000, b""),
        )
        .await;
    assert_eq!(status, 413);
    let v = c
        .expect(
            200,
            "POST",
            &format!("{complete2}?status=failure&failure_status=expired"),
            &[],
            b"",
        )
        .await;
    assert_eq!(v["expired_reason"], "input_file_not_uploaded");
}

/// Control: switch scenario.
async fn switch_scenario(c: &mut Client<'_>, server: &MockServer) {
    let (stuck3, _) = c
        .create_ok("type=government&account_id=never-completes.3", &[])
        .await;
    let switch = format!("/_mock/validations/{stuck3}/scenario");
    c.error(
        400,
        "unknown scenario",
        "POST",
        &switch,
        &[("Content-Type", FORM)],
        b"scenario=nope",
    )
    .await;
    c.error(400, "missing field scenario", "POST", &switch, &[], b"")
        .await;
    let v = c
        .control(200, "POST", &switch, Some(json!({"scenario": "success"})))
        .await;
    assert_eq!(
        (v["scenario"].as_str(), v["validation_status"].as_str()),
        (Some("success"), Some("pending"))
    );
    server.advance(Duration::from_secs(3));
    assert_eq!(c.poll_ok(&stuck3, "").await["validation_status"], "success");
    c.control(
        409,
        "POST",
        &switch,
        Some(json!({"scenario": "never-completes"})),
    )
    .await;
    c.error(
        404,
        "not found",
        "POST",
        &format!("/_mock/validations/{UNKNOWN_ID}/scenario?scenario=success"),
        &[],
        b"",
    )
    .await;
    c.error(405, "allowed: POST", "PUT", &switch, &[], b"")
        .await;
    let (status, _) = c
        .raw(
            "POST",
            &switch,
            &short_body("POST", &switch, &[("Content-Type", FORM)], 100_000, b""),
        )
        .await;
    assert_eq!(status, 413);
}

/// Control: arm.
async fn arm(c: &mut Client<'_>) {
    let v = c
        .control(
            200,
            "POST",
            "/_mock/arm",
            Some(json!({"scenario": "declined-liveness", "count": 2})),
        )
        .await;
    assert_eq!(
        (v["armed"].as_u64(), v["scenario"].as_str()),
        (Some(2), Some("declined-liveness"))
    );
    for _ in 0..2 {
        let (id, _) = c
            .create_ok("type=government&account_id=plain-user", &[])
            .await;
        let v = c
            .expect(200, "GET", &format!("/_mock/validations/{id}"), &[], b"")
            .await;
        assert_eq!(v["scenario"], "declined-liveness");
    }
    let (id, _) = c
        .create_ok("type=government&account_id=plain-user", &[])
        .await;
    let v = c
        .expect(200, "GET", &format!("/_mock/validations/{id}"), &[], b"")
        .await;
    assert_eq!(v["scenario"], "success", "armed scenarios are used up");
    c.error(
        400,
        "count",
        "POST",
        "/_mock/arm?scenario=success&count=0",
        &[],
        b"",
    )
    .await;
    c.error(
        400,
        "unknown scenario",
        "POST",
        "/_mock/arm",
        &[("Content-Type", FORM)],
        b"scenario=nope",
    )
    .await;
    c.error(405, "allowed: POST", "GET", "/_mock/arm", &[], b"")
        .await;
    let (status, _) = c
        .raw(
            "POST",
            "/_mock/arm",
            &short_body("POST", "/_mock/arm", &[], 100_000, b""),
        )
        .await;
    assert_eq!(status, 413);
}

/// Control: clock.
async fn clock(c: &mut Client<'_>) {
    let before = c.expect(200, "GET", "/_mock/clock", &[], b"").await["now_seconds"]
        .as_f64()
        .unwrap();
    let v = c
        .expect(
            200,
            "POST",
            "/_mock/clock/advance",
            &[("Content-Type", FORM)],
            b"seconds=1.5",
        )
        .await;
    assert_eq!(v["now_seconds"].as_f64(), Some(before + 1.5));
    let v = c
        .control(
            200,
            "POST",
            "/_mock/clock/advance",
            Some(json!({"seconds": 2})),
        )
        .await;
    assert_eq!(v["now_seconds"].as_f64(), Some(before + 3.5));
    c.expect(200, "POST", "/_mock/clock/advance?seconds=0", &[], b"")
        .await;
    c.error(
        400,
        "missing seconds",
        "POST",
        "/_mock/clock/advance",
        &[],
        b"",
    )
    .await;
    c.error(
        400,
        "from 0 to",
        "POST",
        "/_mock/clock/advance?seconds=-1",
        &[],
        b"",
    )
    .await;
    c.error(
        405,
        "allowed: POST",
        "GET",
        "/_mock/clock/advance",
        &[],
        b"",
    )
    .await;
    let (status, _) = c
        .raw(
            "POST",
            "/_mock/clock/advance",
            &short_body("POST", "/_mock/clock/advance", &[], 100_000, b""),
        )
        .await;
    assert_eq!(status, 413);
}

/// Control: journal.
async fn journal(c: &mut Client<'_>, flaky: &str) {
    let v = c.expect(200, "GET", "/_mock/journal", &[], b"").await;
    assert!(v["entries"].as_array().unwrap().len() > 50);
    assert!(
        !v.to_string().contains(KEY),
        "the journal must never hold the API key"
    );
    let statuses: BTreeSet<u64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["status"].as_u64())
        .collect();
    assert!(
        [200, 400, 401, 404, 405, 409, 413, 429, 500, 503]
            .iter()
            .all(|s| statuses.contains(s)),
        "{statuses:?}"
    );
    let v = c
        .expect(
            200,
            "GET",
            &format!("/_mock/journal?validation_id={flaky}&limit=2"),
            &[],
            b"",
        )
        .await;
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| e["validation_id"].as_str() == Some(flaky))
    );
    assert_eq!(
        (entries[0]["status"].as_u64(), entries[1]["status"].as_u64()),
        (Some(500), Some(200))
    );
    assert!(
        entries[0]["fault"]
            .as_str()
            .is_some_and(|f| f.contains("http_error 500")),
        "{v}"
    );
    c.error(400, "limit", "GET", "/_mock/journal?limit=abc", &[], b"")
        .await;
    c.error(
        404,
        "not found",
        "GET",
        "/_mock/journal?validation_id=bogus",
        &[],
        b"",
    )
    .await;
    c.error(405, "allowed: GET", "POST", "/_mock/journal", &[], b"")
        .await;
}

/// Browser side: the Web Adapter walked to each `result`, the preflight and the handoff QR code.
/// Returns the validation that went through every screen.
async fn web_journey(c: &mut Client<'_>, server: &MockServer) -> String {
    // Succeeded: open, every screen, the video, then the scenario's 3 s.
    let (id, _) = c
        .create_ok("type=government&account_id=success.web", &[])
        .await;
    let v = c.expect(200, "GET", &adapter(&id, ""), &[], b"").await;
    assert_eq!(
        (v["result"].as_str(), &v["journey"]),
        (Some("pending"), &Value::Null)
    );
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&id, "/open"),
            &JSON_HEADERS,
            br#"{"device":"desktop"}"#,
        )
        .await;
    assert_eq!(v["journey"]["step"], "intro");
    for (name, body, next) in [
        ("intro", "{}", "document"),
        ("document", r#"{"document_number":"1020304050"}"#, "consent"),
        ("consent", r#"{"accepted":true}"#, "geolocation"),
        (
            "geolocation",
            r#"{"granted":true,"latitude":4.61,"longitude":-74.08}"#,
            "liveness",
        ),
    ] {
        let v = c
            .expect(
                200,
                "POST",
                &adapter(&id, &format!("/steps/{name}")),
                &JSON_HEADERS,
                body.as_bytes(),
            )
            .await;
        assert_eq!(v["journey"]["step"], next, "{name}: {v}");
    }
    // The journey holds the scenario: a minute later it is still pending.
    server.advance(Duration::from_secs(60));
    let v = c.expect(200, "GET", &adapter(&id, ""), &[], b"").await;
    assert_eq!(v["result"], "pending", "{v}");
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&id, "/steps/liveness?device=desktop"),
            &WEBM_HEADERS,
            &[7u8; 2048],
        )
        .await;
    assert_eq!(v["journey"]["step"], "processing");
    server.advance(Duration::from_secs(3));
    let v = c.expect(200, "GET", &adapter(&id, ""), &[], b"").await;
    assert_eq!(
        (v["result"].as_str(), v["validation_status"].as_str()),
        (Some("succeeded"), Some("success"))
    );

    // Failed: a known document skips its screen; declining consent ends the validation.
    let (declined, _) = c
        .create_ok("type=government&account_id=never-completes.web2", &[])
        .await;
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&declined, "/open"),
            &JSON_HEADERS,
            br#"{"device":"phone","document_number":"12345"}"#,
        )
        .await;
    assert_eq!(
        (&v["journey"]["device"], &v["journey"]["document_known"]),
        (&json!("phone"), &json!(true))
    );
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&declined, "/steps/intro"),
            &JSON_HEADERS,
            b"",
        )
        .await;
    assert_eq!(v["journey"]["step"], "consent");
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&declined, "/steps/consent"),
            &JSON_HEADERS,
            br#"{"accepted":false,"device":"phone"}"#,
        )
        .await;
    assert_eq!(
        (
            v["result"].as_str(),
            v["declined_reason"].as_str(),
            v["journey"]["step"].as_str()
        ),
        (
            Some("failed"),
            Some("data_authorization_not_provided"),
            Some("ended")
        )
    );
    // Terminal states are final for the SDK too.
    c.error(
        409,
        "already finished",
        "POST",
        &adapter(&declined, "/open"),
        &JSON_HEADERS,
        b"{}",
    )
    .await;
    c.error(
        409,
        "already finished",
        "POST",
        &adapter(&declined, "/steps/cancel"),
        &JSON_HEADERS,
        b"{}",
    )
    .await;
    c.error(
        409,
        "already finished",
        "POST",
        &adapter(&declined, "/steps/liveness"),
        &WEBM_HEADERS,
        &[1u8; 16],
    )
    .await;

    // Cancelled because the camera was refused.
    let (camera, _) = c
        .create_ok("type=government&account_id=never-completes.web3", &[])
        .await;
    c.expect(200, "POST", &adapter(&camera, "/open"), &[], b"")
        .await;
    let v = c
        .expect(
            200,
            "POST",
            &adapter(&camera, "/steps/cancel"),
            &JSON_HEADERS,
            br#"{"reason":"unwanted_camera_permissions"}"#,
        )
        .await;
    assert_eq!(v["declined_reason"], "unwanted_camera_permissions");

    // Expired: the SDK is told through `result`, never opened.
    let (expired, _) = c
        .create_ok(
            "type=government&account_id=expired-not-started.web&timeout=5",
            &[],
        )
        .await;
    server.advance(Duration::from_secs(5));
    let v = c.expect(200, "GET", &adapter(&expired, ""), &[], b"").await;
    assert_eq!(
        (
            v["result"].as_str(),
            v["expired_reason"].as_str(),
            v["expires_in_seconds"].as_f64()
        ),
        (
            Some("expired"),
            Some("face_validation_not_started"),
            Some(0.0)
        )
    );

    // The preflight, on every adapter path (and on ids the adapter does not know).
    for rest in [
        "",
        "/open",
        "/steps/consent",
        "/steps/liveness",
        "/handoff.svg",
    ] {
        for target in [adapter(&id, rest), adapter(UNKNOWN_ID, rest)] {
            let reply = c
                .send(
                    "OPTIONS",
                    &target,
                    &[
                        ("Origin", "https://integrator.example"),
                        ("Access-Control-Request-Method", "POST"),
                    ],
                    b"",
                )
                .await;
            assert_eq!(reply.status, 204, "OPTIONS {target}: {}", reply.text());
        }
    }

    // The phone handoff QR code.
    let reply = c.send("GET", &adapter(&id, "/handoff.svg"), &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("aria-label=\"QR code\""));
    id
}

/// Browser side: every error the Web Adapter answers.
async fn web_adapter_errors(c: &mut Client<'_>) {
    // Unknown or malformed ids, unknown steps and paths.
    c.error(404, "not found", "GET", &adapter(UNKNOWN_ID, ""), &[], b"")
        .await;
    c.error(
        404,
        "VLD followed by",
        "GET",
        &adapter("nope", ""),
        &[],
        b"",
    )
    .await;
    c.error(
        404,
        "not found",
        "POST",
        &adapter(UNKNOWN_ID, "/open"),
        &[],
        b"",
    )
    .await;
    c.error(
        404,
        "not found",
        "POST",
        &adapter(UNKNOWN_ID, "/steps/intro"),
        &JSON_HEADERS,
        b"{}",
    )
    .await;
    c.error(
        404,
        "not found",
        "POST",
        &adapter(UNKNOWN_ID, "/steps/liveness"),
        &WEBM_HEADERS,
        &[1u8; 16],
    )
    .await;
    c.error(
        404,
        "not found",
        "GET",
        &adapter(UNKNOWN_ID, "/handoff.svg"),
        &[],
        b"",
    )
    .await;
    c.error(
        404,
        "no Web Adapter endpoint",
        "GET",
        &adapter(UNKNOWN_ID, "/nope"),
        &[],
        b"",
    )
    .await;

    let (id, _) = c
        .create_ok("type=government&account_id=never-completes.errors", &[])
        .await;
    c.error(
        404,
        "unknown step",
        "POST",
        &adapter(&id, "/steps/bogus"),
        &JSON_HEADERS,
        b"{}",
    )
    .await;
    // Each adapter path answers one method (besides OPTIONS).
    for (method, rest, allowed) in [
        ("POST", "", "allowed: GET"),
        ("PATCH", "", "allowed: GET"),
        ("GET", "/open", "allowed: POST"),
        ("PUT", "/steps/intro", "allowed: POST"),
        ("GET", "/steps/liveness", "allowed: POST"),
        ("DELETE", "/handoff.svg", "allowed: GET"),
    ] {
        let reply = c.send(method, &adapter(&id, rest), &[], b"").await;
        assert_eq!(reply.status, 405, "{method} {rest}: {reply:?}");
        assert!(reply.text().contains(allowed), "{}", reply.text());
    }

    // A step before the journey was opened, then out of order.
    c.error(
        409,
        "not opened",
        "POST",
        &adapter(&id, "/steps/intro"),
        &JSON_HEADERS,
        b"{}",
    )
    .await;
    // Bodies the adapter cannot use.
    for (body, needle) in [
        (&b"{"[..], "not valid JSON"),
        (b"[1]", "JSON object"),
        (br#"{"device":"tablet"}"#, "device must be"),
        (br#"{"document_number":"12"}"#, "3 to 15 digits"),
    ] {
        c.error(
            400,
            needle,
            "POST",
            &adapter(&id, "/open"),
            &JSON_HEADERS,
            body,
        )
        .await;
    }
    c.expect(
        200,
        "POST",
        &adapter(&id, "/open"),
        &JSON_HEADERS,
        br#"{"document_number":"1020304050"}"#,
    )
    .await;
    c.error(
        409,
        "out of order",
        "POST",
        &adapter(&id, "/steps/consent"),
        &JSON_HEADERS,
        br#"{"accepted":true}"#,
    )
    .await;
    for (step, body, needle) in [
        ("document", &b"{}"[..], "document_number"),
        ("consent", b"{}", "accepted"),
        ("geolocation", br#"{"granted":true}"#, "latitude"),
        (
            "geolocation",
            br#"{"granted":true,"latitude":4,"longitude":200}"#,
            "longitude",
        ),
        ("cancel", br#"{"reason":"bored"}"#, "reason must be"),
        ("intro", br#"{"device":"tv"}"#, "device must be"),
    ] {
        c.error(
            400,
            needle,
            "POST",
            &adapter(&id, &format!("/steps/{step}")),
            &JSON_HEADERS,
            body,
        )
        .await;
    }
    // The video: type, device, size, the journey's step, an empty clip.
    let liveness = adapter(&id, "/steps/liveness");
    c.error(
        415,
        "must be a video",
        "POST",
        &liveness,
        &[("Content-Type", "text/plain")],
        b"hello",
    )
    .await;
    c.error(
        400,
        "device must be",
        "POST",
        &format!("{liveness}?device=tv"),
        &WEBM_HEADERS,
        &[1u8; 16],
    )
    .await;
    c.error(
        409,
        "out of order",
        "POST",
        &liveness,
        &[("Content-Type", "application/octet-stream")],
        &[1u8; 16],
    )
    .await;
    let huge = short_body("POST", &liveness, &WEBM_HEADERS, 9 * 1024 * 1024, b"");
    let (status, reply) = c.raw("POST", &liveness, &huge).await;
    assert_eq!(status, 413, "{}", reply.text());
    assert!(reply.text().contains("8 MiB"), "{}", reply.text());
    for target in [adapter(&id, "/open"), adapter(&id, "/steps/intro")] {
        let huge = short_body("POST", &target, &JSON_HEADERS, 100_000, b"");
        let (status, reply) = c.raw("POST", &target, &huge).await;
        assert_eq!(status, 413, "{target}: {}", reply.text());
    }
    for (name, body) in [
        ("intro", "{}"),
        ("consent", r#"{"accepted":true}"#),
        (
            "geolocation",
            r#"{"granted":true,"latitude":0,"longitude":0}"#,
        ),
    ] {
        c.expect(
            200,
            "POST",
            &adapter(&id, &format!("/steps/{name}")),
            &JSON_HEADERS,
            body.as_bytes(),
        )
        .await;
    }
    c.error(400, "empty", "POST", &liveness, &WEBM_HEADERS, b"")
        .await;

    // A Host header too long for a QR code is the client's input: a 400.
    let target = adapter(&id, "/handoff.svg");
    let raw = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(3000)
    );
    let (status, reply) = c.raw("GET", &target, raw.as_bytes()).await;
    assert_eq!(status, 400, "{}", reply.text());
}

/// Browser side: the dashboard's data API (not journaled).
async fn dashboard_api(c: &mut Client<'_>, walked: &str) {
    let v = c
        .expect(200, "GET", "/dashboard/api/validations", &[], b"")
        .await;
    let count = v["count"].as_u64().unwrap();
    assert_eq!(count, v["validations"].as_array().unwrap().len() as u64);
    assert!(v["total"].as_u64().unwrap() >= count && count > 10, "{v}");
    assert_eq!(v["clock"], "manual");
    let v = c
        .expect(
            200,
            "GET",
            &format!("/dashboard/api/validations?validation_id={walked}"),
            &[],
            b"",
        )
        .await;
    // The journey as one label; a finished validation's journey no longer reads "processing".
    let label = v["validations"][0]["journey_label"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(v["count"].as_u64(), Some(1));
    assert!(
        label.starts_with("processing") || label.starts_with("finished"),
        "{label}"
    );
    // A partial id finds it too; an id that matches nothing is an empty page, not an error.
    let v = c
        .expect(
            200,
            "GET",
            &format!(
                "/dashboard/api/validations?validation_id={}",
                &walked[5..15]
            ),
            &[],
            b"",
        )
        .await;
    assert_eq!(v["validations"][0]["validation_id"].as_str(), Some(walked));
    let v = c
        .expect(
            200,
            "GET",
            "/dashboard/api/validations?validation_id=bogus",
            &[],
            b"",
        )
        .await;
    assert_eq!(
        (v["count"].as_u64(), v["matched"].as_u64()),
        (Some(0), Some(0))
    );
    let v = c
        .expect(
            200,
            "GET",
            "/dashboard/api/validations?limit=1&offset=1",
            &[],
            b"",
        )
        .await;
    assert_eq!(
        (v["count"].as_u64(), v["offset"].as_u64()),
        (Some(1), Some(1))
    );
    let v = c
        .expect(
            200,
            "GET",
            "/dashboard/api/validations?account_id=success.web&status=success&limit=1",
            &[],
            b"",
        )
        .await;
    assert_eq!(v["validations"][0]["validation_id"].as_str(), Some(walked));
    for (query, needle) in [
        ("status=done", "status filter must be"),
        ("limit=0", "limit must be"),
        ("offset=first", "offset must be"),
    ] {
        c.error(
            400,
            needle,
            "GET",
            &format!("/dashboard/api/validations?{query}"),
            &[],
            b"",
        )
        .await;
    }
    c.error(
        405,
        "allowed: GET",
        "POST",
        "/dashboard/api/validations",
        &[],
        b"",
    )
    .await;

    let detail = format!("/dashboard/api/validations/{walked}");
    let v = c.expect(200, "GET", &detail, &[], b"").await;
    assert_eq!(v["journey"]["video_bytes"], 2048, "{v}");
    // A refresh that already has the current body gets a bodiless 304.
    for path in [
        "/dashboard/api/validations",
        detail.as_str(),
        "/truorasdk.js",
    ] {
        let tag = c.send("GET", path, &[], b"").await;
        let tag = tag.header("etag").expect("an ETag").to_string();
        c.expect(304, "GET", path, &[("If-None-Match", &tag)], b"")
            .await;
    }
    // The live chart (the API requests above are in its window; the clock is manual, so the
    // second answer is unchanged).
    let traffic = "/dashboard/api/traffic?seconds=60";
    let v = c.expect(200, "GET", traffic, &[], b"").await;
    assert!(v["total"].as_u64().unwrap() > 0, "{v}");
    let tag = c.send("GET", traffic, &[], b"").await;
    let tag = tag.header("etag").expect("an ETag").to_string();
    c.expect(304, "GET", traffic, &[("If-None-Match", &tag)], b"")
        .await;
    c.error(
        400,
        "seconds must be a whole number",
        "GET",
        "/dashboard/api/traffic?seconds=300",
        &[],
        b"",
    )
    .await;
    c.error(
        405,
        "allowed: GET",
        "POST",
        "/dashboard/api/traffic",
        &[],
        b"",
    )
    .await;
    c.expect(200, "GET", "/favicon.ico", &[], b"").await;
    c.error(405, "allowed: GET", "POST", "/favicon.ico", &[], b"")
        .await;
    c.error(
        404,
        "not found",
        "GET",
        &format!("/dashboard/api/validations/{UNKNOWN_ID}"),
        &[],
        b"",
    )
    .await;
    c.error(
        400,
        "not a validation_id",
        "GET",
        "/dashboard/api/validations/VLDnope",
        &[],
        b"",
    )
    .await;
    c.error(405, "allowed: GET", "DELETE", &detail, &[], b"")
        .await;

    // The dashboard's own requests stay out of the journal; the adapter's are in it.
    let v = c
        .expect(
            200,
            "GET",
            &format!("/_mock/journal?validation_id={walked}"),
            &[],
            b"",
        )
        .await;
    let paths: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(
        paths.iter().all(|p| !p.starts_with("/dashboard/"))
            && paths.iter().any(|p| p.starts_with("/web-adapter/")),
        "{paths:?}"
    );
}

/// Browser side: the embedded pages, scripts and stylesheets.
async fn pages(c: &mut Client<'_>, walked: &str) {
    let journey = format!("/journey/{walked}");
    for (path, content_type, cors) in [
        ("/truorasdk.js", "text/javascript", true),
        ("/truorasdk.css", "text/css", true),
        ("/demo", "text/html", false),
        ("/dashboard", "text/html", false),
        (journey.as_str(), "text/html", false),
        ("/assets/demo.js", "text/javascript", false),
        ("/assets/dashboard.js", "text/javascript", false),
        ("/assets/journey.js", "text/javascript", false),
        (
            "/sdk/webview?validation_id=VLD0&lang=en",
            "text/html",
            false,
        ),
        ("/assets/webview.js", "text/javascript", false),
        ("/assets/pages.css", "text/css", false),
    ] {
        let reply = c.send("GET", path, &[], b"").await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{path}: {reply:?}"
        );
        assert_eq!(
            reply.header("access-control-allow-origin").is_some(),
            cors,
            "{path}"
        );
        c.error(405, "allowed: GET", "POST", path, &[], b"").await;
    }
}

/// Control: reset.
async fn reset(c: &mut Client<'_>, deceased: &str) {
    c.error(405, "allowed: POST", "GET", "/_mock/reset", &[], b"")
        .await;
    let v = c.expect(200, "POST", "/_mock/reset", &[], b"").await;
    assert_eq!(v["reset"], true);
    let v = c.expect(200, "GET", "/_mock/health", &[], b"").await;
    assert_eq!(v["validations"], 0);
    c.error(
        404,
        "not found",
        "GET",
        &format!("/v1/validations/{deceased}"),
        &KEY_HEADER,
        b"",
    )
    .await;
}

/// What needs another configuration: a fixed API key, the real clock, a short body timeout.
/// A Redis store that stops answering: health says so (needs Debian's `redis-server`).
async fn store_outage(c: &mut Client<'_>) {
    let mut redis = redis_support::Redis::start();
    let url = redis.url("openapi").parse().expect("a --store URL");
    let aux = MockServer::builder()
        .configure(|cfg| cfg.store = truidentidad_mock_server::config::StoreConfig::Redis(url))
        .start()
        .await
        .expect("start a mock on Redis");
    c.addr = aux.address();
    c.expect(200, "GET", "/_mock/health", &[], b"").await;
    redis.kill();
    c.expect(503, "GET", "/_mock/health", &[], b"").await;
}

async fn other_configurations(c: &mut Client<'_>) {
    // A JWT-shaped key whose `exp` (1 s after the epoch) has long passed.
    let expired_jwt = format!(
        "{}.{}.sig",
        data_encoding::BASE64URL_NOPAD.encode(br#"{"alg":"HS256"}"#),
        data_encoding::BASE64URL_NOPAD.encode(br#"{"exp":1}"#)
    );
    let aux = MockServer::builder()
        .seed(2)
        .api_key("the-only-key")
        .api_key(expired_jwt.clone())
        .configure(|cfg| {
            cfg.body_read_timeout = Duration::from_millis(300);
            cfg.admin_token = Some(ADMIN_TOKEN.into());
            cfg.key_expiry = true;
        })
        .start()
        .await
        .expect("start the second mock");
    c.addr = aux.address();
    let admin = [("X-Mock-Admin-Token", ADMIN_TOKEN)];
    c.error(
        401,
        "not accepted",
        "POST",
        "/v1/validations",
        &FORM_KEY_HEADERS,
        b"type=government",
    )
    .await;
    c.error(
        401,
        "not accepted",
        "GET",
        &format!("/v1/validations/{UNKNOWN_ID}"),
        &KEY_HEADER,
        b"",
    )
    .await;
    let expired = [
        ("Truora-API-Key", expired_jwt.as_str()),
        ("Content-Type", FORM),
    ];
    c.error(
        403,
        "expired at",
        "POST",
        "/v1/validations",
        &expired,
        b"type=government",
    )
    .await;
    c.error(
        403,
        "expired at",
        "GET",
        &format!("/v1/validations/{UNKNOWN_ID}"),
        &expired[..1],
        b"",
    )
    .await;
    c.error(
        409,
        "real clock",
        "POST",
        "/_mock/clock/advance?seconds=1",
        &admin,
        b"",
    )
    .await;

    // The admin token guards every control and dashboard data endpoint that documents it, and
    // nothing else.
    let guarded: Vec<(String, String)> = {
        let spec = &*c.spec;
        let mut out = Vec::new();
        for (template, item) in spec.paths() {
            for m in METHODS {
                if item
                    .get(m)
                    .is_some_and(|op| op["responses"].get("401").is_some())
                    && (template.starts_with("/_mock/") || template.starts_with("/dashboard/api/"))
                {
                    out.push((
                        m.to_uppercase(),
                        template.replace("{validation_id}", UNKNOWN_ID),
                    ));
                }
            }
        }
        out
    };
    assert!(guarded.len() >= 12, "{guarded:?}");
    for (method, target) in &guarded {
        c.error(401, "needs the admin token", method, target, &[], b"")
            .await;
    }
    c.error(
        401,
        "admin token is wrong",
        "GET",
        "/_mock/clock",
        &[("X-Mock-Admin-Token", "guess")],
        b"",
    )
    .await;
    c.expect(200, "GET", "/_mock/clock", &admin, b"").await;
    c.expect(
        200,
        "GET",
        "/_mock/clock",
        &[("Authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        b"",
    )
    .await;
    c.expect(
        200,
        "GET",
        &format!("/_mock/clock?admin_token={ADMIN_TOKEN}"),
        &[],
        b"",
    )
    .await;
    c.expect(200, "GET", "/_mock/health", &[], b"").await;
    c.expect(200, "GET", "/_mock/openapi.yaml", &[], b"").await;
    c.expect(
        200,
        "GET",
        &format!("/dashboard/api/validations?admin_token={ADMIN_TOKEN}"),
        &[],
        b"",
    )
    .await;
    // The pages and the Web Adapter need no token (the SDK carries none).
    c.expect(200, "GET", "/dashboard", &[], b"").await;
    c.error(404, "not found", "GET", &adapter(UNKNOWN_ID, ""), &[], b"")
        .await;

    let slow = [
        ("Truora-API-Key", "the-only-key"),
        ("Content-Type", FORM),
        ("X-Mock-Admin-Token", ADMIN_TOKEN),
    ];
    let targets = [
        "/v1/validations".to_string(),
        format!("/_mock/validations/{UNKNOWN_ID}/complete"),
        format!("/_mock/validations/{UNKNOWN_ID}/scenario"),
        "/_mock/arm".to_string(),
        "/_mock/clock/advance".to_string(),
    ];
    for target in targets {
        // Half a body, then silence: the server gives up waiting and says so.
        let (status, reply) = c
            .raw(
                "POST",
                &target,
                &short_body("POST", &target, &slow, 40, b"type=gov"),
            )
            .await;
        assert_eq!(status, 408, "{target}: {}", reply.text());
    }
    // The Web Adapter's bodies: JSON steps and the video.
    for (target, headers) in [
        (adapter(UNKNOWN_ID, "/open"), JSON_HEADERS),
        (adapter(UNKNOWN_ID, "/steps/intro"), JSON_HEADERS),
        (adapter(UNKNOWN_ID, "/steps/liveness"), WEBM_HEADERS),
    ] {
        let (status, reply) = c
            .raw(
                "POST",
                &target,
                &short_body("POST", &target, &headers, 40, b"{\"device\""),
            )
            .await;
        assert_eq!(status, 408, "{target}: {}", reply.text());
    }
}
