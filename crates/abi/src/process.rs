//! Child processes: asking the kernel to signal a child when its parent
//! dies (so a supervised healer never outlives its launcher), and waiting
//! for a child with a deadline through a pidfd.

use crate::Errno;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, PidfdFlags, pidfd_open};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `PATH` helpers run with: system directories only.
pub const HELPER_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Gives a helper (systemctl, xfs_scrub, a healer) nothing of our
/// environment but a fixed `PATH`, and no stdin. Every fd we open is
/// close-on-exec (std's and rustix's opens, the monitor and fanotify fds),
/// so nothing else is inherited either.
pub fn helper_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear().env("PATH", HELPER_PATH).stdin(std::process::Stdio::null());
    cmd
}

/// Makes the child get SIGTERM when the process that spawned it exits.
pub fn terminate_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only
    // calls prctl(2), which is async-signal-safe and touches no memory of
    // ours; its arguments are plain integers.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// How a waited-for child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ChildEnd {
    /// Exited with this status (None: killed by a signal).
    Exited(Option<i32>),
    /// Still running at the deadline: killed and reaped.
    TimedOut,
}

/// Waits for `child`, killing it if it outlives `limit`. Sleeps in `poll`
/// on a pidfd (readable at exit), so no timer ticks meanwhile.
pub fn wait_with_timeout(mut child: Child, limit: Duration) -> ChildEnd {
    let status = |child: &mut Child| ChildEnd::Exited(child.wait().ok().and_then(|s| s.code()));
    let Some(pidfd) = pidfd(&child) else {
        return status(&mut child);
    };
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = child.kill();
            let _ = child.wait();
            return ChildEnd::TimedOut;
        }
        let timeout = Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(Errno::INTR) => {}
            // Exited; or pidfds cannot be polled here: wait unbounded.
            Ok(_) | Err(_) => return status(&mut child),
        }
    }
}

/// A pidfd for the child (readable once it exits), if the kernel has them.
pub fn pidfd(child: &Child) -> Option<OwnedFd> {
    let pid = i32::try_from(child.id()).ok().and_then(Pid::from_raw)?;
    pidfd_open(pid, PidfdFlags::empty()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_get_only_a_fixed_path() {
        // cargo runs tests with dozens of variables set; none may pass.
        let out = helper_command("env").output().expect("env runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("PATH={HELPER_PATH}\n"));
    }

    #[test]
    fn a_child_that_exits_is_reported_with_its_status() {
        let child = Command::new("sh").args(["-c", "exit 3"]).spawn().expect("sh");
        assert_eq!(wait_with_timeout(child, Duration::from_secs(30)), ChildEnd::Exited(Some(3)));
    }

    #[test]
    fn a_child_past_its_deadline_is_killed() {
        let child = Command::new("sleep").arg("30").spawn().expect("sleep");
        let t0 = Instant::now();
        assert_eq!(wait_with_timeout(child, Duration::from_millis(100)), ChildEnd::TimedOut);
        assert!(t0.elapsed() < Duration::from_secs(20), "the child was waited for, not killed");
    }
}
