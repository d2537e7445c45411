//! The sick/checked bit masks that `XFS_IOC_FSGEOMETRY`,
//! `XFS_IOC_AG_GEOMETRY`, `XFS_IOC_RTGROUP_GEOMETRY` and `XFS_IOC_BULKSTAT`
//! report, and what a pair of them means. Pure; health events carry the
//! same bits (their names live in `xfs-events`).

/// `XFS_FSOP_GEOM_SICK_COUNTERS`: summary counters.
pub const FSOP_GEOM_SICK_COUNTERS: u32 = 1 << 0;
/// `XFS_FSOP_GEOM_SICK_UQUOTA`: user quota.
pub const FSOP_GEOM_SICK_UQUOTA: u32 = 1 << 1;
/// `XFS_FSOP_GEOM_SICK_GQUOTA`: group quota.
pub const FSOP_GEOM_SICK_GQUOTA: u32 = 1 << 2;
/// `XFS_FSOP_GEOM_SICK_PQUOTA`: project quota.
pub const FSOP_GEOM_SICK_PQUOTA: u32 = 1 << 3;
/// `XFS_FSOP_GEOM_SICK_RT_BITMAP`: realtime bitmap (any rtgroup).
pub const FSOP_GEOM_SICK_RT_BITMAP: u32 = 1 << 4;
/// `XFS_FSOP_GEOM_SICK_RT_SUMMARY`: realtime summary (any rtgroup).
pub const FSOP_GEOM_SICK_RT_SUMMARY: u32 = 1 << 5;
/// `XFS_FSOP_GEOM_SICK_QUOTACHECK`: quota counts.
pub const FSOP_GEOM_SICK_QUOTACHECK: u32 = 1 << 6;
/// `XFS_FSOP_GEOM_SICK_NLINKS`: inode link counts.
pub const FSOP_GEOM_SICK_NLINKS: u32 = 1 << 7;
/// `XFS_FSOP_GEOM_SICK_METADIR`: metadata directory.
pub const FSOP_GEOM_SICK_METADIR: u32 = 1 << 8;
/// `XFS_FSOP_GEOM_SICK_METAPATH`: metadata directory tree path.
pub const FSOP_GEOM_SICK_METAPATH: u32 = 1 << 9;
/// Every filesystem bit the 7.2 kernel defines.
pub const FSOP_GEOM_SICK_ALL: u32 = (1 << 10) - 1;

/// `XFS_AG_GEOM_SICK_SB`: the AG's superblock.
pub const AG_GEOM_SICK_SB: u32 = 1 << 0;
/// `XFS_AG_GEOM_SICK_AGF`: AGF header.
pub const AG_GEOM_SICK_AGF: u32 = 1 << 1;
/// `XFS_AG_GEOM_SICK_AGFL`: AGFL header.
pub const AG_GEOM_SICK_AGFL: u32 = 1 << 2;
/// `XFS_AG_GEOM_SICK_AGI`: AGI header.
pub const AG_GEOM_SICK_AGI: u32 = 1 << 3;
/// `XFS_AG_GEOM_SICK_BNOBT`: free space by block.
pub const AG_GEOM_SICK_BNOBT: u32 = 1 << 4;
/// `XFS_AG_GEOM_SICK_CNTBT`: free space by length.
pub const AG_GEOM_SICK_CNTBT: u32 = 1 << 5;
/// `XFS_AG_GEOM_SICK_INOBT`: inode btree.
pub const AG_GEOM_SICK_INOBT: u32 = 1 << 6;
/// `XFS_AG_GEOM_SICK_FINOBT`: free inode btree.
pub const AG_GEOM_SICK_FINOBT: u32 = 1 << 7;
/// `XFS_AG_GEOM_SICK_RMAPBT`: reverse mappings.
pub const AG_GEOM_SICK_RMAPBT: u32 = 1 << 8;
/// `XFS_AG_GEOM_SICK_REFCNTBT`: reference counts.
pub const AG_GEOM_SICK_REFCNTBT: u32 = 1 << 9;
/// `XFS_AG_GEOM_SICK_INODES`: a sick inode was reclaimed in this AG.
pub const AG_GEOM_SICK_INODES: u32 = 1 << 10;
/// Every AG bit the 7.2 kernel defines.
pub const AG_GEOM_SICK_ALL: u32 = (1 << 11) - 1;

