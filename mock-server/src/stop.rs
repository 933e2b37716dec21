//! Telling every open connection that the server is stopping.
//!
//! Each connection task checks for the stop on every wake-up, so the check must cost next to
//! nothing. A `tokio::sync::watch` receiver waiting for a change re-locks the channel's
//! shared waiter list on each poll: one lock for all connections, taken on every request,
//! contended as soon as two worker threads serve requests. Here a wake-up costs one atomic
//! load; a connection's waker is stored once (again only if its task's waker changes), and
//! the lock is taken only to register, to leave, and to stop.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Waker};

use parking_lot::Mutex;

/// The server-wide stop flag and the wakers of the connections waiting on it.
#[derive(Debug, Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    next_key: AtomicU64,
    waiting: Mutex<HashMap<u64, Waker>>,
}

impl StopSignal {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Sets the flag and wakes every registered connection. Idempotent.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        let wakers: Vec<Waker> = self.waiting.lock().drain().map(|(_, w)| w).collect();
        for w in wakers {
            w.wake();
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// A per-connection handle that can be polled for the stop.
    pub fn watch(self: &Arc<Self>) -> StopWatch {
        StopWatch {
            key: self.next_key.fetch_add(1, Ordering::Relaxed),
            signal: Arc::clone(self),
            registered: None,
        }
    }
}

/// One connection's view of the [`StopSignal`]; leaves the waiting list when dropped.
#[derive(Debug)]
pub struct StopWatch {
    key: u64,
    signal: Arc<StopSignal>,
    /// The waker last stored in the signal's list, to skip storing an equivalent one again.
    registered: Option<Waker>,
}

impl StopWatch {
    /// Whether the server is stopping; if not, `cx`'s task is woken when it does.
    pub fn poll_stopped(&mut self, cx: &mut Context<'_>) -> bool {
        if self.signal.is_stopped() {
            return true;
        }
        if !self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            let waker = cx.waker().clone();
            self.signal.waiting.lock().insert(self.key, waker.clone());
            self.registered = Some(waker);
        }
        // A stop between the first check and the registration drained the list without this
        // waker: look again now that it is in.
        self.signal.is_stopped()
    }
}

impl Drop for StopWatch {
    fn drop(&mut self) {
        if self.registered.is_some() {
            self.signal.waiting.lock().remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter::default());
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn a_waiting_connection_is_woken_once_by_the_stop_and_then_sees_it() {
        let signal = StopSignal::new();
        let (count, w) = waker();
        let mut watch = signal.watch();
        let mut cx = Context::from_waker(&w);
        assert!(!watch.poll_stopped(&mut cx));
        // Polled again by the same task: nothing new is stored, nothing woken.
        assert!(!watch.poll_stopped(&mut cx));
        assert_eq!(signal.waiting.lock().len(), 1);
        signal.stop();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(watch.poll_stopped(&mut cx));
        signal.stop();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the list was drained");
    }

    #[test]
    fn the_newest_waker_is_the_one_woken() {
        let signal = StopSignal::new();
        let (first, w1) = waker();
        let (second, w2) = waker();
        let mut watch = signal.watch();
        assert!(!watch.poll_stopped(&mut Context::from_waker(&w1)));
        assert!(!watch.poll_stopped(&mut Context::from_waker(&w2)));
        signal.stop();
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_connection_opened_after_the_stop_sees_it_at_once() {
        let signal = StopSignal::new();
        signal.stop();
        let (count, w) = waker();
        assert!(signal.watch().poll_stopped(&mut Context::from_waker(&w)));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn closed_connections_leave_the_list() {
        let signal = StopSignal::new();
        let (_count, w) = waker();
        let watches: Vec<StopWatch> = (0..3)
            .map(|_| {
                let mut watch = signal.watch();
                assert!(!watch.poll_stopped(&mut Context::from_waker(&w)));
                watch
            })
            .collect();
        assert_eq!(signal.waiting.lock().len(), 3);
        drop(watches);
        assert!(signal.waiting.lock().is_empty());
    }
}
