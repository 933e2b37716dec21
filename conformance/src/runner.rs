//! Runs the cases: a mock per case, the client once against it, then the checks.
//!
//! Cases run concurrently (bounded by `--jobs`) because they spend nearly all their time
//! waiting on the client's sleeps; each has its own port, scenario and journal, so they cannot
//! see each other's requests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;
use truidentidad_mock_server::MockServer;
use truidentidad_mock_server::journal::Kind;

use crate::catalogue::{Case, Catalogue, Level};
use crate::check_id::CheckId;
use crate::client::{self, ClientEnd, ClientEnv, ClientSpec};
use crate::settings::{API_KEY, Settings, case_seed, settings_report};
use crate::trace::{self, Trace};
use crate::verdict::{CaseReport, GradedRequest, RuleFinding, Verdict};

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub catalogue: Arc<Catalogue>,
    pub client: ClientSpec,
    pub settings: Settings,
    /// Rule ids not checked.
    pub skip: Vec<String>,
    /// Case ids to run; empty runs all. Cases left out are reported SKIPPED.
    pub only: Vec<String>,
}

/// The magic account_id of a case: `<scenario>.<case>`, so even a client that ignores the
/// server's default scenario lands in the right one.
pub fn account_id(case: &Case) -> String {
    format!("{}.{}", case.scenario, case.id)
}

/// Runs every case of the plan; reports come back in catalogue order.
pub async fn run_all(plan: &Plan) -> Vec<CaseReport> {
    let limit = Arc::new(Semaphore::new(plan.settings.jobs.max(1)));
    let mut tasks = Vec::new();
    for case in &plan.catalogue.cases {
        if !plan.only.is_empty() && !plan.only.contains(&case.id) {
            tasks.push(None);
            continue;
        }
        let plan = plan.clone();
        let case = case.clone();
        let limit = limit.clone();
        tasks.push(Some(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            run_case(&plan, &case).await
        })));
    }
    let mut out = Vec::new();
    for (case, task) in plan.catalogue.cases.iter().zip(tasks) {
        let report = match task {
            None => CaseReport::not_run(
                case,
                account_id(case),
                Verdict::Skipped,
                "not selected (--case)".into(),
            ),
            Some(t) => match t.await {
                Ok(r) => r,
                Err(e) => CaseReport::not_run(
                    case,
                    account_id(case),
                    Verdict::Interrupted,
                    format!("the case's task failed: {e}"),
                ),
            },
        };
        out.push(report);
    }
    out
}

/// Runs one case.
pub async fn run_case(plan: &Plan, case: &Case) -> CaseReport {
    let started = Instant::now();
    let account_id = account_id(case);
    let Some(scenario) = plan
        .catalogue
        .scenarios
        .id_of(&case.scenario)
        .map(|id| plan.catalogue.scenarios.get(id).clone())
    else {
        return CaseReport::not_run(
            case,
            account_id,
            Verdict::Interrupted,
            format!("unknown scenario `{}`", case.scenario),
        );
    };
    let scenarios = plan.catalogue.scenarios.clone();
    let server = MockServer::builder()
        .seed(case_seed(plan.settings.seed, &case.id))
        .api_key(API_KEY)
        .default_scenario(case.scenario.clone())
        .configure(|c| {
            c.catalogue = scenarios;
            c.journal_capacity = 20_000;
        })
        .start()
        .await;
    let server = match server {
        Ok(s) => s,
        Err(e) => {
            return CaseReport::not_run(
                case,
                account_id,
                Verdict::Interrupted,
                format!("could not start the mock: {e}"),
            );
        }
    };
    let env = ClientEnv {
        base_url: server.uri(),
        api_key: case.api_key.clone().unwrap_or_else(|| API_KEY.to_string()),
        account_id: account_id.clone(),
        deadline: plan.settings.deadline_for(case),
    };
    let state = server.state().clone();
    let limits = client::Limits {
        startup: plan.settings.startup_limit,
        case: plan.settings.case_limit,
    };
    let run = client::run(
        &plan.client,
        &env,
        limits,
        plan.settings.quiet_window,
        || state.now(),
        || first_request(&state),
    )
    .await;
    if let ClientEnd::Unreachable { reason } = &run.end {
        let mut r = CaseReport::not_run(case, account_id, Verdict::Interrupted, reason.clone());
        r.duration = started.elapsed();
        return r;
    }
    // Stop the mock before reading its journal: shutting down waits for the handlers still
    // running (a stalled poll the client abandoned is journaled when its socket closes), so
    // every request the client made is in the journal, whatever the timing of its exit.
    server.shutdown().await;
    let requests = trace::collect(&state);
    let trace = Trace::new(
        case.clone(),
        scenario,
        plan.settings.clone(),
        account_id.clone(),
        requests,
        run,
    );
    let mut report = grade(&plan.catalogue, &plan.skip, &trace);
    report.seed = Some(case_seed(plan.settings.seed, &case.id));
    report.duration = started.elapsed();
    report
}

