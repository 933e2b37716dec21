//! What redacting one exchange costs once a recording has learned 10 personal values, and once
//! it has learned 1,000 (BENCHMARKS.md §10). No criterion: a plain timing loop, run with
//!
//! ```text
//! cargo run --release -p truidentidad-fidelity --example redact_scaling
//! ```
//!
//! The recording learns values the way `record` does: each create's form carries a document
//! number and a first name. Then two kinds of exchange N are timed, redacted as
//! `Recorder::capture` does (request headers, path and body, then the answer's):
//! - a poll of an earlier validation, whose answer echoes its document number: most of a
//!   recording, and it learns nothing, so the recording stays at its size;
//! - the create of a new person, which learns two more values.

use std::time::{Duration, Instant};

use truidentidad_fidelity::redact::Redactor;

const HEADERS: &[(&str, &str)] = &[
    ("Truora-API-Key", "sk-live-real-key-123"),
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("User-Agent", "integrator-backend/2.3"),
    ("X-Forwarded-For", "203.0.113.7"),
    ("Accept", "*/*"),
];

fn form(i: usize) -> String {
    format!(
        "type=government&country=CO&account_id=user-{i}&user_authorized=true&document_number={}&first_name=Person{i:06}x",
        1_000_000_000 + i
    )
}

fn answer(i: usize) -> String {
    format!(
        r#"{{"account_id":"user-{i}","creation_date":"2026-12-08T02:00:00Z","details":{{"government_validations":{{"confidence_score":0.97,"country":"CO","passive_liveness_status":"success","similarity_status":"success","source":"registraduria","reference":"CC {}"}}}},"front_image":"https://cdn.example/front-{i}.jpg","ip_address":"203.0.113.7","type":"government","validation_id":"VLD{i:032x}","validation_status":"pending"}}"#,
        1_000_000_000 + i
    )
}

/// Redacts the create of person `i` as the recorder does.
fn create(r: &Redactor, i: usize) -> usize {
    let mut n = 0;
    for (k, v) in HEADERS {
        n += r.header(k, v).len();
    }
    n += r.path("/v1/validations").len();
    n += r
        .body(Some("application/x-www-form-urlencoded"), &form(i))
        .len();
    n += r.header("Content-Type", "application/json").len();
    n + r.body(Some("application/json"), &answer(i)).len()
}

/// Redacts a poll of person `i`'s validation as the recorder does.
fn poll(r: &Redactor, i: usize) -> usize {
    let mut n = 0;
    for (k, v) in &HEADERS[..HEADERS.len() - 1] {
        n += r.header(k, v).len();
    }
    n += r.path(&format!("/v1/validations/VLD{i:032x}")).len();
    n += r.body(None, "").len();
    n += r.header("Content-Type", "application/json").len();
    n + r.body(Some("application/json"), &answer(i)).len()
}

/// A recording that has seen `creates` creates: 2 learned values each.
fn recording(creates: usize) -> Redactor {
    let r = Redactor::new();
    for i in 0..creates {
        create(&r, i);
    }
    r
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// Median time of a poll, over 7 rounds of 500 polls of earlier validations.
fn polls(learned: usize) -> Duration {
    let creates = learned / 2;
    let r = recording(creates);
    let mut sink = 0;
    let rounds = (0..7)
        .map(|_| {
            let start = Instant::now();
            for k in 0..500 {
                sink += poll(&r, (k * 7919) % creates);
            }
            start.elapsed() / 500
        })
        .collect();
    std::hint::black_box(sink);
    median(rounds)
}

/// Median time of the next create, over 101 recordings of the same size.
fn creates(learned: usize) -> Duration {
    let n = learned / 2;
    let mut sink = 0;
    let times = (0..101)
        .map(|_| {
            let r = recording(n);
            let start = Instant::now();
            sink += create(&r, n);
            start.elapsed()
        })
        .collect();
    std::hint::black_box(sink);
    median(times)
}

fn main() {
    // Warm-up.
    polls(10);
    creates(10);
    println!("| learned values before exchange N | poll N (median µs) | create N (median µs) |");
    println!("|---|---|---|");
    for learned in [10, 1_000, 10, 1_000] {
        let (p, c) = (polls(learned), creates(learned));
        println!(
            "| {learned} | {:.1} | {:.1} |",
            p.as_secs_f64() * 1e6,
            c.as_secs_f64() * 1e6
        );
    }
}
