//! Owners of a failed media range, from GETFSMAP on the monitored
//! filesystem (the decisions are in `xfs_policy::media`).

use crate::paths;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use xfs_abi::Errno;
use xfs_abi::fsmap;
use xfs_abi::handle::XfsHandle;
use xfs_events::Device;
use xfs_healer::core::Owners;
use xfs_healer::fsmap_owner::owner;
use xfs_policy::media::{Damage, Extent, Layout, damage};

/// Most owners looked at per media event (a wide range over a full disk
/// could map thousands of extents; the rest are counted, not listed).
pub const MAX_OWNERS: usize = 32;

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
