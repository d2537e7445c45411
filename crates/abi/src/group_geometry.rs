//! `XFS_IOC_AG_GEOMETRY` and `XFS_IOC_RTGROUP_GEOMETRY`: size, usage and
//! health of one allocation group or realtime group.
//!
//! Reading an AG's geometry loads its AGI and AGF: on a damaged header the
//! call fails with `EUCLEAN` and the kernel emits an AG SICK event, so the
//! healer must not poll this in reaction to its own events.

use crate::health::HealthMasks;
use crate::ioc::iowr;
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOWR('X', 61, struct xfs_ag_geometry)`.
pub const XFS_IOC_AG_GEOMETRY: u64 = 0xc080_583d;
/// `_IOWR('X', 65, struct xfs_rtgroup_geometry)`.
pub const XFS_IOC_RTGROUP_GEOMETRY: u64 = 0xc080_5841;
/// `XFS_RTGROUP_GEOM_WRITEPOINTER`: `rg_writepointer` is valid (zoned).
pub const RTGROUP_GEOM_WRITEPOINTER: u32 = 1 << 0;

/// `struct xfs_ag_geometry` (128 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgGeometry {
    /// In/out: AG number.
    pub ag_number: u32,
    /// Length in blocks.
    pub ag_length: u32,
    /// Free blocks.
    pub ag_freeblks: u32,
    /// Inodes allocated.
    pub ag_icount: u32,
    /// Inodes free.
    pub ag_ifree: u32,
    /// `XFS_AG_GEOM_SICK_*` bits found bad.
    pub ag_sick: u32,
    /// `XFS_AG_GEOM_SICK_*` bits a scrub has checked.
    pub ag_checked: u32,
    /// In: must be zero.
    pub ag_flags: u32,
    /// In: must be zero.
    pub ag_reserved: [u64; 12],
}

/// `struct xfs_rtgroup_geometry` (128 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtgroupGeometry {
    /// In/out: rtgroup number.
    pub rg_number: u32,
    /// Length in blocks.
    pub rg_length: u32,
    /// `XFS_RTGROUP_GEOM_SICK_*` bits found bad.
    pub rg_sick: u32,
    /// `XFS_RTGROUP_GEOM_SICK_*` bits a scrub has checked.
    pub rg_checked: u32,
    /// In: must be zero; out: [`RTGROUP_GEOM_WRITEPOINTER`] on zoned filesystems.
    pub rg_flags: u32,
    /// Write pointer block offset (zoned).
    pub rg_writepointer: u32,
    /// In: must be zero.
    pub rg_reserved: [u32; 26],
}

const _: () = assert!(size_of::<AgGeometry>() == 128);
const _: () = assert!(offset_of!(AgGeometry, ag_length) == 4);
const _: () = assert!(offset_of!(AgGeometry, ag_freeblks) == 8);
const _: () = assert!(offset_of!(AgGeometry, ag_icount) == 12);
const _: () = assert!(offset_of!(AgGeometry, ag_ifree) == 16);
const _: () = assert!(offset_of!(AgGeometry, ag_sick) == 20);
const _: () = assert!(offset_of!(AgGeometry, ag_checked) == 24);
const _: () = assert!(offset_of!(AgGeometry, ag_flags) == 28);
const _: () = assert!(offset_of!(AgGeometry, ag_reserved) == 32);
const _: () = assert!(size_of::<RtgroupGeometry>() == 128);
const _: () = assert!(offset_of!(RtgroupGeometry, rg_length) == 4);
const _: () = assert!(offset_of!(RtgroupGeometry, rg_sick) == 8);
const _: () = assert!(offset_of!(RtgroupGeometry, rg_checked) == 12);
const _: () = assert!(offset_of!(RtgroupGeometry, rg_flags) == 16);
const _: () = assert!(offset_of!(RtgroupGeometry, rg_writepointer) == 20);
const _: () = assert!(offset_of!(RtgroupGeometry, rg_reserved) == 24);
const _: () = assert!(XFS_IOC_AG_GEOMETRY == iowr(b'X', 61, size_of::<AgGeometry>()));
const _: () = assert!(XFS_IOC_RTGROUP_GEOMETRY == iowr(b'X', 65, size_of::<RtgroupGeometry>()));

impl AgGeometry {
    /// The AG's sick and checked masks.
    pub fn health(&self) -> HealthMasks {
        HealthMasks {
            sick: self.ag_sick,
            checked: self.ag_checked,
        }
    }
}

impl RtgroupGeometry {
    /// The rtgroup's sick and checked masks.
    pub fn health(&self) -> HealthMasks {
        HealthMasks {
            sick: self.rg_sick,
            checked: self.rg_checked,
        }
    }
}

/// Geometry and health of AG `agno`; EINVAL if there is no such AG.
pub fn ag_geometry(fd: BorrowedFd<'_>, agno: u32) -> Result<AgGeometry, Errno> {
    let mut geo = AgGeometry {
        ag_number: agno,
        ..AgGeometry::default()
    };
    // SAFETY: `geo` is the 128-byte struct this _IOWR request reads and
    // writes, alive and exclusively borrowed across the call.
    unsafe { ioctl(fd, XFS_IOC_AG_GEOMETRY, std::ptr::from_mut(&mut geo)) }?;
    Ok(geo)
}

/// Geometry and health of rtgroup `rgno`; EINVAL without the rtgroups
/// feature or if there is no such group.
pub fn rtgroup_geometry(fd: BorrowedFd<'_>, rgno: u32) -> Result<RtgroupGeometry, Errno> {
    let mut geo = RtgroupGeometry {
        rg_number: rgno,
        ..RtgroupGeometry::default()
    };
    // SAFETY: `geo` is the 128-byte struct this _IOWR request reads and
    // writes, alive and exclusively borrowed across the call.
    unsafe { ioctl(fd, XFS_IOC_RTGROUP_GEOMETRY, std::ptr::from_mut(&mut geo)) }?;
    Ok(geo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{AG_GEOM_SICK_AGF, RTGROUP_GEOM_SICK_BITMAP};

    #[test]
    fn health_reads_the_right_fields() {
        let ag = AgGeometry {
            ag_sick: AG_GEOM_SICK_AGF,
            ag_checked: AG_GEOM_SICK_AGF,
            ..AgGeometry::default()
        };
        assert_eq!(ag.health().needs_repair(), AG_GEOM_SICK_AGF);
        let rg = RtgroupGeometry {
            rg_sick: RTGROUP_GEOM_SICK_BITMAP,
            ..RtgroupGeometry::default()
        };
        assert_eq!(rg.health().unconfirmed(), RTGROUP_GEOM_SICK_BITMAP);
    }
}
