//! Start-up, in the reference's order (which decides the message a user
//! sees): open + geometry, is it an XFS mount point, autofsck decision,
//! repair probe, capability warnings, weak handle, open the monitor.

use crate::autofsck::{self, Mode, Property};
use crate::cli::Options;
use crate::output::{display, err, out};
use rustix::fs::{Mode as FileMode, OFlags};
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::sync::Arc;
use xfs_abi::geometry::{self, FsGeometry};
use xfs_abi::{Errno, handle::XfsHandle, healthmon, scrub, strerror};

/// Why start-up stopped (the message is already printed): `Unsupported`
/// exits 1 (ExecCondition skips the unit), `Error` 255 under --supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Unsupported,
    Error,
}

/// Everything the event loop needs about the monitored filesystem.
#[derive(Debug)]
pub struct Healer {
    /// The mount point as given on the command line (message prefix).
    pub mount_arg: OsString,
    /// Where the filesystem is mounted now (reopened for every repair).
    pub mount_path: PathBuf,
    pub mode: Mode,
    pub quiet: bool,
    pub has_parent_pointers: bool,
    /// The root directory's handle, the template for inode handles.
    pub root_handle: Option<XfsHandle>,
    /// Shared with the workers and the patrol (one fd, not a copy each).
    pub monitor: Arc<OwnedFd>,
    /// The filesystem's UUID and device (name its files).
    pub id: crate::statedir::FsId,
    /// The data device as every event names it ([`device_name`]).
    pub device_name: String,
    /// AG size and sector size, to name what failed media holds.
    pub layout: xfs_policy::media::Layout,
    /// Size of the data section, in 512-byte sectors (the media patrol's walk).
    pub data_sectors: u64,
}

const ERRNO_NOT_SUPPORTED: [Errno; 2] = [Errno::NOTTY, Errno::OPNOTSUPP];

fn read_property(fd: impl AsFd) -> Property {
    let mut buf = vec![0u8; 256];
    match rustix::fs::fgetxattr(fd, autofsck::XATTR_NAME, &mut buf) {
        Ok(len) => Property::parse(Some(&buf[..len.min(buf.len())])),
        Err(_) => Property::parse(None),
    }
}

/// The data device as /dev names it (sysfs's `DEVNAME`, as udev names
/// the node), or `major:minor` when sysfs names none.
fn device_name(device: u64) -> String {
    let dev = rustix::fs::Dev::from(device);
    let numbers = format!("{}:{}", rustix::fs::major(dev), rustix::fs::minor(dev));
    std::fs::read(format!("/sys/dev/block/{numbers}/uevent"))
        .ok()
        .and_then(|uevent| devname(&uevent).map(|name| format!("/dev/{}", display(name))))
        .unwrap_or(numbers)
}

/// `DEVNAME` of a uevent file, if it is a plain relative name.
fn devname(uevent: &[u8]) -> Option<&[u8]> {
    uevent
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"DEVNAME="))
        .filter(|name| {
            !name.is_empty() && !name.starts_with(b"/") && !name.windows(2).any(|w| w == b"..")
        })
}

fn probe_repair(fd: impl AsFd) -> Result<(), Errno> {
    let mut sm = scrub::ScrubMetadata {
        sm_type: scrub::SCRUB_TYPE_PROBE,
        sm_flags: scrub::IFLAG_REPAIR,
        ..Default::default()
    };
    scrub::scrub_metadata(fd.as_fd(), &mut sm)
}

/// Whether `fd` is the root of a mount: the kernel's own answer
/// (`STATX_ATTR_MOUNT_ROOT`), about the very file opened, so no mount
/// table is parsed and nothing can be swapped between check and use. A
/// kernel too old to say is older than the health monitor anyway.
fn is_mount_root(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use rustix::fs::{AtFlags, StatxAttributes, StatxFlags};
    rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::empty()).is_ok_and(|st| {
        st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT)
            && st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT)
    })
}

