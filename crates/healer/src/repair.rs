//! Carrying out decisions: one targeted repair through the scrub ioctl on a
//! freshly reopened, verified mount; and starting a full `xfs_scrub` run
//! (the `xfs_scrub@` unit under systemd, else a supervised child).

use crate::paths;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use xfs_abi::process::helper_command;
use xfs_abi::scrub::{self, ScrubMetadata};
use xfs_abi::{Errno, handle::XfsHandle};
use xfs_healer::core::RepairText;
use xfs_policy::{Object, Outcome, Target};
use xfs_report::RepairOutcome;

/// What one repair attempt came to: the scheduler's view and the words.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub outcome: Outcome,
    pub text: RepairText,
    /// When the scrub ioctl was issued (None: refused before it).
    pub issued: Option<Instant>,
}

impl Attempt {
    /// No repair worker could be started (the unit's task limit, memory):
    /// nothing was touched, and the engine tries again later.
    pub fn no_worker(e: &std::io::Error) -> Attempt {
        Attempt {
            outcome: Outcome::Transient,
            text: RepairText::Filesystem(format!("cannot start the repair worker: {e}")),
            issued: None,
        }
    }
}

fn scrub_request(target: &Target) -> ScrubMetadata {
    let flags = if target.rebuild {
        scrub::IFLAG_REPAIR | scrub::IFLAG_FORCE_REBUILD
    } else {
        scrub::IFLAG_REPAIR
    };
    let mut sm = ScrubMetadata {
        sm_type: target.scrub.0,
        sm_flags: flags,
        ..Default::default()
    };
    match target.object {
        Object::Fs => {}
        Object::Ag(agno) | Object::RtGroup(agno) => sm.sm_agno = agno,
        Object::Inode { ino, generation } => {
            sm.sm_ino = ino;
            sm.sm_gen = generation;
        }
    }
    sm
}

/// Repairs one target on the monitored filesystem, opened afresh (see
/// [`paths::open_monitored`]); if it cannot be reached, nothing is touched.
pub fn repair(
    mount_path: &Path,
    monitor: BorrowedFd<'_>,
    root: Option<&XfsHandle>,
    target: &Target,
) -> Attempt {
    let fd = match paths::open_monitored(mount_path, monitor, root) {
        Ok((fd, _)) => fd,
        Err(e) => return refused(e),
    };
    let mut sm = scrub_request(target);
    let issued = Some(Instant::now());
    match scrub::scrub_metadata(fd.as_fd(), &mut sm) {
        Ok(()) => {
            let words = RepairOutcome::from_oflags(sm.sm_flags);
            let outcome = match words {
                RepairOutcome::Failed => Outcome::Failed,
                RepairOutcome::CrossReferenceFailed => Outcome::XrefFailed,
                RepairOutcome::NotNeeded => Outcome::NotNeeded,
                RepairOutcome::Success => Outcome::Repaired,
            };
            Attempt {
                outcome,
                text: RepairText::Reference(words),
                issued,
            }
        }
        Err(e) => Attempt {
            issued,
            ..kernel_error(e)
        },
    }
}

fn refused(e: Errno) -> Attempt {
    Attempt {
        outcome: Outcome::Refused,
        text: RepairText::Filesystem(format!(
            "cannot open filesystem to repair: {}",
            xfs_abi::strerror(e)
        )),
        issued: None,
    }
}

/// Kernel errors, told apart (the reference calls all of them "offline
/// repair required").
fn kernel_error(e: Errno) -> Attempt {
    let (outcome, text) = match e {
        Errno::BUSY | Errno::DEADLK | Errno::NOMEM | Errno::INTR | Errno::AGAIN => (
            Outcome::Transient,
            format!(
                "Repair deferred, the kernel said: {}.",
                xfs_abi::strerror(e)
            ),
        ),
        Errno::NOENT => (
            Outcome::NotNeeded,
            "Object no longer exists; nothing to repair.".to_string(),
        ),
        Errno::SHUTDOWN => (
            Outcome::ShutDown,
            "Filesystem is shut down; repairs stopped. Unmount it and run xfs_repair.".to_string(),
        ),
        Errno::OPNOTSUPP => (
            Outcome::Failed,
            "Online repair of this structure is not supported here; offline repair required."
                .to_string(),
        ),
        Errno::ROFS => (
            Outcome::Refused,
            "Filesystem is read-only; not repaired.".to_string(),
        ),
        _ => {
            return Attempt {
                outcome: Outcome::Failed,
                text: RepairText::Reference(RepairOutcome::Failed),
                issued: None,
            };
        }
    };
    Attempt {
        outcome,
        text: RepairText::Other(text),
        issued: None,
    }
}

/// How a full scan request went.
#[derive(Debug)]
pub enum FullScan {
    /// systemd accepted the `xfs_scrub@` unit (it runs on its own).
    UnitStarted(String),
    /// No systemd: `xfs_scrub` runs as our child; wait on it.
    Child(std::process::Child),
    /// Could not compute the unit name.
    NoUnitName,
    /// systemctl failed or hung.
    UnitFailed(String),
    /// No systemd and xfs_scrub could not be run.
    SpawnFailed(String),
}

/// How long `systemctl start --no-block` may take (it only queues a job).
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(30);

/// A `systemctl start` of a started oneshot unit: it joins the running
/// job and exits when the unit has finished, which is how the healer
/// learns that the scan ended.
pub fn follow_unit(unit: &str) -> std::io::Result<std::process::Child> {
    helper_command("systemctl")
        .args(["start", unit])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Whether systemd is the init system: full scans and hooks then run as
/// units of their own.
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

pub fn start_full_scan(mount_path: &Path) -> FullScan {
    use std::os::unix::ffi::OsStrExt;
    if !systemd_running() {
        // As the xfs_scrub@ unit runs it, minus the sandbox: background
        // mode (one scrub thread) so the scan does not starve the system.
        return match helper_command("xfs_scrub")
            .args(["-b", "--"])
            .arg(mount_path)
            .stdout(Stdio::null())
            .spawn()
        {
            Ok(child) => FullScan::Child(child),
            Err(e) => FullScan::SpawnFailed(e.to_string()),
        };
    }
    let Ok(unit) =
        xfs_systemd::template_instance("xfs_scrub@.service", mount_path.as_os_str().as_bytes())
    else {
        return FullScan::NoUnitName;
    };
    let child = helper_command("systemctl")
        .args(["start", "--no-block", &unit])
        .spawn();
    let Ok(child) = child else {
        return FullScan::UnitFailed(unit);
    };
    match xfs_abi::process::wait_with_timeout(child, SYSTEMCTL_TIMEOUT) {
        xfs_abi::process::ChildEnd::Exited(Some(0)) => FullScan::UnitStarted(unit),
        _ => FullScan::UnitFailed(unit),
    }
}
