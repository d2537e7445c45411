//! The repair worker: one targeted repair at a time, on the monitored
//! filesystem reopened and verified for each ([`crate::repair::repair`]).

use super::{Answer, Done};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;
use xfs_abi::handle::XfsHandle;
use xfs_policy::Target;

/// A repair to make, and when the read that asked for it returned.
pub type Job = (Target, Option<Instant>);

pub fn start(
    mount_path: PathBuf,
    monitor: Arc<OwnedFd>,
    root: Option<XfsHandle>,
    answer: Answer,
) -> std::io::Result<(mpsc::SyncSender<Job>, std::thread::JoinHandle<()>)> {
    // One at a time: the core hands out the next when this one is done.
    let (jobs, queue) = mpsc::sync_channel::<Job>(1);
    let thread = std::thread::Builder::new()
        .name("repair".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            for (target, read_at) in queue {
                let attempt =
                    crate::repair::repair(&mount_path, monitor.as_fd(), root.as_ref(), &target);
                if !answer.send(Done::Repair(target, attempt, read_at)) {
                    break;
                }
            }
        })?;
    Ok((jobs, thread))
}