/// When the mock received the client's first API request, if it has.
fn first_request(state: &truidentidad_mock_server::AppState) -> Option<std::time::Duration> {
    state
        .journal()
        .from_seq(0, 1, |e| matches!(e.kind, Kind::Create | Kind::Poll))
        .first()
        .map(|e| e.received)
}

/// Runs every rule's check over a trace and derives the case verdict.
pub fn grade(catalogue: &Catalogue, skip: &[String], trace: &Trace) -> CaseReport {
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut raw = Vec::new();
    for rule in &catalogue.rules {
        if skip.contains(&rule.id) {
            skipped.push(rule.id.clone());
            continue;
        }
        raw.push((rule, rule.check.run(trace)));
    }
    // One decision, one finding: a finding gives way to the more specific checks it names.
    let found: Vec<CheckId> = raw
        .iter()
        .filter(|(_, f)| !f.is_empty())
        .map(|(rule, _)| rule.check)
        .collect();
    for (rule, rule_findings) in raw {
        let verdict = match rule.level {
            Level::Must => Verdict::Failed,
            Level::Should => Verdict::Warning,
        };
        for f in rule_findings
            .into_iter()
            .filter(|f| !f.unless.iter().any(|c| found.contains(c)))
        {
            findings.push(RuleFinding {
                rule: rule.id.clone(),
                title: rule.title.clone(),
                level: rule.level,
                verdict,
                message: f.message,
                requests: f.requests,
                fix: rule.fix.clone(),
                source: rule.source.clone(),
                expected: false,
            });
        }
    }
    let verdict = if skipped.len() == catalogue.rules.len() {
        Verdict::Skipped
    } else {
        findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Passed)
    };
    let mut per_request: HashMap<u64, (Verdict, Vec<String>)> = HashMap::new();
    for f in &findings {
        for seq in &f.requests {
            let e = per_request
                .entry(*seq)
                .or_insert((Verdict::Passed, Vec::new()));
            e.0 = e.0.max(f.verdict);
            if !e.1.contains(&f.rule) {
                e.1.push(f.rule.clone());
            }
        }
    }
    let requests = trace
        .requests
        .iter()
        .map(|r| {
            let (v, rules) = per_request
                .remove(&r.seq)
                .unwrap_or((Verdict::Passed, Vec::new()));
            GradedRequest {
                request: r.clone(),
                verdict: v,
                rules,
            }
        })
        .collect();
    CaseReport {
        id: trace.case.id.clone(),
        title: trace.case.title.clone(),
        scenario: trace.case.scenario.clone(),
        account_id: trace.account_id.clone(),
        expect: trace.case.expect.clone(),
        verdict,
        seed: None,
        reason: None,
        duration: std::time::Duration::ZERO,
        findings,
        skipped_rules: skipped,
        client: Some(trace.client.clone()),
        requests,
    }
}

/// Runs the plan and assembles the report (without `--expect`, which the caller applies).
pub async fn run_report(plan: &Plan, client_label: String) -> crate::verdict::RunReport {
    let started = Instant::now();
    let cases = run_all(plan).await;
    let wall_time = started.elapsed();
    crate::verdict::RunReport {
        schema: 1,
        suite: "truidentidad-conformance",
        version: env!("CARGO_PKG_VERSION"),
        client: client_label,
        settings: settings_report(&plan.settings, &plan.skip),
        summary: crate::verdict::RunReport::summarize(&cases),
        expect: None,
        wall_time,
        cases,
    }
}
