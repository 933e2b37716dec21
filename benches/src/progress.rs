//! Live progress on stderr: an indicatif bar on a terminal, a plain line every few seconds
//! otherwise (CI logs, files), so a long run never looks hung and never floods a log.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::stats::Stats;

/// How the progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Bar,
    Lines,
    Off,
}

impl Display {
    /// The bar on a terminal, lines elsewhere.
    pub fn auto(quiet: bool) -> Self {
        if quiet {
            Display::Off
        } else if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Lines
        }
    }
}

/// A running progress display; [`Progress::finish`] clears it before the summary prints.
#[derive(Debug)]
pub struct Progress {
    task: Option<JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

/// One line of figures, shared by the bar's message and the plain lines.
fn status_line(stats: &Stats, rate: f64, draining: bool) -> String {
    format!(
        "{}{:.0} req/s | started {} done {} dropped {} in-flight {} | errors {}",
        if draining {
            "arrivals over, draining | "
        } else {
            ""
        },
        rate,
        stats.started.load(Ordering::Relaxed),
        stats.finished.load(Ordering::Relaxed),
        stats.dropped.load(Ordering::Relaxed),
        stats.in_flight.load(Ordering::Relaxed),
        stats.errors_total(),
    )
}

impl Progress {
    pub fn start(display: Display, stats: Arc<Stats>, planned: Duration) -> Self {
        let counted = stats.clone();
        Self::start_with(
            display,
            planned,
            move || counted.requests(),
            move |rate, draining| status_line(&stats, rate, draining),
        )
    }

    /// A display of any run: `requests` is read each tick for the rate, `line` writes the
    /// figures from that rate and whether the planned time is over (the fleet mode counts
    /// what the mock received, not what the driver sent).
    pub fn start_with(
        display: Display,
        planned: Duration,
        requests: impl Fn() -> u64 + Send + 'static,
        line: impl Fn(f64, bool) -> String + Send + 'static,
    ) -> Self {
        let bar = (display == Display::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(planned.as_secs().max(1)),
                ProgressDrawTarget::stderr(),
            );
            let style = ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len}s {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let task = (display != Display::Off).then(|| {
            let bar = bar.clone();
            tokio::spawn(async move {
                let tick = if bar.is_some() {
                    Duration::from_millis(500)
                } else {
                    Duration::from_secs(5)
                };
                let start = Instant::now();
                let mut last = (start, requests());
                loop {
                    tokio::time::sleep(tick).await;
                    let now = Instant::now();
                    let reqs = requests();
                    let rate =
                        reqs.saturating_sub(last.1) as f64 / (now - last.0).as_secs_f64().max(1e-3);
                    last = (now, reqs);
                    let draining = now - start >= planned;
                    let line = line(rate, draining);
                    match &bar {
                        Some(bar) => {
                            bar.set_position((now - start).as_secs().min(planned.as_secs().max(1)));
                            bar.set_message(line);
                        }
                        None => eprintln!(
                            "[{:>5.0}s/{}s] {line}",
                            (now - start).as_secs_f64(),
                            planned.as_secs()
                        ),
                    }
                }
            })
        });
        Progress { task, bar }
    }

    pub fn finish(mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
