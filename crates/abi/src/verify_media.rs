//! `XFS_IOC_VERIFY_MEDIA`: read a range of one of the filesystem's devices
//! to find latent media errors. With [`VERIFY_MEDIA_REPORT`] a failed read
//! becomes MEDIA_ERROR (and DATALOST / INODE SICK) health events, which is
//! the only way ordinary disks produce MEDIA_ERROR.
//!
//! The kernel reads sequentially and stops at the first failed I/O, leaving
//! `me_start_daddr` at the first sector it could not verify and returning 0;
//! the positive errno of that I/O is in `me_ioerror`.

use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOWR('X', 70, struct xfs_verify_media)`.
pub const XFS_IOC_VERIFY_MEDIA: Opcode = ioc::read_write::<VerifyMedia>(b'X', 70);
/// `XFS_VERIFY_MEDIA_REPORT`: turn failures into health events.
pub const VERIFY_MEDIA_REPORT: u32 = 1 << 0;
/// `XFS_DEV_DATA`: the data device (also an fsmap device cookie).
pub const XFS_DEV_DATA: u32 = 1;
/// `XFS_DEV_LOG`: the external log device.
pub const XFS_DEV_LOG: u32 = 2;
/// `XFS_DEV_RT`: the realtime device.
pub const XFS_DEV_RT: u32 = 3;

/// `struct xfs_verify_media` (40 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyMedia {
    /// In: `XFS_DEV_*`.
    pub me_dev: u32,
    /// In: `XFS_VERIFY_MEDIA_*`.
    pub me_flags: u32,
    /// In/out: first 512-byte sector to verify; out: first one not verified.
    pub me_start_daddr: u64,
    /// In/out: end of the range (exclusive); clamped to the device.
    pub me_end_daddr: u64,
    /// Out: positive errno of the first failed I/O, or 0.
    pub me_ioerror: u32,
    /// In: largest I/O in bytes (0: 1 MiB).
    pub me_max_io_size: u32,
    /// In: microseconds to rest between I/Os.
    pub me_rest_us: u32,
    /// Must be zero.
    pub me_pad: u32,
}

const _: () = assert!(size_of::<VerifyMedia>() == 40);
const _: () = assert!(offset_of!(VerifyMedia, me_flags) == 4);
const _: () = assert!(offset_of!(VerifyMedia, me_start_daddr) == 8);
const _: () = assert!(offset_of!(VerifyMedia, me_end_daddr) == 16);
const _: () = assert!(offset_of!(VerifyMedia, me_ioerror) == 24);
const _: () = assert!(offset_of!(VerifyMedia, me_max_io_size) == 28);
const _: () = assert!(offset_of!(VerifyMedia, me_rest_us) == 32);
const _: () = assert!(offset_of!(VerifyMedia, me_pad) == 36);

impl VerifyMedia {
    /// A request for sectors `start..end` of device `dev`, reporting
    /// failures as health events if `report`.
    pub fn new(dev: u32, start: u64, end: u64, report: bool) -> VerifyMedia {
        VerifyMedia {
            me_dev: dev,
            me_flags: if report { VERIFY_MEDIA_REPORT } else { 0 },
            me_start_daddr: start,
            me_end_daddr: end,
            ..VerifyMedia::default()
        }
    }
}

/// Verifies `req`'s range; on return `req` says how far it got. ENODEV for
/// an internal log or a missing realtime device.
pub fn verify_media(fd: BorrowedFd<'_>, req: &mut VerifyMedia) -> Result<(), Errno> {
    // SAFETY: `req` is the 40-byte struct this _IOWR request reads and
    // writes, exclusively borrowed across the call.
    unsafe { ioctl(fd, XFS_IOC_VERIFY_MEDIA, std::ptr::from_mut(req)) }.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_say_whether_to_report() {
        let req = VerifyMedia::new(XFS_DEV_DATA, 64, 2048, true);
        assert_eq!(req.me_flags, VERIFY_MEDIA_REPORT);
        assert_eq!((req.me_start_daddr, req.me_end_daddr), (64, 2048));
        assert_eq!(VerifyMedia::new(XFS_DEV_RT, 0, 1, false).me_flags, 0);
    }
}
