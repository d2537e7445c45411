//! `XFS_IOC_SCRUB_METADATA`: check or repair one metadata object.

use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOWR('X', 60, struct xfs_scrub_metadata)`.
pub const XFS_IOC_SCRUB_METADATA: Opcode = ioc::read_write::<ScrubMetadata>(b'X', 60);

pub const SCRUB_TYPE_PROBE: u32 = 0;
/// Number of scrub types the 7.2 kernel knows.
pub const SCRUB_TYPE_NR: u32 = 33;

pub const IFLAG_REPAIR: u32 = 0x1;
pub const IFLAG_FORCE_REBUILD: u32 = 0x100;
pub const OFLAG_CORRUPT: u32 = 0x2;
pub const OFLAG_XFAIL: u32 = 0x8;
pub const OFLAG_XCORRUPT: u32 = 0x10;
pub const OFLAG_INCOMPLETE: u32 = 0x20;
pub const OFLAG_NO_REPAIR_NEEDED: u32 = 0x80;

/// `struct xfs_scrub_metadata` (64 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubMetadata {
    pub sm_type: u32,
    pub sm_flags: u32,
    pub sm_ino: u64,
    pub sm_gen: u32,
    pub sm_agno: u32,
    pub sm_reserved: [u64; 5],
}

const _: () = assert!(size_of::<ScrubMetadata>() == 64);
const _: () = assert!(offset_of!(ScrubMetadata, sm_flags) == 4);
const _: () = assert!(offset_of!(ScrubMetadata, sm_ino) == 8);
const _: () = assert!(offset_of!(ScrubMetadata, sm_gen) == 16);
const _: () = assert!(offset_of!(ScrubMetadata, sm_agno) == 20);
const _: () = assert!(offset_of!(ScrubMetadata, sm_reserved) == 24);

/// Runs one scrub (with `IFLAG_REPAIR`: repair). On success the kernel has
/// written the output flags into `sm.sm_flags`; on error nothing.
pub fn scrub_metadata(fd: BorrowedFd<'_>, sm: &mut ScrubMetadata) -> Result<(), Errno> {
    // SAFETY: `sm` is a live, exclusively borrowed 64-byte struct, which is
    // exactly what the _IOWR size of this request covers.
    unsafe { ioctl(fd, XFS_IOC_SCRUB_METADATA, std::ptr::from_mut(sm)) }.map(drop)
}