pub fn start(options: &Options) -> Result<Healer, Failure> {
    let mnt = display(options.mount.as_bytes()).into_owned();
    let fail = |e: Errno| {
        err(&format!("{mnt}: {}", strerror(e)));
        Failure::Error
    };

    // 1. Open and ask for the geometry (also rejects non-XFS with ENOTTY).
    let fd = rustix::fs::open(
        &options.mount,
        OFlags::RDONLY | OFlags::CLOEXEC,
        FileMode::empty(),
    )
    .map_err(fail)?;
    let geo: FsGeometry = geometry::fs_geometry(fd.as_fd()).map_err(fail)?;

    // 2. It must be the root of an XFS mount.
    let real = std::fs::canonicalize(&options.mount)
        .map_err(|e| fail(Errno::from_io_error(&e).unwrap_or(Errno::IO)))?;
    if !is_mount_root(fd.as_fd()) {
        err(&format!("{mnt}: Not a XFS mount point."));
        return Err(Failure::Error);
    }

    // 3. What to do: the property, unless overridden.
    let has_rmap = geo.flags & geometry::FLAGS_RMAPBT != 0;
    let has_parent = geo.flags & geometry::FLAGS_PARENT != 0;
    let mut mode = if options.autofsck {
        let decision = autofsck::decide(
            read_property(fd.as_fd()),
            has_rmap || has_parent,
            options.quiet,
        );
        if let Some(message) = decision.message {
            out(&format!("{mnt}: {message}"));
        }
        if decision.mode == Mode::Disabled {
            return Err(Failure::Unsupported);
        }
        decision.mode
    } else if options.repair {
        Mode::Repair
    } else {
        Mode::LogOnly
    };

    // 4-5. Can this kernel repair, and how well?
    if mode == Mode::Repair && probe_repair(fd.as_fd()).is_err() {
        if !options.autofsck {
            err(&format!(
                "{mnt}: XFS online repair is not supported, exiting"
            ));
            return Err(Failure::Error);
        }
        out(&format!(
            "{mnt}: XFS online repair is not supported, will report only"
        ));
        mode = Mode::LogOnly;
    }
    if mode == Mode::Repair {
        if !has_rmap {
            err(&format!(
                "{mnt}: XFS online repair is less effective without rmap btrees."
            ));
        }
        if !has_parent {
            err(&format!(
                "{mnt}: XFS online repair is less effective without parent pointers."
            ));
        }
    }

    // 6. The weak handle: how inode handles are built and the fs recognised.
    let root_handle = if mode == Mode::Repair || has_parent {
        match xfs_abi::handle::fd_to_handle(fd.as_fd()) {
            Ok(handle) => Some(handle),
            Err(e) => {
                err(&format!("{mnt}: creating weak fshandle: {}", strerror(e)));
                return Err(Failure::Error);
            }
        }
    } else {
        None
    };

    // 7. The monitor.
    let monitor = match healthmon::open_health_monitor(fd.as_fd(), options.everything) {
        Ok(monitor) => monitor,
        Err(e) if ERRNO_NOT_SUPPORTED.contains(&e) => {
            err(&format!("{mnt}: XFS health monitoring not supported."));
            return Err(Failure::Unsupported);
        }
        Err(Errno::EXIST) => {
            err(&format!("{mnt}: XFS health monitoring already running."));
            return Err(Failure::Error);
        }
        Err(e) => return Err(fail(e)),
    };

    // The device tells apart clones mounted `nouuid` (same UUID).
    let device = match rustix::fs::fstat(&fd) {
        Ok(st) => st.st_dev,
        Err(e) => return Err(fail(e)),
    };
    // 8. Never pin the mount: the monitor fd does not, and we reopen by path.
    drop(fd);
    Ok(Healer {
        mount_arg: options.mount.clone(),
        mount_path: PathBuf::from(OsString::from_vec(real.into_os_string().into_vec())),
        mode,
        quiet: options.quiet,
        has_parent_pointers: has_parent,
        root_handle,
        monitor: Arc::new(monitor),
        id: crate::statedir::FsId {
            uuid: geo.uuid,
            device,
        },
        device_name: device_name(device),
        layout: xfs_policy::media::Layout {
            blocksize: geo.blocksize,
            agblocks: geo.agblocks,
            sectsize: geo.sectsize,
        },
        data_sectors: geo.datablocks.saturating_mul(u64::from(geo.blocksize)) / 512,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_as_dev_names_them() {
        let uevent = b"MAJOR=254\nMINOR=16\nDEVNAME=vdb\nDEVTYPE=disk\nDISKSEQ=2\n";
        assert_eq!(devname(uevent), Some(&b"vdb"[..]));
        assert_eq!(devname(b"DEVNAME=mapper/x\n"), Some(&b"mapper/x"[..]));
        for odd in [
            &b"MAJOR=1\n"[..],
            b"DEVNAME=\n",
            b"DEVNAME=/etc\n",
            b"DEVNAME=../x\n",
        ] {
            assert_eq!(devname(odd), None);
        }
        // No such device in sysfs: its numbers.
        let dev = rustix::fs::makedev(4095, 1048575);
        assert_eq!(device_name(dev), "4095:1048575");
    }
}
