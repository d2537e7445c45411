//! The repair worker: one targeted repair at a time, on the monitored
//! filesystem reopened and verified for each ([`crate::repair::repair`]).

use super::{Answer, Done, OnDemand};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use xfs_abi::handle::XfsHandle;
use xfs_policy::Target;

/// A repair to make, and when the read that asked for it returned.
pub type Job = (Target, Option<Instant>);

/// The worker, started at the first repair. One at a time: the core
/// hands out the next when this one is done.
pub fn worker(
    mount_path: PathBuf,
    monitor: Arc<OwnedFd>,
    root: Option<XfsHandle>,
    answer: Answer,
) -> OnDemand<Job> {
    OnDemand::new("repair", answer, move |(target, read_at): Job| {
        let attempt = crate::repair::repair(&mount_path, monitor.as_fd(), root.as_ref(), &target);
        Done::Repair(target, attempt, read_at)
    })
}
