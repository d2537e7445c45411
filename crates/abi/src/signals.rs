//! Signals as events of the event loop: SIGTERM and SIGINT (stop) and
//! SIGHUP (reload the settings) are blocked in the calling thread (before
//! any other thread starts, so every thread inherits the mask and none
//! runs a handler) and read from a `signalfd` in the loop's poll set. After an orderly stop, [`die_by`]
//! ends the process by the same signal's default action, so the exit
//! status is what it always was (143 for SIGTERM; systemd sees a clean
//! stop). Children do not inherit the mask: std resets it before exec.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The signals the loop reads: two that stop the healer, one that
/// reloads its settings.
const STOPPING: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Whether `signo` asks for the settings to be read again (SIGHUP).
pub fn is_reload(signo: i32) -> bool {
    signo == libc::SIGHUP
}

fn stopping_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it fully
    // before sigaddset adds valid signal numbers. Neither can fail for a
    // valid pointer and these signal numbers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signo in STOPPING {
            libc::sigaddset(&mut set, signo);
        }
        set
    }
}

/// A signalfd for SIGTERM, SIGINT and SIGHUP, which are blocked from now
/// on.
#[derive(Debug)]
pub struct StopSignals {
    fd: OwnedFd,
}

impl StopSignals {
    /// Blocks the signals in this thread and opens the fd (non-blocking,
    /// close-on-exec). Call before starting any thread.
    pub fn block() -> std::io::Result<StopSignals> {
        let set = stopping_set();
        // SAFETY: `set` is an initialised sigset_t that outlives the call;
        // a null old-set pointer is allowed.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        // SAFETY: -1 asks for a new fd; `set` is valid for the call.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: signalfd returned a new fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(StopSignals { fd })
    }

    /// The signal waiting, if any (the fd is non-blocking).
    pub fn take(&self) -> Option<i32> {
        // SAFETY: signalfd_siginfo is plain data, valid when zeroed.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: the buffer is `size` writable bytes of `info`, which
        // lives across the call; the fd is open (owned by self).
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                std::ptr::from_mut(&mut info).cast(),
                size,
            )
        };
        (usize::try_from(n).ok() == Some(size))
            .then(|| i32::try_from(info.ssi_signo).unwrap_or(libc::SIGTERM))
    }
}

impl AsFd for StopSignals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Ends the process by `signo`'s default action (as if it had never been
/// caught): the exit status a shell or systemd sees is unchanged.
pub fn die_by(signo: i32) -> ! {
    // SAFETY: restoring the default disposition of a valid signal number
    // and unblocking it in this thread; both take plain values or an
    // initialised sigset_t. raise() then delivers it to this thread, whose
    // default action ends the whole process.
    unsafe {
        libc::signal(signo, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signo);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signo);
    }
    // Other threads may still have it blocked and it went to us; if the
    // default action somehow did not end us, exit as the shell would say.
    std::process::exit(128 + signo)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blocked SIGTERM sent to the process is read from the fd, not
    /// acted on. Run in a child process so the test harness's threads
    /// (which do not block it) are not involved.
    #[test]
    fn a_blocked_sigterm_is_read_from_the_fd() {
        if std::env::var_os("XFS_ABI_SIGNAL_CHILD").is_some() {
            let signals = StopSignals::block().unwrap();
            // SAFETY: raise() with a valid signal number.
            unsafe { libc::raise(libc::SIGTERM) };
            assert_eq!(signals.take(), Some(libc::SIGTERM));
            assert_eq!(signals.take(), None);
            die_by(libc::SIGTERM);
        }
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new(exe)
            .args([
                "--exact",
                "signals::tests::a_blocked_sigterm_is_read_from_the_fd",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("XFS_ABI_SIGNAL_CHILD", "1")
            .status()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(libc::SIGTERM),
            "{status:?}: the child did not die by SIGTERM after reading it"
        );
    }
}
