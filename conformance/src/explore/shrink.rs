//! Shrinking a FAILED run to a minimal scenario that still fails the same rule.
//!
//! Greedy, like proptest's and Hypothesis's: take the candidates
//! ([`Generated::shrink_candidates`]: one fault fewer, one phase fewer, a smaller
//! `Retry-After`, an earlier end, a fault on an earlier poll), run them `jobs` at a time, and
//! accept the first in candidate order that still fails the rule; repeat from it until no
//! candidate fails or the budget (`--shrink-runs`) is spent.
//!
//! **Policy for nondeterministic clients**: a candidate counts as failing when the rule FAILS
//! in at least 1 of k runs (k = `--shrink-tries`, 2 by default). A candidate that fails on its
//! first run costs one run; one that passes costs k. A client whose defect depends on a random
//! draw (jitter) can therefore keep a fault the defect does not strictly need, never lose one
//! it needs: the minimal scenario still fails at least once in k runs, and its replay shows it.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::generate::Generated;
use super::{Ctx, Found, Run, rules_with, run_one};
use crate::verdict::{CaseReport, Verdict};

/// Whether a run of `g` fails `rule`, within `tries` runs; the failing report when it does.
async fn fails_rule(ctx: &Ctx, g: &Generated, tag: &str, rule: &str) -> Option<CaseReport> {
    for _ in 0..ctx.opts.shrink_tries.max(1) {
        let report = run_one(ctx, g, tag).await;
        if rules_with(&report, Verdict::Failed)
            .iter()
            .any(|r| r == rule)
        {
            return Some(report);
        }
    }
    None
}

/// Shrinks `run` (which FAILED with `report`) while its first FAILED rule still fails.
pub(crate) async fn shrink(ctx: &Arc<Ctx>, run: Run, report: CaseReport) -> Found {
    let rule = rules_with(&report, Verdict::Failed)
        .into_iter()
        .next()
        .unwrap_or_default();
    let before = ctx.client_runs.load(std::sync::atomic::Ordering::Relaxed);
    let mut current = run.scenario.clone();
    let mut current_report = report;
    let mut steps = 0;
    let mut budget_hit = false;
    // A saved corpus file is replayed as written: it is already a minimal scenario.
    let shrinkable = run.index.is_some();
    'outer: loop {
        if !shrinkable {
            break;
        }
        let candidates = current.shrink_candidates();
        for chunk in candidates.chunks(ctx.opts.settings.jobs.max(1)) {
            let spent = ctx.client_runs.load(std::sync::atomic::Ordering::Relaxed) - before;
            if spent >= ctx.opts.shrink_budget {
                budget_hit = true;
                break 'outer;
            }
            let mut set = JoinSet::new();
            for (k, c) in chunk.iter().enumerate() {
                let ctx = ctx.clone();
                let c = c.clone();
                let rule = rule.clone();
                let tag = format!("shrink-{steps}-{k}");
                set.spawn(async move { (k, fails_rule(&ctx, &c, &tag, &rule).await) });
            }
            let mut results: Vec<(usize, Option<CaseReport>)> = Vec::new();
            while let Some(Ok(r)) = set.join_next().await {
                results.push(r);
            }
            results.sort_by_key(|(k, _)| *k);
            if let Some((k, Some(rep))) = results.into_iter().find(|(_, r)| r.is_some()) {
                current = chunk[k].clone();
                current_report = rep;
                steps += 1;
                continue 'outer;
            }
        }
        break;
    }
    let minimal_summary = if shrinkable {
        current.summary()
    } else {
        run.summary.clone()
    };
    Found {
        source: run.source.clone(),
        rule,
        original: run.scenario,
        minimal: current,
        minimal_summary,
        shrink_runs: ctx.client_runs.load(std::sync::atomic::Ordering::Relaxed) - before,
        shrink_steps: steps,
        shrink_budget_hit: budget_hit,
        minimal_report: current_report,
        file: if shrinkable { None } else { Some(run.source) },
    }
}
