//! Without systemd the launcher runs the healers itself, one child per
//! filesystem (keyed by the superblock's device, so a second mount of the
//! same filesystem starts nothing), with the unit's `ExecCondition` check
//! (`xfs_healer --supported`) first. A healer that exits 0 saw its
//! filesystem unmounted and is forgotten; one that fails while its mount
//! is still there is restarted with exponential backoff, up to a limit.
//! Children get SIGTERM if the launcher dies, so none is orphaned.

use crate::{display, err, out};
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use xfs_abi::mount::MountInfo;
use xfs_abi::process::{ChildEnd, wait_with_timeout};

/// Most healers at once (one per filesystem; this is only a backstop).
const MAX_CHILDREN: usize = 1024;
/// Restarts in a row before giving up on a filesystem.
const MAX_RESTARTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A healer that ran this long before failing starts a fresh backoff.
const STABLE_RUN: Duration = Duration::from_secs(300);
/// How long `xfs_healer --supported` may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// A healer child: the helper environment, plus the configuration file
/// the launcher was told about (the healers must read the same one).
fn healer_command(program: &std::path::Path) -> Command {
    let mut cmd = xfs_abi::process::helper_command(program);
    if let Some(config) = std::env::var_os("XFS_HEALER_CONFIG") {
        cmd.env("XFS_HEALER_CONFIG", config);
    }
    cmd
}

/// The installed healer: next to this program, else where xfsprogs puts it.
fn healer_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("xfs_healer")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/libexec/xfsprogs/xfs_healer"))
}

struct Healer {
    mount: MountInfo,
    /// The running child and its pidfd; None while waiting to restart.
    running: Option<(Child, OwnedFd)>,
    started: Instant,
    failures: u32,
    restart_at: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Supervisor {
    healers: Vec<Healer>,
    program: PathBuf,
}

impl std::fmt::Debug for Healer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Healer")
            .field("mount", &self.mount)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    pub fn new() -> Supervisor {
        Supervisor {
            healers: Vec::new(),
            program: healer_path(),
        }
    }

    /// Starts a healer for a newly seen XFS mount, unless its filesystem
    /// has one or the healer's own check says it does not apply.
    pub fn start(&mut self, mount: MountInfo) {
        let mnt = display(&mount.mnt_point);
        if self.healers.iter().any(|h| h.mount.dev == mount.dev) {
            return;
        }
        if self.healers.len() >= MAX_CHILDREN {
            err(&format!(
                "{mnt}: {MAX_CHILDREN} healers already running; not starting another."
            ));
            return;
        }
        let check = healer_command(&self.program)
            .arg("--supported")
            .arg(std::ffi::OsStr::from_bytes(&mount.mnt_point))
            .stdout(Stdio::null())
            .spawn();
        match check.map(|child| wait_with_timeout(child, CHECK_TIMEOUT)) {
            Ok(ChildEnd::Exited(Some(0))) => {}
            // 1: not applicable (autofsck=none, no health monitor, ...).
            Ok(ChildEnd::Exited(Some(1))) => {
                out(&format!(
                    "{mnt}: xfs_healer does not apply to this filesystem; not started."
                ));
                return;
            }
            Ok(end) => {
                err(&format!(
                    "{mnt}: xfs_healer --supported failed ({end:?}); not started."
                ));
                return;
            }
            Err(e) => {
                err(&format!(
                    "{mnt}: Could not run {}: {e}",
                    self.program.display()
                ));
                return;
            }
        }
        let mut healer = Healer {
            mount,
            running: None,
            started: Instant::now(),
            failures: 0,
            restart_at: None,
        };
        if self.spawn(&mut healer) {
            out(&format!("{mnt}: xfs_healer started."));
            self.healers.push(healer);
        }
    }

    fn spawn(&self, healer: &mut Healer) -> bool {
        let mut cmd = healer_command(&self.program);
        cmd.arg(std::ffi::OsStr::from_bytes(&healer.mount.mnt_point));
        xfs_abi::process::terminate_with_parent(&mut cmd);
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                err(&format!(
                    "{}: Could not start {}: {e}",
                    display(&healer.mount.mnt_point),
                    self.program.display()
                ));
                return false;
            }
        };
        let Some(pidfd) = xfs_abi::process::pidfd(&child) else {
            err("pidfd_open: this program needs Linux 5.3 or later to supervise healers");
            return false;
        };
        healer.running = Some((child, pidfd));
        healer.started = Instant::now();
        healer.restart_at = None;
        true
    }

    /// The children's pidfds, for the launcher's `poll`.
    pub fn pidfds(&self) -> Vec<BorrowedFd<'_>> {
        self.healers
            .iter()
            .filter_map(|h| h.running.as_ref().map(|(_, fd)| fd.as_fd()))
            .collect()
    }

    /// Time until the next restart is due.
    pub fn next_deadline(&self) -> Option<Duration> {
        let now = Instant::now();
        self.healers
            .iter()
            .filter_map(|h| h.restart_at)
            .min()
            .map(|t| t.saturating_duration_since(now))
    }

    /// Reaps exited healers and restarts the ones that are due.
    pub fn reap_and_restart(&mut self, ns: &File) {
        let now = Instant::now();
        let mut keep = Vec::with_capacity(self.healers.len());
        for mut healer in std::mem::take(&mut self.healers) {
            let mnt = display(&healer.mount.mnt_point);
            if let Some((child, _)) = healer.running.as_mut() {
                let Ok(Some(status)) = child.try_wait() else {
                    keep.push(healer);
                    continue;
                };
                healer.running = None;
                // 0: the filesystem was unmounted; the healer's job is done.
                if status.code() == Some(0) {
                    continue;
                }
                let still_mounted =
                    xfs_abi::mount::statmount(Some(ns.as_fd()), healer.mount.mnt_id)
                        .is_ok_and(|m| m.dev == healer.mount.dev);
                if !still_mounted {
                    continue;
                }
                if now.duration_since(healer.started) >= STABLE_RUN {
                    healer.failures = 0;
                }
                healer.failures += 1;
                let how = match status.code() {
                    Some(code) => format!("exited with status {code}"),
                    None => "was killed by a signal".to_string(),
                };
                if healer.failures > MAX_RESTARTS {
                    err(&format!(
                        "{mnt}: xfs_healer {how}; {MAX_RESTARTS} restarts failed, giving up."
                    ));
                    continue;
                }
                let delay = backoff(healer.failures);
                err(&format!(
                    "{mnt}: xfs_healer {how}; restarting in {} s.",
                    delay.as_secs()
                ));
                healer.restart_at = Some(now + delay);
            }
            if healer.restart_at.is_some_and(|t| t <= now) && !self.spawn(&mut healer) {
                continue;
            }
            keep.push(healer);
        }
        self.healers = keep;
    }
}

/// 1 s, 2 s, 4 s, ... up to a minute.
fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << failures.saturating_sub(1).min(6))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
