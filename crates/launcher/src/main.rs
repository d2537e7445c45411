//! `xfs_healer_start`: starts a healer for every XFS mounted in a mount
//! namespace, now and whenever one is mounted later.
//!
//! As xfsprogs 7.2 does: existing mounts from `listmount`, new ones from
//! fanotify mount-attach events, each examined with `statmount`; an XFS
//! mounted at its root gets `systemctl restart --no-block
//! xfs_healer@<escaped path>.service`. Without systemd (where the reference
//! starts nothing) the launcher runs the healers itself: see [`supervise`].

mod cli;
mod supervise;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use supervise::Supervisor;
use xfs_abi::Errno;
use xfs_abi::mount::{MountEvent, MountInfo, WatchError};
use xfs_abi::process::ChildEnd;

/// The reference's `BUFSIZ` read buffer.
const READ_BUF: usize = 8192;
/// Mount ids per `listmount` call, as the reference.
const LIST_BATCH: usize = 32;
/// How long `systemctl restart --no-block` may take (it only queues a job).
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    match cli::parse_args(&args) {
        cli::Command::Version(text) => {
            // As the reference, which ignores printf's result (print! would
            // panic on EPIPE or ENOSPC): exit 0, like `xfs_healer -V`.
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        cli::Command::Usage(text) => {
            let _ = std::io::stderr().write_all(&text);
            ExitCode::from(1)
        }
        cli::Command::Run(options) => match run(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(()) => {
                // As the reference: a unit with Restart=on-failure must not
                // spin, so every failure waits before exiting.
                std::thread::sleep(Duration::from_secs(2));
                ExitCode::from(1)
            }
        },
    }
}

