//! Single-inode `XFS_IOC_BULKSTAT`: the stat data and health masks of one
//! inode, by number, without opening it.
//!
//! Bulkstat returns the first *allocated* inode at or after the one asked
//! for, so a single-inode lookup must check that it got exactly that inode.
//! Needs `CAP_SYS_ADMIN`; fails with `EIO` once the filesystem is shut down.

use crate::health::HealthMasks;
use crate::ioc::ior;
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOR('X', 127, struct xfs_bulkstat_req)` (the 64-byte header).
pub const XFS_IOC_BULKSTAT: u64 = 0x8040_587f;
/// `XFS_BULK_IREQ_AGNO`: only inodes of `agno`.
pub const BULK_IREQ_AGNO: u32 = 1 << 0;
/// `XFS_BULK_IREQ_SPECIAL`: `ino` is a special value, not an inode number.
pub const BULK_IREQ_SPECIAL: u32 = 1 << 1;
/// `XFS_BULK_IREQ_NREXT64`: report the data fork extent count in `bs_extents64`.
pub const BULK_IREQ_NREXT64: u32 = 1 << 2;
/// `XFS_BULK_IREQ_METADIR`: also report metadata-directory inodes.
pub const BULK_IREQ_METADIR: u32 = 1 << 3;
/// `XFS_BULK_IREQ_SPECIAL_ROOT`: with [`BULK_IREQ_SPECIAL`], the root directory.
pub const BULK_IREQ_SPECIAL_ROOT: u64 = 1;
/// `XFS_BULKSTAT_VERSION_V5`: `bs_version` of this record format.
pub const BULKSTAT_VERSION_V5: u16 = 5;

/// `struct xfs_bulk_ireq` (64 bytes): the request header.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkIreq {
    /// In: first inode to consider (inclusive); out: next one to look at.
    pub ino: u64,
    /// `XFS_BULK_IREQ_*`.
    pub flags: u32,
    /// In: records the buffer holds (non-zero).
    pub icount: u32,
    /// Out: records filled in.
    pub ocount: u32,
    /// In: AG, with [`BULK_IREQ_AGNO`].
    pub agno: u32,
    /// Must be zero.
    pub reserved: [u64; 5],
}

/// `struct xfs_bulkstat` (192 bytes): one inode's record.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bulkstat {
    /// Inode number.
    pub bs_ino: u64,
    /// File size in bytes.
    pub bs_size: u64,
    /// Blocks used.
    pub bs_blocks: u64,
    /// Extended flags (`FS_XFLAG_*`).
    pub bs_xflags: u64,
    /// Access time, seconds.
    pub bs_atime: i64,
    /// Modification time, seconds.
    pub bs_mtime: i64,
    /// Change time, seconds.
    pub bs_ctime: i64,
    /// Creation time, seconds.
    pub bs_btime: i64,
    /// Generation number.
    pub bs_gen: u32,
    /// Owner user id.
    pub bs_uid: u32,
    /// Owner group id.
    pub bs_gid: u32,
    /// Project id.
    pub bs_projectid: u32,
    /// Access time, nanoseconds.
    pub bs_atime_nsec: u32,
    /// Modification time, nanoseconds.
    pub bs_mtime_nsec: u32,
    /// Change time, nanoseconds.
    pub bs_ctime_nsec: u32,
    /// Creation time, nanoseconds.
    pub bs_btime_nsec: u32,
    /// Preferred I/O block size.
    pub bs_blksize: u32,
    /// Device number (device files).
    pub bs_rdev: u32,
    /// CoW extent size hint, blocks.
    pub bs_cowextsize_blks: u32,
    /// Extent size hint, blocks.
    pub bs_extsize_blks: u32,
    /// Link count.
    pub bs_nlink: u32,
    /// 32-bit data fork extent count.
    pub bs_extents: u32,
    /// Attribute fork extent count.
    pub bs_aextents: u32,
    /// Record version ([`BULKSTAT_VERSION_V5`]).
    pub bs_version: u16,
    /// Inode fork offset in bytes.
    pub bs_forkoff: u16,
    /// `XFS_BS_SICK_*` bits found bad.
    pub bs_sick: u16,
    /// `XFS_BS_SICK_*` bits a scrub has checked.
    pub bs_checked: u16,
    /// File type and mode (`S_IF*` | permissions).
    pub bs_mode: u16,
    /// Zero.
    pub bs_pad2: u16,
    /// 64-bit data fork extent count (with [`BULK_IREQ_NREXT64`]).
    pub bs_extents64: u64,
    /// Zero.
    pub bs_pad: [u64; 6],
}

/// `struct xfs_bulkstat_req` with room for exactly one record.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkstatSingleReq {
    /// The request header.
    pub hdr: BulkIreq,
    /// The one record.
    pub bulkstat: Bulkstat,
}

const _: () = assert!(size_of::<BulkIreq>() == 64);
const _: () = assert!(offset_of!(BulkIreq, flags) == 8);
const _: () = assert!(offset_of!(BulkIreq, icount) == 12);
const _: () = assert!(offset_of!(BulkIreq, ocount) == 16);
const _: () = assert!(offset_of!(BulkIreq, agno) == 20);
const _: () = assert!(offset_of!(BulkIreq, reserved) == 24);
const _: () = assert!(size_of::<Bulkstat>() == 192);
const _: () = assert!(offset_of!(Bulkstat, bs_size) == 8);
const _: () = assert!(offset_of!(Bulkstat, bs_xflags) == 24);
const _: () = assert!(offset_of!(Bulkstat, bs_gen) == 64);
const _: () = assert!(offset_of!(Bulkstat, bs_nlink) == 112);
const _: () = assert!(offset_of!(Bulkstat, bs_version) == 124);
const _: () = assert!(offset_of!(Bulkstat, bs_sick) == 128);
const _: () = assert!(offset_of!(Bulkstat, bs_checked) == 130);
const _: () = assert!(offset_of!(Bulkstat, bs_mode) == 132);
const _: () = assert!(offset_of!(Bulkstat, bs_extents64) == 136);
const _: () = assert!(offset_of!(Bulkstat, bs_pad) == 144);
const _: () = assert!(size_of::<BulkstatSingleReq>() == 64 + 192);
const _: () = assert!(offset_of!(BulkstatSingleReq, bulkstat) == 64);
const _: () = assert!(XFS_IOC_BULKSTAT == ior(b'X', 127, size_of::<BulkIreq>()));

impl Bulkstat {
    /// The inode's sick and checked masks.
    pub fn health(&self) -> HealthMasks {
        HealthMasks {
            sick: u32::from(self.bs_sick),
            checked: u32::from(self.bs_checked),
        }
    }

    /// The file type bits of `bs_mode` (`S_IFMT`).
    pub fn file_type(&self) -> u32 {
        u32::from(self.bs_mode) & libc::S_IFMT
    }
}

/// The request for one inode: `ino` itself, or with [`BULK_IREQ_SPECIAL`]
/// in `flags` a special value such as [`BULK_IREQ_SPECIAL_ROOT`].
pub fn single_request(ino: u64, flags: u32) -> BulkstatSingleReq {
    BulkstatSingleReq {
        hdr: BulkIreq {
            ino,
            flags,
            icount: 1,
            ..BulkIreq::default()
        },
        bulkstat: Bulkstat::default(),
    }
}

/// The record a single-inode request got, or ENOENT if the kernel
/// returned none or a later inode (the one asked for is not allocated).
pub fn single_result(req: &BulkstatSingleReq, ino: u64, flags: u32) -> Result<Bulkstat, Errno> {
    if req.hdr.ocount != 1 {
        return Err(Errno::NOENT);
    }
    if flags & BULK_IREQ_SPECIAL == 0 && req.bulkstat.bs_ino != ino {
        return Err(Errno::NOENT);
    }
    Ok(req.bulkstat)
}

/// Bulkstat of inode `ino` (`flags`: e.g. [`BULK_IREQ_METADIR`]).
pub fn bulkstat_single(fd: BorrowedFd<'_>, ino: u64, flags: u32) -> Result<Bulkstat, Errno> {
    let mut req = single_request(ino, flags);
    // SAFETY: `req` is a 64-byte header followed by room for the one
    // record `icount` = 1 allows; the kernel writes nothing beyond it.
    unsafe { ioctl(fd, XFS_IOC_BULKSTAT, std::ptr::from_mut(&mut req)) }?;
    single_result(&req, ino, flags)
}

/// Bulkstat of the filesystem's root directory.
pub fn bulkstat_root(fd: BorrowedFd<'_>) -> Result<Bulkstat, Errno> {
    bulkstat_single(fd, BULK_IREQ_SPECIAL_ROOT, BULK_IREQ_SPECIAL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::BS_SICK_DIR;

    fn answered(req_ino: u64, flags: u32, ocount: u32, got_ino: u64) -> Result<Bulkstat, Errno> {
        let mut req = single_request(req_ino, flags);
        assert_eq!((req.hdr.icount, req.hdr.flags), (1, flags));
        req.hdr.ocount = ocount;
        req.bulkstat.bs_ino = got_ino;
        single_result(&req, req_ino, flags)
    }

    #[test]
    fn single_inode_must_be_the_one_asked_for() {
        assert_eq!(answered(131, 0, 1, 131).map(|b| b.bs_ino), Ok(131));
        // A freed inode: the kernel answers with the next allocated one.
        assert_eq!(answered(131, 0, 1, 132), Err(Errno::NOENT));
        // Past the last inode: nothing.
        assert_eq!(answered(131, 0, 0, 0), Err(Errno::NOENT));
        // The root by special value comes back under its real number.
        assert_eq!(
            answered(BULK_IREQ_SPECIAL_ROOT, BULK_IREQ_SPECIAL, 1, 128).map(|b| b.bs_ino),
            Ok(128)
        );
    }

    #[test]
    fn health_and_type() {
        let bs = Bulkstat {
            bs_sick: BS_SICK_DIR as u16,
            bs_mode: 0o040755,
            ..Bulkstat::default()
        };
        assert_eq!(bs.health().unconfirmed(), BS_SICK_DIR);
        assert_eq!(bs.health().needs_repair(), 0);
        assert_eq!(bs.file_type(), libc::S_IFDIR);
    }
}
