//! A shell script run in a process group of its own, so everything it started in the
//! background (a server, nginx and its workers, a Python service) stops with it.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A process group led by one child; SIGTERM then SIGKILL to the whole group on drop.
pub struct ProcessGroup(pub Child);

impl ProcessGroup {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<ProcessGroup> {
        cmd.process_group(0).spawn().map(ProcessGroup)
    }

    /// Waits up to `limit` for the leader to exit; its exit status, or `None` on time-out.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SIGTERM first (nginx's master takes its workers along), SIGKILL to what is left
        // after 5 s.
        let pgid = self.0.id();
        let group = format!("-{pgid}");
        for signal in ["-TERM", "-KILL"] {
            // Quiet: the group may already be gone, which is what we want.
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(std::process::Stdio::null())
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                let _ = self.0.try_wait();
                if !group_alive(pgid) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Whether any live (not zombie) process is still in group `pgid`.
pub fn group_alive(pgid: u32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.filter_map(Result::ok).any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // After the `(comm)` field: state, ppid, pgrp.
        let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
        let mut f = rest.split(' ');
        let state = f.next().unwrap_or("Z");
        f.nth(1) == Some(pgid.to_string().as_str()) && state != "Z"
    })
}
