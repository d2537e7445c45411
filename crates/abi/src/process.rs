//! Child processes: asking the kernel to signal a child when its parent
//! dies (so a supervised healer never outlives its launcher), and waiting
//! for a child with a deadline through a pidfd, alone or with the whole
//! process group it leads.

use crate::Errno;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use rustix::process::{
    Pid, PidfdFlags, Signal, WaitId, WaitIdOptions, kill_process_group, pidfd_open,
    set_parent_process_death_signal, waitid,
};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `PATH` helpers run with: system directories only.
pub const HELPER_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Makes every thread allocate from glibc's main arena. By default each
/// thread that allocates gets an arena of its own (64 MiB reserved, its
/// first pages touched): for a daemon whose few threads allocate little,
/// that is most of its resident memory beyond the binary. Call before
/// any thread starts.
pub fn single_malloc_arena() {
    // SAFETY: mallopt takes two ints and changes allocator settings; with
    // no other thread running yet nothing allocates concurrently. Its
    // result (1 on success) only says whether glibc took the setting.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Hands the heap's free pages back to the kernel: start-up (option and
/// configuration parsing, the start-up checks) frees what it used, but
/// glibc keeps freed memory below the heap's top resident, and an idle
/// daemon never reuses most of it.
pub fn release_free_memory() {
    // SAFETY: malloc_trim takes a size_t and only walks the allocator's
    // own free lists under its lock (safe with other threads running); it
    // returns whether memory was released, which changes nothing here.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Gives a helper (systemctl, xfs_scrub, a healer) nothing of our
/// environment but a fixed `PATH`, and no stdin. Every fd we open is
/// close-on-exec (std's and rustix's opens, the monitor and fanotify fds),
/// so nothing else is inherited either.
///
/// Nor our signal mask: the healer blocks SIGTERM and SIGINT to read them
/// from a signalfd, a blocked mask survives fork and exec, and std does
/// not reset it, so without this an `xfs_scrub` or hook could not be
/// stopped with SIGTERM.
pub fn helper_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", HELPER_PATH)
        .stdin(std::process::Stdio::null());
    // SAFETY: the closure runs in the forked child before exec and only
    // calls sigemptyset and pthread_sigmask on a local sigset_t, both
    // async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            let rc = libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            if rc != 0 {
                return Err(std::io::Error::from_raw_os_error(rc));
            }
            Ok(())
        });
    }
    cmd
}

