//! What a `GETFSMAP` record says owns its range, in the policy's terms:
//! shared by the daemon's media handling and the `media_damage` fuzz
//! target, which feeds `damage()` exactly what the daemon would.

use xfs_abi::fsmap::{self, Fsmap};
use xfs_policy::media::Owner;

/// The owner of a record's range.
pub fn owner(rec: &Fsmap) -> Owner {
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
