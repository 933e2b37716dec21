//! `--snapshot-every`: the state file written periodically while serving, not only at
//! shutdown, so a SIGKILL, an out-of-memory kill or a power cut loses at most one interval.
//!
//! Off the request path: each save runs on tokio's blocking pool, so no worker thread that
//! answers requests serializes or writes the file. A save takes the store's shard locks one
//! at a time and the journal's lock once (to copy its entries), as the control API's listing
//! does; requests wait only for those copies, not for the JSON or the disk. One save at a
//! time: a slow disk skips ticks rather than piling up writers, and the shutdown save waits
//! for the one in progress, so the last file written is the final one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// The running periodic saver.
#[derive(Debug)]
pub struct Snapshotter {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts saving `state` every `--snapshot-every`, if a state file and an interval are set.
pub fn start(state: &Arc<AppState>) -> Option<Snapshotter> {
    let every = state.config.snapshot_every?;
    let path = state.config.state_file.clone()?;
    let (stop, mut stopped) = watch::channel(false);
    let state = state.clone();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate: there is nothing new to save yet.
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => return,
            }
            let (state, path) = (state.clone(), path.clone());
            let saved = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                crate::persist::save(&state, &path).map(|n| (n, started.elapsed()))
            })
            .await;
            match saved {
                Ok(Ok((n, took))) => tracing::debug!(
                    "snapshot: {n} validations in {:.1} ms",
                    took.as_secs_f64() * 1e3
                ),
                // Keep serving: the next tick tries again, and the shutdown save still runs.
                Ok(Err(e)) => tracing::warn!("snapshot failed: {e}"),
                Err(e) => tracing::warn!("snapshot task failed: {e}"),
            }
        }
    });
    Some(Snapshotter { stop, task })
}

impl Snapshotter {
    /// Stops the ticks and waits for a save in progress to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        // A save on the blocking pool cannot be cancelled; it ends within the grace below.
        let _ = tokio::time::timeout(Duration::from_secs(60), self.task).await;
    }
}
