//! `XFS_IOC_FSGEOMETRY`: feature flags and health summary of a filesystem.

use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOR('X', 126, struct xfs_fsop_geom)`.
pub const XFS_IOC_FSGEOMETRY: Opcode = ioc::read::<FsGeometry>(b'X', 126);
/// `_IOR('X', 124, struct xfs_fsop_geom_v4)`: our struct up to `logsunit`.
pub const XFS_IOC_FSGEOMETRY_V4: Opcode =
    ioc::read_prefix_of_u64_struct(b'X', 124, offset_of!(FsGeometry, sick));
/// `_IOR('X', 100, struct xfs_fsop_geom_v1)`: our struct up to
/// `dirblocksize`.
pub const XFS_IOC_FSGEOMETRY_V1: Opcode =
    ioc::read_prefix_of_u64_struct(b'X', 100, offset_of!(FsGeometry, logsunit));

/// `XFS_FSOP_GEOM_FLAGS_*` the healer asks about: the features that let
/// it repair (reverse mappings, parent pointers).
pub const FLAGS_RMAPBT: u32 = 1 << 19;
pub const FLAGS_PARENT: u32 = 1 << 25;

/// `struct xfs_fsop_geom` (256 bytes; V4/V1 fill the first 112).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsGeometry {
    pub blocksize: u32,
    pub rtextsize: u32,
    pub agblocks: u32,
    pub agcount: u32,
    pub logblocks: u32,
    pub sectsize: u32,
    pub inodesize: u32,
    pub imaxpct: u32,
    pub datablocks: u64,
    pub rtblocks: u64,
    pub rtextents: u64,
    pub logstart: u64,
    pub uuid: [u8; 16],
    pub sunit: u32,
    pub swidth: u32,
    pub version: i32,
    pub flags: u32,
    pub logsectsize: u32,
    pub rtsectsize: u32,
    pub dirblocksize: u32,
    pub logsunit: u32,
    pub sick: u32,
    pub checked: u32,
    pub rgextents: u32,
    pub rgcount: u32,
    pub rtstart: u64,
    pub rtreserved: u64,
    pub reserved: [u64; 14],
}

impl Default for FsGeometry {
    fn default() -> Self {
        // SAFETY: all fields are plain integers and byte arrays, for which
        // the all-zero pattern is a valid value.
        unsafe { std::mem::zeroed() }
    }
}

const _: () = assert!(size_of::<FsGeometry>() == 256);
const _: () = assert!(offset_of!(FsGeometry, datablocks) == 32);
const _: () = assert!(offset_of!(FsGeometry, uuid) == 64);
const _: () = assert!(offset_of!(FsGeometry, flags) == 92);
const _: () = assert!(offset_of!(FsGeometry, sick) == 112);
const _: () = assert!(offset_of!(FsGeometry, checked) == 116);
const _: () = assert!(offset_of!(FsGeometry, rtstart) == 128);
const _: () = assert!(offset_of!(FsGeometry, reserved) == 144);

/// The geometry, trying the newest command first and falling back to the
/// V4 and V1 ones (older kernels) as the reference does.
pub fn fs_geometry(fd: BorrowedFd<'_>) -> Result<FsGeometry, Errno> {
    let mut geo = FsGeometry::default();
    let mut last = Errno::NOTTY;
    for request in [
        XFS_IOC_FSGEOMETRY,
        XFS_IOC_FSGEOMETRY_V4,
        XFS_IOC_FSGEOMETRY_V1,
    ] {
        // SAFETY: `geo` is 256 bytes, at least the size each of these _IOR
        // requests writes (256 or 112 bytes).
        match unsafe { ioctl(fd, request, std::ptr::from_mut(&mut geo)) } {
            Ok(_) => return Ok(geo),
            Err(e @ (Errno::NOTTY | Errno::INVAL)) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