/// Makes the child get SIGTERM when the process that spawned it exits.
/// Strictly, when the *thread* that spawned it exits (prctl(2),
/// `PR_SET_PDEATHSIG`): spawn from a thread that lives as long as the
/// child may.
pub fn terminate_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only
    // makes the prctl(2) system call (async-signal-safe) through rustix,
    // which allocates nothing and touches no memory shared with the
    // parent; an error becomes an io::Error from its errno alone.
    unsafe {
        cmd.pre_exec(|| {
            set_parent_process_death_signal(Some(Signal::TERM))?;
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

/// How often a child is looked at when the kernel has no pidfds.
const NO_PIDFD_TICK: Duration = Duration::from_millis(50);

/// Feeds `input` to the child's stdin (if piped) and waits for it, all
/// within `limit` from now; then SIGKILLs its whole process group, so
/// nothing it started outlives it, and reaps it. The child must lead its
/// own group (`CommandExt::process_group(0)`); a member that left the
/// group (setsid, setpgid) escapes. The writes are non-blocking, so a
/// child that never reads its stdin still ends at the deadline; one that
/// closes it early just gets less.
pub fn wait_group_with_timeout(mut child: Child, input: &[u8], limit: Duration) -> ChildEnd {
    let deadline = Instant::now() + limit;
    let leader = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
    let pidfd = pidfd(&child);
    let mut stdin = child.stdin.take().filter(|s| {
        fcntl_getfl(s)
            .and_then(|f| fcntl_setfl(s, f | OFlags::NONBLOCK))
            .is_ok()
    });
    let mut written = 0;
    let timed_out = loop {
        if written == input.len() {
            // EOF for the child.
            stdin = None;
        }
        if leader.is_none_or(exited) {
            break false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break true;
        }
        let nap = if pidfd.is_some() {
            left
        } else {
            left.min(NO_PIDFD_TICK)
        };
        let timeout = Timespec {
            tv_sec: i64::try_from(nap.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(nap.subsec_nanos()),
        };
        let mut fds = Vec::with_capacity(2);
        if let Some(pipe) = &stdin {
            fds.push(PollFd::new(pipe, PollFlags::OUT));
        }
        if let Some(pidfd) = &pidfd {
            fds.push(PollFd::new(pidfd, PollFlags::IN));
        }
        let polled = poll(&mut fds, Some(&timeout));
        let writable = stdin.is_some() && fds.first().is_some_and(|fd| !fd.revents().is_empty());
        drop(fds);
        match (polled, &mut stdin) {
            (Err(Errno::INTR), _) => {}
            // Cannot sleep on the fds: stop feeding, keep the deadline.
            (Err(_), _) => {
                stdin = None;
                std::thread::sleep(nap.min(NO_PIDFD_TICK));
            }
            (Ok(_), Some(pipe)) if writable => match pipe.write(&input[written..]) {
                Ok(n) => written += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) => {}
                // EPIPE: the child closed its stdin, which it may.
                Err(_) => stdin = None,
            },
            (Ok(_), _) => {}
        }
    };
    drop(stdin);
    // The leader is not reaped yet (a zombie at worst), so its pid, the
    // group's id, cannot have been reused. Pid 1 would mean kill(-1).
    if let Some(pgid) = leader.filter(|p| p.as_raw_nonzero().get() > 1) {
        let _ = kill_process_group(pgid, Signal::KILL);
    }
    let code = child.wait().ok().and_then(|s| s.code());
    if timed_out {
        ChildEnd::TimedOut
    } else {
        ChildEnd::Exited(code)
    }
}

/// Whether the child has exited, without reaping it (so its pid stays
/// ours); a child we cannot ask about counts as gone.
fn exited(pid: Pid) -> bool {
    !matches!(
        waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT
        ),
        Ok(None)
    )
}

/// A pidfd for the child (readable once it exits), if the kernel has them.
pub fn pidfd(child: &Child) -> Option<OwnedFd> {
    let pid = i32::try_from(child.id()).ok().and_then(Pid::from_raw)?;
    pidfd_open(pid, PidfdFlags::empty()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal blocked in the parent (the healer blocks SIGTERM) is not
    /// blocked in a helper. Run in a child process so the block does not
    /// touch the test harness.
    #[test]
    fn helpers_do_not_inherit_blocked_signals() {
        if std::env::var_os("XFS_ABI_MASK_CHILD").is_some() {
            let _signals = crate::signals::StopSignals::block().unwrap();
            let out = helper_command("grep")
                .args(["^SigBlk", "/proc/self/status"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                text.trim(),
                "SigBlk:\t0000000000000000",
                "the helper's mask"
            );
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let status = Command::new(exe)
            .args([
                "--exact",
                "process::tests::helpers_do_not_inherit_blocked_signals",
                "--test-threads=1",
            ])
            .env("XFS_ABI_MASK_CHILD", "1")
            .status()
            .unwrap();
        assert!(status.success(), "{status:?}");
    }

    #[test]
    fn helpers_get_only_a_fixed_path() {
        // cargo runs tests with dozens of variables set; none may pass.
        let out = helper_command("env").output().expect("env runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("PATH={HELPER_PATH}\n")
        );
    }

    #[test]
    fn a_child_that_exits_is_reported_with_its_status() {
        let child = Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .expect("sh");
        assert_eq!(
            wait_with_timeout(child, Duration::from_secs(30)),
            ChildEnd::Exited(Some(3))
        );
    }

    #[test]
    fn a_child_past_its_deadline_is_killed() {
        let child = Command::new("sleep").arg("30").spawn().expect("sleep");
        let t0 = Instant::now();
        assert_eq!(
            wait_with_timeout(child, Duration::from_millis(100)),
            ChildEnd::TimedOut
        );
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the child was waited for, not killed"
        );
    }

    #[test]
    fn a_child_gets_sigterm_when_the_thread_that_spawned_it_ends() {
        use std::os::unix::process::ExitStatusExt;
        let mut child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            terminate_with_parent(&mut cmd);
            cmd.spawn().expect("sleep")
        })
        .join()
        .expect("the spawning thread");
        let t0 = Instant::now();
        let status = child.wait().expect("wait");
        assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
        assert!(t0.elapsed() < Duration::from_secs(20));
    }

    fn in_own_group(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]).process_group(0);
        cmd
    }

    /// Whether `pid` is still alive (not a zombie, which only awaits its
    /// reaper) after a grace period: SIGKILL takes effect asynchronously.
    fn survives(pid: i32) -> bool {
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rfind(')').is_some_and(|i| {
                    !matches!(stat[i + 1..].split_whitespace().next(), Some("Z" | "X"))
                })
            })
        };
        let t0 = Instant::now();
        while alive() {
            if t0.elapsed() > Duration::from_secs(5) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn what_a_child_leaves_running_in_its_group_is_killed_when_it_exits() {
        use std::io::BufRead;
        let mut child = in_own_group("sleep 300 & echo $!")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let stdout = child.stdout.take().expect("piped");
        assert_eq!(
            wait_group_with_timeout(child, b"", Duration::from_secs(30)),
            ChildEnd::Exited(Some(0))
        );
        // One line only: the sleep holds the pipe open while it lives.
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the pid");
        let sleep: i32 = line.trim().parse().expect("a pid");
        let survived = survives(sleep);
        if survived {
            let _ = rustix::process::kill_process(Pid::from_raw(sleep).expect("pid"), Signal::KILL);
        }
        assert!(!survived, "the background sleep outlived its parent");
    }

    #[test]
    fn the_input_reaches_the_child_whole_even_past_a_pipe_buffer() {
        let child = in_own_group("[ \"$(wc -c)\" -eq 3000000 ]")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        assert_eq!(
            wait_group_with_timeout(child, &vec![b'x'; 3_000_000], Duration::from_secs(30)),
            ChildEnd::Exited(Some(0))
        );
    }

    #[test]
    fn a_group_past_its_deadline_is_killed_even_with_its_stdin_unread() {
        let child = in_own_group("exec sleep 300")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        let t0 = Instant::now();
        assert_eq!(
            wait_group_with_timeout(child, &vec![b'x'; 2 << 20], Duration::from_millis(200)),
            ChildEnd::TimedOut
        );
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the child was waited for, not killed"
        );
    }
}
