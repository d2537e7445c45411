//! The health monitor: `XFS_IOC_HEALTH_MONITOR` on the root directory of a
//! mounted XFS returns an fd of 64-byte event records (decoded by the
//! `xfs-events` crate from bytes), and answers
//! `XFS_IOC_HEALTH_FD_ON_MONITORED_FS` about other fds.

use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `_IOW('X', 68, struct xfs_health_monitor)`.
pub const XFS_IOC_HEALTH_MONITOR: Opcode = ioc::write::<HealthMonitor>(b'X', 68);
/// `_IOW('X', 69, struct xfs_health_file_on_monitored_fs)`.
pub const XFS_IOC_HEALTH_FD_ON_MONITORED_FS: Opcode =
    ioc::write::<HealthFileOnMonitoredFs>(b'X', 69);
pub const HEALTH_MONITOR_VERBOSE: u64 = 1 << 0;
pub const HEALTH_MONITOR_FMT_V0: u8 = 0;

/// `struct xfs_health_monitor` (32 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthMonitor {
    pub flags: u64,
    pub format: u8,
    pub pad: [u8; 23],
}

/// `struct xfs_health_file_on_monitored_fs` (8 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthFileOnMonitoredFs {
    pub fd: i32,
    pub flags: u32,
}

/// `struct xfs_health_monitor_event` (64 bytes): layout only, for the
/// header check; the records are decoded from bytes elsewhere.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthMonitorEvent {
    pub domain: u32,
    pub type_: u32,
    pub time_ns: u64,
    pub e: [u64; 4],
    pub pad: [u64; 2],
}

const _: () = assert!(size_of::<HealthMonitor>() == 32);
const _: () = assert!(offset_of!(HealthMonitor, format) == 8);
const _: () = assert!(size_of::<HealthFileOnMonitoredFs>() == 8);
const _: () = assert!(size_of::<HealthMonitorEvent>() == 64);
const _: () = assert!(offset_of!(HealthMonitorEvent, e) == 16);
const _: () = assert!(offset_of!(HealthMonitorEvent, pad) == 48);

/// Opens the monitor on `root` (must be the fs root directory). The fd is
/// read-only and close-on-exec; it does not pin the mount.
pub fn open_health_monitor(root: BorrowedFd<'_>, verbose: bool) -> Result<OwnedFd, Errno> {
    let mut arg = HealthMonitor {
        flags: if verbose { HEALTH_MONITOR_VERBOSE } else { 0 },
        format: HEALTH_MONITOR_FMT_V0,
        pad: [0; 23],
    };
    // SAFETY: `arg` is the 32-byte struct this _IOW request reads.
    let fd = unsafe { ioctl(root, XFS_IOC_HEALTH_MONITOR, std::ptr::from_mut(&mut arg)) }?;
    // SAFETY: on success the ioctl returns a new file descriptor that
    // nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Ok if `fd` is on the filesystem `monitor` watches; ESTALE if not (or if
/// that filesystem is gone).
pub fn fd_on_monitored_fs(monitor: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut arg = HealthFileOnMonitoredFs {
        fd: fd.as_raw_fd(),
        flags: 0,
    };
    // SAFETY: `arg` is the 8-byte struct this _IOW request reads.
    unsafe {
        ioctl(
            monitor,
            XFS_IOC_HEALTH_FD_ON_MONITORED_FS,
            std::ptr::from_mut(&mut arg),
        )
    }
    .map(drop)
}

/// What `/proc/self/fdinfo/N` says about a monitor fd that the healer uses
/// (the kernel's `xfs_healthmon_show_fdinfo` also prints `state:` and
/// `events:`, which nothing here needs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorFdinfo {
    /// Events the kernel dropped so far (its running total).
    pub lost: u64,
}

/// Parses the monitor's fdinfo `lost:` line.
pub fn parse_monitor_fdinfo(text: &str) -> Option<MonitorFdinfo> {
    let value = text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "lost").then_some(value)
    })?;
    Some(MonitorFdinfo {
        lost: value.trim().parse().ok()?,
    })
}

pub fn read_monitor_fdinfo(monitor: BorrowedFd<'_>) -> std::io::Result<MonitorFdinfo> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", monitor.as_raw_fd()))?;
    parse_monitor_fdinfo(&text)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no lost: line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_lines() {
        let text = "pos:\t0\nflags:\t02000000\nmnt_id:\t16\nino:\t1057\nstate:\talive\ndev:\t253:0\nformat:\tv0\nevents:\t700\nlost:\t115\n";
        assert_eq!(
            parse_monitor_fdinfo(text),
            Some(MonitorFdinfo { lost: 115 })
        );
        assert_eq!(parse_monitor_fdinfo("pos: 0\n"), None);
        assert_eq!(parse_monitor_fdinfo("lost: x\n"), None);
    }
}
