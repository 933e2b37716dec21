//! The Redis store (`--store redis://…`): two in-process replicas sharing one real Redis
//! answer any request identically: state, expiry, poll counts and n-th-poll faults, the
//! control API, the manual clock and the journal, with ids that never collide. A Redis that
//! goes away turns requests into prompt 503s in Truora's envelope, and service resumes by
//! itself when it is back.
//!
//! Needs Debian's `redis-server` (see `support/redis.rs`).

mod common;
#[path = "support/redis.rs"]
mod redis_support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use redis_support::Redis;
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::config::StoreConfig;

/// A replica on `redis` under `namespace`, on the manual clock.
async fn replica(redis: &Redis, namespace: &str) -> MockServer {
    let url = redis.url(namespace).parse().expect("a valid --store URL");
    MockServer::builder()
        .manual_clock()
        .configure(|c| c.store = StoreConfig::Redis(url))
        .start()
        .await
        .expect("a replica starts on Redis")
}

async fn post(server: &MockServer, path: &str, form: &str) -> Resp {
    request(
        server.address(),
        "POST",
        path,
        &[("Content-Type", FORM)],
        form.as_bytes(),
    )
    .await
}

async fn poll_at(addr: SocketAddr, id: String) -> Resp {
    let path = format!("/v1/validations/{id}");
    request(addr, "GET", &path, &[("Truora-API-Key", KEY)], b"").await
}

/// What the control API shows of a validation (a read: it counts no poll).
async fn detail(server: &MockServer, id: &str) -> Resp {
    get(server, &format!("/_mock/validations/{id}")).await
}