fn err(line: &str) {
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

fn out(line: &str) {
    let _ = std::io::stdout().write_all(format!("{line}\n").as_bytes());
}

fn perror(what: &str, e: Errno) {
    err(&format!("{what}: {}", xfs_abi::strerror(e)));
}

fn display(bytes: &[u8]) -> String {
    xfs_report::escape_name(bytes).into_owned()
}

struct Launcher {
    ns: File,
    debug: bool,
    /// None under systemd: units are started instead.
    supervisor: Option<Supervisor>,
}

fn run(options: &cli::Options) -> Result<(), ()> {
    let default_ns = OsString::from("/proc/self/ns/mnt");
    let ns_path = options.mountns.as_ref().unwrap_or(&default_ns);
    let ns = match File::open(ns_path) {
        Ok(f) => f,
        Err(e) => {
            let errno = Errno::from_io_error(&e).unwrap_or(Errno::IO);
            perror(&display(ns_path.as_bytes()), errno);
            if options.mountns.is_none() && errno == Errno::NOENT {
                err("This program requires mount namespace support.");
            }
            return Err(());
        }
    };
    use std::os::fd::AsRawFd;
    if ns.as_raw_fd() == 0 {
        // listmount/statmount read fd 0 as "my own namespace".
        err(&format!(
            "{}: got bad file descriptor for mount namespace",
            display(ns_path.as_bytes())
        ));
        return Err(());
    }
    let fan = match xfs_abi::mount::watch_mount_namespace(ns.as_fd()) {
        Ok(fd) => fd,
        Err(WatchError::Init(e)) => {
            perror("fanotify_init", e);
            if e == Errno::INVAL {
                err("This program requires fanotify mount event support.");
            }
            return Err(());
        }
        Err(WatchError::Mark(e)) => {
            perror("fanotify_mark", e);
            return Err(());
        }
    };
    let mut ids = [0u64; LIST_BATCH];
    if let Err(e) = xfs_abi::mount::listmount(Some(ns.as_fd()), 0, &mut ids) {
        if e == Errno::NOSYS {
            err("This program requires the listmount system call.");
        } else {
            perror("listmount", e);
        }
        return Err(());
    }
    if options.supported {
        return Ok(());
    }
    if options.debug {
        out("fanotify active");
    }
    let supervisor = (!Path::new("/run/systemd/system").is_dir()).then(Supervisor::new);
    let mut launcher = Launcher {
        ns,
        debug: options.debug,
        supervisor,
    };
    launcher.scan_all()?;
    launcher.watch(fan.as_fd())
}

impl Launcher {
    /// Examines every mount of the namespace.
    fn scan_all(&mut self) -> Result<(), ()> {
        let mut after = 0;
        loop {
            let mut ids = [0u64; LIST_BATCH];
            let n = match xfs_abi::mount::listmount(Some(self.ns.as_fd()), after, &mut ids) {
                Ok(n) => n,
                Err(e) => {
                    perror("listmount", e);
                    return Err(());
                }
            };
            for &id in &ids[..n] {
                self.examine(id);
            }
            if n < LIST_BATCH {
                return Ok(());
            }
            after = ids[n - 1];
        }
    }

    /// Blocks in `poll` on the fanotify fd (and, supervising, the children)
    /// until something happens; returns only on a read error.
    fn watch(&mut self, fan: BorrowedFd<'_>) -> Result<(), ()> {
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let timeout = self
                .supervisor
                .as_ref()
                .and_then(Supervisor::next_deadline)
                .map(|d| Timespec {
                    tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: i64::from(d.subsec_nanos()),
                });
            let pidfds = self
                .supervisor
                .as_ref()
                .map(Supervisor::pidfds)
                .unwrap_or_default();
            let mut fds: Vec<PollFd<'_>> = std::iter::once(PollFd::new(&fan, PollFlags::IN))
                .chain(pidfds.iter().map(|fd| PollFd::new(fd, PollFlags::IN)))
                .collect();
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    perror("poll", e);
                    return Err(());
                }
            }
            let fan_ready = !fds[0].revents().is_empty();
            drop(fds);
            drop(pidfds);
            if let Some(supervisor) = self.supervisor.as_mut() {
                supervisor.reap_and_restart(&self.ns);
            }
            if !fan_ready {
                continue;
            }
            let n = match rustix::io::read(fan, &mut buf) {
                Ok(n) => n,
                Err(Errno::INTR | Errno::AGAIN) => continue,
                Err(e) => {
                    perror("fanotify", e);
                    return Err(());
                }
            };
            for event in xfs_abi::mount::parse_fanotify(&buf[..n]) {
                match event {
                    MountEvent::Attached { len, ids } => {
                        if self.debug {
                            out(&format!("FAN_MNT_ATTACH (len={len})"));
                        }
                        for id in ids {
                            if self.debug {
                                out(&format!("Mount record: len=16 mnt_id=0x{id:x}"));
                            }
                            self.examine(id);
                        }
                    }
                    MountEvent::Overflow => self.scan_all()?,
                    MountEvent::Other { mask } => {
                        if self.debug {
                            out(&format!("Unexpected fanotify mark: 0x{mask:x}"));
                        }
                    }
                }
            }
        }
    }

    /// Starts a healer if the mount is an XFS mounted at its root (a bind
    /// mount of a subdirectory is the same filesystem seen again).
    fn examine(&mut self, id: u64) {
        let info = match xfs_abi::mount::statmount(Some(self.ns.as_fd()), id) {
            Ok(info) => info,
            // Gone again already, or not ours to see: nothing to heal.
            Err(e) => {
                if self.debug {
                    out(&format!("statmount 0x{id:x}: {}", xfs_abi::strerror(e)));
                }
                return;
            }
        };
        if self.debug {
            out(&format!(
                "mount: id 0x{id:x} fstype {} mountpoint {} mntroot {}",
                display(&info.fs_type),
                display(&info.mnt_point),
                display(&info.mnt_root)
            ));
        }
        if info.fs_type != b"xfs" || info.mnt_root != b"/" {
            return;
        }
        match self.supervisor.as_mut() {
            Some(supervisor) => supervisor.start(info),
            None => start_unit(&info),
        }
    }
}

/// `systemctl restart --no-block xfs_healer@<path>.service`: restart, not
/// start, so an instance still leaving a recycled mount point is replaced.
fn start_unit(info: &MountInfo) {
    let mnt = display(&info.mnt_point);
    let Ok(unit) = xfs_systemd::template_instance("xfs_healer@.service", &info.mnt_point) else {
        err(&format!("{mnt}: Could not determine xfs_healer unit name."));
        return;
    };
    let started = xfs_abi::process::helper_command("systemctl")
        .args(["restart", "--no-block", &unit])
        .spawn()
        .is_ok_and(|child| {
            xfs_abi::process::wait_with_timeout(child, SYSTEMCTL_TIMEOUT)
                == ChildEnd::Exited(Some(0))
        });
    if started {
        out(&format!("{mnt}: xfs_healer service started."));
    } else {
        err(&format!(
            "{mnt}: Could not start xfs_healer service unit: {unit}"
        ));
    }
}