/// `XFS_RTGROUP_GEOM_SICK_SUPER`: rtgroup superblock.
pub const RTGROUP_GEOM_SICK_SUPER: u32 = 1 << 0;
/// `XFS_RTGROUP_GEOM_SICK_BITMAP`: realtime bitmap.
pub const RTGROUP_GEOM_SICK_BITMAP: u32 = 1 << 1;
/// `XFS_RTGROUP_GEOM_SICK_SUMMARY`: realtime summary.
pub const RTGROUP_GEOM_SICK_SUMMARY: u32 = 1 << 2;
/// `XFS_RTGROUP_GEOM_SICK_RMAPBT`: realtime reverse mappings.
pub const RTGROUP_GEOM_SICK_RMAPBT: u32 = 1 << 3;
/// `XFS_RTGROUP_GEOM_SICK_REFCNTBT`: realtime reference counts.
pub const RTGROUP_GEOM_SICK_REFCNTBT: u32 = 1 << 4;
/// Every rtgroup bit the 7.2 kernel defines.
pub const RTGROUP_GEOM_SICK_ALL: u32 = (1 << 5) - 1;

/// `XFS_BS_SICK_INODE`: inode core.
pub const BS_SICK_INODE: u32 = 1 << 0;
/// `XFS_BS_SICK_BMBTD`: data fork.
pub const BS_SICK_BMBTD: u32 = 1 << 1;
/// `XFS_BS_SICK_BMBTA`: attribute fork.
pub const BS_SICK_BMBTA: u32 = 1 << 2;
/// `XFS_BS_SICK_BMBTC`: copy-on-write fork.
pub const BS_SICK_BMBTC: u32 = 1 << 3;
/// `XFS_BS_SICK_DIR`: directory.
pub const BS_SICK_DIR: u32 = 1 << 4;
/// `XFS_BS_SICK_XATTR`: extended attributes.
pub const BS_SICK_XATTR: u32 = 1 << 5;
/// `XFS_BS_SICK_SYMLINK`: symbolic link target.
pub const BS_SICK_SYMLINK: u32 = 1 << 6;
/// `XFS_BS_SICK_PARENT`: parent pointers.
pub const BS_SICK_PARENT: u32 = 1 << 7;
/// `XFS_BS_SICK_DIRTREE`: directory tree structure.
pub const BS_SICK_DIRTREE: u32 = 1 << 8;
/// Every inode bit the 7.2 kernel defines.
pub const BS_SICK_ALL: u32 = (1 << 9) - 1;

/// One object's `sick` and `checked` masks, as the kernel keeps them in
/// core (lost at unmount, and for an inode when it leaves the cache).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HealthMasks {
    /// Bits some code found bad (runtime verifiers or a scrub).
    pub sick: u32,
    /// Bits a scrub has examined since mount.
    pub checked: u32,
}

impl HealthMasks {
    /// Sick bits a scrub confirmed: these need repair.
    pub fn needs_repair(self) -> u32 {
        self.sick & self.checked
    }

    /// Sick bits only runtime code has seen; no scrub has looked yet.
    pub fn unconfirmed(self) -> u32 {
        self.sick & !self.checked
    }

    /// Bits a scrub checked and found fine.
    pub fn healthy(self) -> u32 {
        self.checked & !self.sick
    }

    /// Bits outside `known` (e.g. [`AG_GEOM_SICK_ALL`]): a newer kernel's.
    pub fn unknown(self, known: u32) -> u32 {
        (self.sick | self.checked) & !known
    }
}

/// The set bits of `mask`, lowest first, each as its own value.
pub fn bits(mask: u32) -> impl Iterator<Item = u32> {
    (0..32)
        .map(|b| 1u32 << b)
        .filter(move |bit| mask & bit != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sick_and_checked_combine_as_kernel_abi_says() {
        // "checked && sick" = needs repair; "!checked && sick" = runtime only.
        let h = HealthMasks {
            sick: AG_GEOM_SICK_AGF | AG_GEOM_SICK_INOBT,
            checked: AG_GEOM_SICK_AGF | AG_GEOM_SICK_AGI,
        };
        assert_eq!(h.needs_repair(), AG_GEOM_SICK_AGF);
        assert_eq!(h.unconfirmed(), AG_GEOM_SICK_INOBT);
        assert_eq!(h.healthy(), AG_GEOM_SICK_AGI);
        assert_eq!(h.unknown(AG_GEOM_SICK_ALL), 0);
        assert_eq!(
            HealthMasks {
                sick: 1 << 20,
                checked: 0
            }
            .unknown(AG_GEOM_SICK_ALL),
            1 << 20
        );
    }

    #[test]
    fn bits_lists_each_set_bit() {
        assert_eq!(bits(0).count(), 0);
        assert_eq!(
            bits(0x8000_0011).collect::<Vec<_>>(),
            vec![0x1, 0x10, 0x8000_0000]
        );
        assert_eq!(bits(BS_SICK_ALL).count(), 9);
        assert_eq!(bits(AG_GEOM_SICK_ALL).last(), Some(AG_GEOM_SICK_INODES));
        assert_eq!(
            bits(RTGROUP_GEOM_SICK_ALL).last(),
            Some(RTGROUP_GEOM_SICK_REFCNTBT)
        );
        assert_eq!(
            bits(FSOP_GEOM_SICK_ALL).last(),
            Some(FSOP_GEOM_SICK_METAPATH)
        );
    }
}