/// The same answer from both replicas, but for the request list: the shared journal lists
/// the first read when the second is answered.
fn same_body(a: &Resp, b: &Resp) {
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{} / {}",
        a.text(),
        b.text()
    );
    let without_requests = |r: &Resp| {
        let mut v = r.json();
        v.as_object_mut().map(|o| o.remove("requests"));
        v
    };
    assert_eq!(without_requests(a), without_requests(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validation_created_on_one_replica_reads_the_same_on_the_other() {
    let redis = Redis::start();
    let (a, b) = (replica(&redis, "same").await, replica(&redis, "same").await);
    let id = create_id(&a, "type=government&account_id=success.one").await;
    // Same state and dates, whichever replica answers (a poll counts, so compare reads).
    same_body(&detail(&a, &id).await, &detail(&b, &id).await);
    assert_eq!(poll(&b, &id).await.json()["validation_status"], "pending");
    // The clock lives in Redis: moving it through one replica moves both.
    post(&b, "/_mock/clock/advance", "seconds=10").await;
    assert_eq!(a.now(), b.now());
    assert_eq!(poll(&a, &id).await.json()["validation_status"], "success");
    same_body(&detail(&a, &id).await, &detail(&b, &id).await);
    // Expiry: a never-completing validation expires at the same instant everywhere.
    let late = create_id(
        &b,
        "type=government&account_id=expired-not-started.x&timeout=30",
    )
    .await;
    post(&a, "/_mock/clock/advance", "seconds=31").await;
    same_body(&detail(&a, &late).await, &detail(&b, &late).await);
    assert_eq!(poll(&b, &late).await.json()["validation_status"], "failure");
    assert_eq!(detail(&a, &late).await.json()["polls"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_are_counted_once_across_replicas_and_nth_faults_fire_once() {
    let redis = Redis::start();
    let (a, b) = (replica(&redis, "nth").await, replica(&redis, "nth").await);
    let id = create_id(&a, "type=government&account_id=flaky-5xx-then-success.n").await;
    // 40 polls at once, half through each replica.
    let polls: Vec<_> = (0..40)
        .map(|i| {
            let addr = if i % 2 == 0 { a.address() } else { b.address() };
            tokio::spawn(poll_at(addr, id.clone()))
        })
        .collect();
    let mut statuses = Vec::new();
    for p in polls {
        statuses.push(p.await.expect("poll task").status);
    }
    statuses.sort();
    // The scenario fails the 1st poll with 503 and the 2nd with 500: once each, cluster-wide.
    assert_eq!(
        statuses.iter().filter(|s| **s == 503).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 500).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 38);
    let v = detail(&b, &id).await.json();
    assert_eq!(v["polls"], 40, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_of_either_replica_sees_and_changes_everything() {
    let redis = Redis::start();
    let (a, b) = (replica(&redis, "ctl").await, replica(&redis, "ctl").await);
    // Armed through one replica, used by a create through the other.
    let armed = post(&a, "/_mock/arm", "scenario=system-error&count=1").await;
    assert_eq!(armed.status, 200, "{}", armed.text());
    let id = create_id(&b, "type=government").await;
    let v = detail(&a, &id).await.json();
    assert_eq!(v["scenario"], "system-error", "{v}");
    // Completed and switched through one, seen through the other.
    let other = create_id(&a, "type=government&account_id=never-completes.c").await;
    let switched = post(
        &b,
        &format!("/_mock/validations/{other}/scenario"),
        "scenario=success",
    )
    .await;
    assert_eq!(switched.status, 200, "{}", switched.text());
    assert_eq!(detail(&a, &other).await.json()["scenario"], "success");
    let done = post(
        &a,
        &format!("/_mock/validations/{other}/complete"),
        "status=success",
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(
        poll(&b, &other).await.json()["validation_status"],
        "success"
    );
    let again = post(
        &b,
        &format!("/_mock/validations/{other}/complete"),
        "status=success",
    )
    .await;
    assert_eq!(again.status, 409, "terminal is final on every replica");
    // Listing and the journal show both replicas' work.
    let list = get(&b, "/_mock/validations").await.json();
    assert_eq!(list["count"], 2, "{list}");
    let journal = get(&a, &format!("/_mock/journal?validation_id={other}"))
        .await
        .json();
    let kinds: Vec<&str> = journal["entries"]
        .as_array()
        .expect("journal entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"create") && kinds.contains(&"poll"),
        "{journal}"
    );
    // Paging with `from_seq` (numbers start at 0 in a fresh namespace) reads the shared stream forward, through either replica, with
    // no gaps or repeats.
    let all = get(&a, "/_mock/journal?from_seq=0&limit=1000").await.json();
    let all = all["entries"].as_array().expect("entries").clone();
    assert!(all.len() >= 4, "{all:?}");
    let mut paged = Vec::new();
    let mut from = 0;
    for server in [&a, &b].into_iter().cycle().take(all.len() + 1) {
        let page = get(server, &format!("/_mock/journal?from_seq={from}&limit=1"))
            .await
            .json();
        let entries = page["entries"].as_array().expect("entries");
        if entries.is_empty() {
            break;
        }
        paged.extend(entries.iter().map(|e| e["seq"].clone()));
        from = page["next_seq"].as_u64().expect("next_seq");
    }
    // The journal reads are journaled too, so paging sees more than `all` did.
    let seqs: Vec<_> = all.iter().map(|e| e["seq"].clone()).collect();
    assert_eq!(paged[..seqs.len()], seqs[..]);
    let want: Vec<serde_json::Value> = (0..paged.len() as u64).map(Into::into).collect();
    assert_eq!(paged, want, "consecutive: no gaps, no repeats");
    // A reset through one replica empties both.
    assert_eq!(post(&a, "/_mock/reset", "").await.status, 200);
    assert_eq!(poll(&b, &id).await.status, 404);
    assert_eq!(get(&b, "/_mock/validations").await.json()["count"], 0);
}

/// A control switch is final in Redis as in memory: a test identity typed in the journey
/// afterwards (on the other replica) does not undo it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_switch_outranks_a_test_identity_typed_later() {
    let redis = Redis::start();
    let (a, b) = (replica(&redis, "rank").await, replica(&redis, "rank").await);
    let id = create_id(&a, "type=government").await;
    let switched = post(
        &a,
        &format!("/_mock/validations/{id}/scenario"),
        "scenario=declined-liveness",
    )
    .await;
    assert_eq!(switched.status, 200, "{}", switched.text());
    for (step, body) in [
        ("open", r#"{"device":"phone"}"#),
        ("steps/intro", "{}"),
        ("steps/document", r#"{"document_number":"9930000001"}"#),
    ] {
        let path = format!("/web-adapter/v1/validations/{id}/{step}");
        let r = post_json(&b, &path, body).await;
        assert_eq!(r.status, 200, "{step}: {}", r.text());
    }
    assert_eq!(
        detail(&a, &id).await.json()["scenario"],
        "declined-liveness"
    );
}

/// `--key-isolation` on a shared store: the creating key's fingerprint travels with the
/// record, so another key's polls through any replica are 404s that count nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_isolation_holds_across_replicas_and_foreign_polls_count_nothing() {
    let redis = Redis::start();
    let isolated = || {
        let url = redis.url("iso").parse().expect("URL");
        MockServer::builder()
            .manual_clock()
            .configure(|c| {
                c.store = StoreConfig::Redis(url);
                c.key_isolation = true;
            })
            .start()
    };
    let (a, b) = (isolated().await.expect("a"), isolated().await.expect("b"));
    let id = create_id(&a, "type=government&account_id=success-after-polls.t").await;
    let path = format!("/v1/validations/{id}");
    for server in [&a, &b, &b] {
        let r = request(
            server.address(),
            "GET",
            &path,
            &[("Truora-API-Key", "tenant-b")],
            b"",
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text());
        assert_eq!(r.json()["code"], 20404);
    }
    assert_eq!(
        detail(&a, &id).await.json()["polls"],
        0,
        "foreign polls are not counted"
    );
    let own = poll_at(b.address(), id).await;
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(own.json()["validation_status"], "pending");
}

/// The manual clock kept in Redis refuses to pass what Redis can count (signed 64-bit
/// nanoseconds) with a 409 that moves nothing, through any replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_clock_refuses_to_pass_its_limit_with_409() {
    let redis = Redis::start();
    let (a, b) = (
        replica(&redis, "limit").await,
        replica(&redis, "limit").await,
    );
    let advance = |server: &MockServer| {
        let addr = server.address();
        async move { request(addr, "POST", "/_mock/clock/advance?seconds=1e9", &[], b"").await }
    };
    // 9 advances of 1e9 s reach 9e9 s; the 10th would pass ~9.22e9 s.
    for i in 0..9 {
        let r = advance(if i % 2 == 0 { &a } else { &b }).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = advance(&b).await;
    assert_eq!(r.status, 409, "{}", r.text());
    insta::assert_snapshot!(r.json()["message"].as_str().unwrap(), @"the manual clock kept in Redis reads 9000000000 s and cannot pass 9223372036 s (about 292 years: Redis counts nanoseconds in signed 64 bits), so it can move at most 223372036 s more; reset the clock's key in Redis (or flush the database) to start it again");
    assert_eq!(
        get(&a, "/_mock/clock").await.json()["now_seconds"],
        9e9,
        "a refused advance moves nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_never_collide_across_replicas() {
    let redis = Redis::start();
    // Two replicas started with the same seed: creation numbers still differ.
    let start = |seed| {
        let url = redis.url("ids").parse().expect("URL");
        MockServer::builder()
            .seed(seed)
            .configure(|c| c.store = StoreConfig::Redis(url))
            .start()
    };
    let (a, b) = (start(7).await.expect("a"), start(7).await.expect("b"));
    let creates: Vec<_> = (0..200)
        .map(|i| {
            let addr = if i % 2 == 0 { a.address() } else { b.address() };
            tokio::spawn(async move {
                let headers = [("Truora-API-Key", KEY), ("Content-Type", FORM)];
                request(
                    addr,
                    "POST",
                    "/v1/validations",
                    &headers,
                    b"type=government",
                )
                .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for c in creates {
        let r = c.await.expect("create task");
        assert_eq!(r.status, 200, "{}", r.text());
        let id = r.json()["validation_id"].as_str().expect("id").to_string();
        assert!(ids.insert(id), "an id was handed out twice");
    }
    assert_eq!(ids.len(), 200);
    let total = get(&a, "/_mock/validations?limit=1000").await.json()["count"].clone();
    assert_eq!(total, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_answers_503_promptly_and_service_resumes_by_itself() {
    let mut redis = Redis::start();
    let a = replica(&redis, "down").await;
    let id = create_id(&a, "type=government").await;
    redis.kill();
    let started = Instant::now();
    let polled = poll(&a, &id).await;
    let created = create(&a, "type=government").await;
    let health = get(&a, "/_mock/health").await;
    let advanced = post(&a, "/_mock/clock/advance?seconds=1", "").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered within the timeout"
    );
    for r in [&polled, &created, &health, &advanced] {
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.header("retry-after"), Some("1"));
    }
    let port = redis.port.to_string();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&port, "[port]");
    // Refused, reset or cut short: which depends on whether a pooled connection was reused.
    settings.add_filter(
        r"(Redis at 127\.0\.0\.1:\[port\]/0): .*?\); retry",
        "$1: [error]); retry",
    );
    settings.bind(|| {
        insta::assert_json_snapshot!("outage_poll", polled.json());
        insta::assert_json_snapshot!("outage_health", health.json());
    });
    // Back (empty: this Redis keeps nothing): the same replica serves again, untouched.
    redis.restart();
    let h = get(&a, "/_mock/health").await;
    assert_eq!(h.status, 200, "{}", h.text());
    assert_eq!(h.json()["store"], "redis");
    let fresh = create_id(&a, "type=government").await;
    assert_eq!(poll(&a, &fresh).await.status, 200);
}

/// A Redis that stops answering (`SIGSTOP`: connections open, no replies) costs each request
/// one timeout and a 503 with `Retry-After`, never a hang; once it goes on, the same replica
/// serves the validations it had, with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_answers_503_within_the_timeout_and_service_resumes() {
    let redis = Redis::start();
    // The real clock: a manual clock kept in Redis costs each of its readings a timeout too.
    let url = redis.url("stalled").parse().expect("a valid --store URL");
    let a = MockServer::builder()
        .configure(|c| c.store = StoreConfig::Redis(url))
        .start()
        .await
        .expect("a replica starts");
    let id = create_id(&a, "type=government").await;
    redis.pause();
    let started = Instant::now();
    let polled = poll(&a, &id).await;
    let created = create(&a, "type=government").await;
    // One timeout (500 ms) each.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered within the timeouts, took {:?}",
        started.elapsed()
    );
    redis.resume();
    for r in [&polled, &created] {
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.header("retry-after"), Some("1"));
        assert!(
            r.text().contains("did not answer within 500 ms"),
            "{}",
            r.text()
        );
    }
    assert_eq!(poll(&a, &id).await.status, 200);
    let fresh = create_id(&a, "type=government").await;
    assert_eq!(poll(&a, &fresh).await.status, 200);
}

/// The validation gauges of `/_mock/metrics` with Redis: every scenario and status, the same
/// lines the memory store prints for the same requests (the Redis store once printed none:
/// the count was made through a `list` with limit 0, which Redis never filtered).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_list_every_scenario_and_status_as_the_memory_store_does() {
    let redis = Redis::start();
    let shared = replica(&redis, "metrics").await;
    let memory = MockServer::builder()
        .manual_clock()
        .start()
        .await
        .expect("a memory server starts");
    let gauges = |text: String| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("truidentidad_mock_validations{"))
            .map(str::to_owned)
            .collect()
    };
    for server in [&shared, &memory] {
        for account in [
            "success.a",
            "success.b",
            "declined-face-mismatch.c",
            "never-completes.d",
        ] {
            create_id(server, &format!("type=government&account_id={account}")).await;
        }
        let done = create_id(server, "type=government&account_id=never-completes.e").await;
        let r = post(
            server,
            &format!("/_mock/validations/{done}/complete"),
            "status=failure&failure_status=system_error",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        post(server, "/_mock/clock/advance", "seconds=30").await;
    }
    let from_redis = gauges(get(&shared, "/_mock/metrics").await.text());
    let from_memory = gauges(get(&memory, "/_mock/metrics").await.text());
    assert_eq!(from_redis, from_memory);
    insta::assert_snapshot!(from_redis.join("\n"));
}

/// The poll-counting rule is written twice, in Rust (`Record::count_poll`) and in the poll
/// script's Lua, which counts in Redis without decoding the record. Over many cases (an
/// expiring scenario or not, any timeout, a journey holding the clock or not, polls before
/// and after the timeout) the counters Redis stores after each poll equal the memory store's.
#[test]
fn the_lua_poll_count_equals_the_rust_rule() {
    use std::sync::Arc;
    use truidentidad_mock_server::ids::ValidationId;
    use truidentidad_mock_server::store::{
        ChosenBy, MemoryStore, NewValidation, ValidationStore, redis::RedisStore,
    };
    use truidentidad_scenarios::Catalogue;

    let redis = Redis::start();
    let catalogue = Arc::new(Catalogue::builtin());
    let cases = std::sync::atomic::AtomicU64::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 200,
        failure_persistence: None,
        ..Default::default()
    });
    let strategy = (
        proptest::sample::select(vec!["success-after-polls", "never-completes", "success"]),
        1u64..20,
        proptest::bool::ANY,
        proptest::collection::vec(0u64..30_000, 1..10),
    );
    runner
        .run(
            &strategy,
            |(scenario, timeout_s, await_person, mut polls_ms)| {
                polls_ms.sort_unstable();
                let n = cases.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let url = redis.url(&format!("count{n}")).parse().expect("URL");
                let shared = RedisStore::new(&url, 100, catalogue.clone(), false).expect("store");
                let memory = MemoryStore::new(100, catalogue.clone());
                let new = NewValidation {
                    account_id: "acc".into(),
                    scenario: catalogue.id_of(scenario).expect("a built-in scenario"),
                    chosen_by: ChosenBy::AccountId,
                    timeout: Duration::from_secs(timeout_s),
                    ip: "127.0.0.1".parse().expect("an IP"),
                    params: None,
                    await_person,
                };
                let id = ValidationId(u128::from(n) + 1);
                let stores: [&dyn ValidationStore; 2] = [&memory, &shared];
                for s in stores {
                    assert!(s.insert(id, n, new.clone(), Duration::ZERO).is_ok());
                }
                for ms in polls_ms {
                    let at = Duration::from_millis(ms);
                    let [a, b] = stores.map(|s| {
                        let nth = s.poll(id, &|| at).expect("poll").expect("found").1;
                        let stored = s.get(id, at).expect("get").expect("found");
                        format!("{nth} {:?} {:?}", stored.record, stored.observation)
                    });
                    proptest::prop_assert_eq!(a, b, "poll at {:?}", at);
                }
                Ok(())
            },
        )
        .expect("Redis counts polls as the Rust rule does");
}
