//! The threads that make the calls that take time (a repair ioctl, parent
//! pointer walks, GETFSMAP paging, a full scan, the metrics file), so that
//! the reactor only reads, decides and hands out work. Each answers with a
//! [`Done`] on one channel and a byte on the reactor's wake-up socket.

pub mod full_scan;
pub mod lookup;
pub mod repair;

use crate::repair::Attempt;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;
use xfs_healer::core::{Input, ScanEnd};
use xfs_policy::Target;

/// A worker's answer.
pub enum Done {
    /// The target, how it went, and when the read that asked for it
    /// returned (if it was dispatched right after that read).
    Repair(Target, Attempt, Option<Instant>),
    /// A lookup's answer, as the core takes it.
    Lookup(Input),
    /// The full scan started (with the pidfd of the process that ends
    /// with it: our `xfs_scrub`, or the `systemctl start` following the
    /// unit), or could not (the message).
    ScanStarted(Result<Option<OwnedFd>, String>),
    ScanEnded(ScanEnd),
}

/// How a worker answers: the message, then a wake-up for the reactor.
#[derive(Clone)]
pub struct Answer {
    pub done: mpsc::Sender<Done>,
    pub wake: Arc<UnixStream>,
}

impl Answer {
    /// False once the reactor is gone.
    pub fn send(&self, done: Done) -> bool {
        let sent = self.done.send(done).is_ok();
        let _ = (&*self.wake).write_all(&[1]);
        sent
    }
}
