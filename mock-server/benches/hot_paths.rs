//! criterion benchmarks of the mock's per-request hot paths: what every create and poll pays
//! before any I/O. Figures go in BENCHMARKS.md; nothing here asserts a speed.
//!
//! Run: `CARGO_TARGET_DIR=/work/bench-target cargo bench -p truidentidad-mock-server --bench hot_paths`

use std::hint::black_box;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use truidentidad_mock_server::clock::RealClock;
use truidentidad_mock_server::form::parse_create;
use truidentidad_mock_server::ids::ValidationId;
use truidentidad_mock_server::render;
use truidentidad_mock_server::store::{MemoryStore, NewValidation, ValidationStore};
use truidentidad_scenarios::{Catalogue, ValidationFacts, observe};

const CREATE_BODY: &[u8] =
    b"type=government&account_id=declined-face-mismatch.user-42&user_authorized=true&country=CO&threshold=0.65";

fn form(c: &mut Criterion) {
    c.bench_function("form::parse_create (5 fields)", |b| {
        b.iter(|| parse_create(black_box(CREATE_BODY)))
    });
}

fn engine(c: &mut Criterion) {
    let catalogue = Catalogue::builtin();
    let id = catalogue
        .id_of("declined-face-mismatch")
        .expect("built-in scenario");
    let scenario = catalogue.get(id);
    let pending = ValidationFacts {
        since_creation: Duration::from_millis(1500),
        since_scenario_start: Duration::from_millis(1500),
        polls: 1,
        timeout: Duration::from_secs(300),
        forced: None,
    };
    let terminal = ValidationFacts {
        since_creation: Duration::from_secs(10),
        since_scenario_start: Duration::from_secs(10),
        polls: 9,
        ..pending
    };
    c.bench_function("observe (pending)", |b| {
        b.iter(|| observe(scenario, black_box(&pending)))
    });
    c.bench_function("observe (terminal)", |b| {
        b.iter(|| observe(scenario, black_box(&terminal)))
    });
    c.bench_function("catalogue::from_account_id", |b| {
        b.iter(|| catalogue.from_account_id(black_box("declined-face-mismatch.user-42")))
    });
}

fn rendering(c: &mut Criterion) {
    let catalogue = Arc::new(Catalogue::builtin());
    let scenario = catalogue.id_of("success").expect("built-in scenario");
    let store = MemoryStore::new(1024, catalogue);
    let clock = RealClock::new();
    let view = store
        .insert(
            ValidationId::derive(1, 0),
            0,
            NewValidation {
                account_id: Arc::from("success.user-42"),
                scenario,
                chosen_by: Default::default(),
                timeout: Duration::from_secs(300),
                ip: IpAddr::from([127, 0, 0, 1]),
                params: None,
                await_person: false,
            },
            Duration::ZERO,
        )
        .expect("fresh id");
    c.bench_function("render::validation", |b| {
        b.iter(|| render::validation(black_box(&view), &clock, false))
    });
    c.bench_function("render::validation (show_details)", |b| {
        b.iter(|| render::validation(black_box(&view), &clock, true))
    });
}

fn ids(c: &mut Criterion) {
    let mut seq = 0u64;
    c.bench_function("ValidationId::derive", |b| {
        b.iter(|| {
            seq += 1;
            ValidationId::derive(black_box(42), seq)
        })
    });
    let id = ValidationId::derive(42, 7).to_string();
    c.bench_function("ValidationId::from_str", |b| {
        b.iter(|| black_box(&id).parse::<ValidationId>())
    });
    c.bench_function("ValidationId::to_string", |b| {
        b.iter(|| black_box(ValidationId(7)).to_string())
    });
}

criterion_group!(benches, form, engine, rendering, ids);
criterion_main!(benches);
