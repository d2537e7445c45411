//! The full scan's thread: starts it as the reference does and follows it
//! to its end. Without systemd `xfs_scrub` is our child; under systemd the
//! `xfs_scrub@` unit (a oneshot) runs it, and a second, blocking
//! `systemctl start` of it returns when the running job ends, so "while a
//! scan runs, reports queue nothing" holds there too.

use super::{Answer, Done};
use crate::repair::{self, FullScan};
use std::path::PathBuf;
use std::time::Duration;
use xfs_abi::process::{ChildEnd, wait_with_timeout};
use xfs_healer::core::ScanEnd;

/// Starts the scan on its own thread, which answers twice: whether it
/// started ([`Done::ScanStarted`]), then when it ended
/// ([`Done::ScanEnded`]).
pub fn start(mount_path: PathBuf, limit: Duration, answer: Answer) {
    let on_failure = answer.clone();
    let spawned = std::thread::Builder::new()
        .name("full-scan".into())
        .stack_size(64 * 1024)
        .spawn(move || run(&mount_path, limit, &answer));
    if let Err(e) = spawned {
        on_failure.send(Done::ScanStarted(Err(format!(
            "Could not start xfs_scrub: {e}"
        ))));
    }
}

fn run(mount_path: &std::path::Path, limit: Duration, answer: &Answer) {
    let (child, under_systemd) = match repair::start_full_scan(mount_path) {
        FullScan::UnitStarted(unit) => match repair::follow_unit(&unit) {
            Ok(follower) => (follower, true),
            // Started, but cannot be followed: as the reference, done.
            Err(_) => {
                answer.send(Done::ScanStarted(Ok(None)));
                answer.send(Done::ScanEnded(ScanEnd::UnitEnded));
                return;
            }
        },
        FullScan::Child(child) => (child, false),
        FullScan::NoUnitName => {
            answer.send(Done::ScanStarted(Err(
                "Could not determine xfs_scrub unit name.".into(),
            )));
            return;
        }
        FullScan::UnitFailed(unit) => {
            answer.send(Done::ScanStarted(Err(format!(
                "Could not start xfs_scrub service unit: {unit}"
            ))));
            return;
        }
        FullScan::SpawnFailed(why) => {
            answer.send(Done::ScanStarted(Err(format!(
                "Could not start xfs_scrub: {why}"
            ))));
            return;
        }
    };
    answer.send(Done::ScanStarted(Ok(xfs_abi::process::pidfd(&child))));
    let end = wait_with_timeout(child, limit);
    // Under systemd the unit reports for itself (as with the reference).
    let end = match end {
        _ if under_systemd => ScanEnd::UnitEnded,
        ChildEnd::Exited(code) => ScanEnd::Exited(code),
        ChildEnd::TimedOut => ScanEnd::TimedOut {
            hours: limit.as_secs() / 3600,
        },
    };
    answer.send(Done::ScanEnded(end));
}
