//! Owners of a failed media range, from GETFSMAP on the monitored
//! filesystem (the decisions are in `xfs_policy::media`).

use crate::paths;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use xfs_abi::Errno;
use xfs_abi::fsmap::{self, Fsmap};
use xfs_abi::handle::XfsHandle;
use xfs_events::Device;
use xfs_policy::media::{Damage, Extent, Layout, Owner, damage};

/// Most owners looked at per media event (a wide range over a full disk
/// could map thousands of extents; the rest are counted, not listed).
pub const MAX_OWNERS: usize = 32;

/// What the failed range holds, and how many more mappings there were.
#[derive(Debug)]
pub struct Owners {
    pub damages: Vec<Damage>,
    pub more: usize,
}

fn owner(rec: &Fsmap) -> Owner {
    if rec.fmr_flags & fsmap::FMR_OF_SPECIAL_OWNER == 0 {
        return Owner::Inode {
            ino: rec.fmr_owner,
            attr_fork: rec.fmr_flags & fsmap::FMR_OF_ATTR_FORK != 0,
            extent_map: rec.fmr_flags & fsmap::FMR_OF_EXTENT_MAP != 0,
            offset: rec.fmr_offset,
            shared: rec.fmr_flags & fsmap::FMR_OF_SHARED != 0,
        };
    }
    match rec.fmr_owner {
        fsmap::FMR_OWN_FREE => Owner::Free,
        fsmap::FMR_OWN_UNKNOWN => Owner::Unknown,
        fsmap::XFS_FMR_OWN_FS => Owner::AgHeaders,
        fsmap::XFS_FMR_OWN_LOG => Owner::Log,
        fsmap::XFS_FMR_OWN_AG => Owner::AgBtrees,
        fsmap::XFS_FMR_OWN_INOBT => Owner::InodeBtrees,
        fsmap::XFS_FMR_OWN_INODES => Owner::InodeChunks,
        fsmap::XFS_FMR_OWN_REFC => Owner::RefcountBtree,
        fsmap::XFS_FMR_OWN_COW => Owner::CowStaging,
        fsmap::XFS_FMR_OWN_DEFECTIVE => Owner::Defective,
        other => Owner::Other(other),
    }
}

/// The owners of sectors `daddr..daddr + bbcount` of the data device.
/// Only the data device is mapped: an external log holds only the log, and
/// the realtime device's GETFSMAP key needs its dev_t, which the event
/// does not carry.
pub fn owners(
    mount_path: &Path,
    monitor: BorrowedFd<'_>,
    root: Option<&XfsHandle>,
    layout: &Layout,
    range: (Device, u64, u64),
) -> Result<Owners, Errno> {
    let (device, daddr, bbcount) = range;
    match device {
        Device::Data => {}
        Device::Log => {
            return Ok(Owners {
                damages: vec![Damage::Log],
                more: 0,
            });
        }
        Device::Rt => return Err(Errno::NODEV),
    }
    let (fd, _) = paths::open_monitored(mount_path, monitor, root)?;
    // GETFSMAP names the data device by its dev_t: the fs's st_dev.
    let dev = rustix::fs::fstat(&fd)?.st_dev;
    let end = daddr.saturating_add(bbcount);
    let keys =
        fsmap::keys_for_sectors(u32::try_from(dev).map_err(|_| Errno::OVERFLOW)?, daddr, end);
    let (bad_start, bad_end) = (daddr.saturating_mul(512), end.saturating_mul(512));
    let mut found = Owners {
        damages: Vec::new(),
        more: 0,
    };
    for rec in fsmap::getfsmap(fd.as_fd(), keys) {
        let rec = rec?;
        if found.damages.len() == MAX_OWNERS {
            found.more += 1;
            continue;
        }
        let extent = Extent {
            physical: rec.fmr_physical,
            length: rec.fmr_length,
            owner: owner(&rec),
        };
        found
            .damages
            .push(damage(&extent, bad_start, bad_end, layout));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsmap_records_become_owners() {
        let rec = |flags, owner| Fsmap {
            fmr_flags: flags,
            fmr_owner: owner,
            fmr_offset: 8192,
            ..Fsmap::default()
        };
        assert_eq!(
            owner(&rec(fsmap::FMR_OF_SHARED | fsmap::FMR_OF_ATTR_FORK, 131)),
            Owner::Inode {
                ino: 131,
                attr_fork: true,
                extent_map: false,
                offset: 8192,
                shared: true
            }
        );
        assert!(matches!(
            owner(&rec(fsmap::FMR_OF_EXTENT_MAP, 131)),
            Owner::Inode {
                extent_map: true,
                ..
            }
        ));
        let special = |code| owner(&rec(fsmap::FMR_OF_SPECIAL_OWNER, code));
        assert_eq!(special(fsmap::XFS_FMR_OWN_INOBT), Owner::InodeBtrees);
        assert_eq!(special(fsmap::XFS_FMR_OWN_FS), Owner::AgHeaders);
        assert_eq!(special(fsmap::FMR_OWN_UNKNOWN), Owner::Unknown);
        assert_eq!(special(0x5800_0000_0063), Owner::Other(0x5800_0000_0063));
    }
}
