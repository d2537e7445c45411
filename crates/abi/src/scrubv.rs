//! `XFS_IOC_SCRUBV_METADATA`: several scrubs (or repairs) of one object in
//! one call, with barriers that stop the batch when an earlier item failed.
//!
//! Per-item results come back in each vector (`sv_ret` = 0 or a negative
//! errno, `sv_flags` = output flags); the call itself fails only for a bad
//! head or vector, a fatal signal (`EINTR`, nothing copied back) or a copy
//! fault. Vectors after a barrier that stopped the batch are returned as
//! they were sent, so [`scrubv_metadata`] marks every vector "not run"
//! before the call.

use crate::ioc::iowr;
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOWR('X', 64, struct xfs_scrub_vec_head)`.
pub const XFS_IOC_SCRUBV_METADATA: u64 = 0xc028_5840;
/// `XFS_SCRUB_TYPE_BARRIER`: a vector that checks the ones before it.
pub const SCRUB_TYPE_BARRIER: u32 = 0xFFFF_FFFF;
/// `XFS_SCRUB_FLAGS_OUT`: the output flags, the only ones a barrier may carry.
pub const SCRUB_FLAGS_OUT: u32 = 0xFE;
/// Most vectors one call takes (`svh_nr * 16 <= PAGE_SIZE` on 4 KiB pages;
/// more gives `ENOMEM`).
pub const SCRUBV_MAX_VECTORS: usize = 256;
/// `sv_ret` sentinel for "the kernel did not get to this vector": the
/// kernel only ever writes 0 or a negative errno.
pub const SV_RET_NOT_RUN: i32 = i32::MAX;

/// `struct xfs_scrub_vec` (16 bytes): one item of a vectored scrub.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubVec {
    /// Scrub type (`XFS_SCRUB_TYPE_*`) or [`SCRUB_TYPE_BARRIER`].
    pub sv_type: u32,
    /// In: input flags (barrier: output flags that count as failure); out: output flags.
    pub sv_flags: u32,
    /// Out: 0 or a negative errno.
    pub sv_ret: i32,
    /// Must be zero.
    pub sv_reserved: u32,
}

/// `struct xfs_scrub_vec_head` (40 bytes): the object and the vector array.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubVecHead {
    /// Inode number for inode types (0: the fd's inode).
    pub svh_ino: u64,
    /// Inode generation; must match exactly when `svh_ino` is set.
    pub svh_gen: u32,
    /// AG or rtgroup number for group types.
    pub svh_agno: u32,
    /// Must be zero.
    pub svh_flags: u32,
    /// Microseconds to sleep between items.
    pub svh_rest_us: u16,
    /// Number of vectors.
    pub svh_nr: u16,
    /// Must be zero.
    pub svh_reserved: u64,
    /// User pointer to the `svh_nr` vectors.
    pub svh_vectors: u64,
}

const _: () = assert!(size_of::<ScrubVec>() == 16);
const _: () = assert!(offset_of!(ScrubVec, sv_flags) == 4);
const _: () = assert!(offset_of!(ScrubVec, sv_ret) == 8);
const _: () = assert!(offset_of!(ScrubVec, sv_reserved) == 12);
const _: () = assert!(size_of::<ScrubVecHead>() == 40);
const _: () = assert!(offset_of!(ScrubVecHead, svh_gen) == 8);
const _: () = assert!(offset_of!(ScrubVecHead, svh_agno) == 12);
const _: () = assert!(offset_of!(ScrubVecHead, svh_flags) == 16);
const _: () = assert!(offset_of!(ScrubVecHead, svh_rest_us) == 20);
const _: () = assert!(offset_of!(ScrubVecHead, svh_nr) == 22);
const _: () = assert!(offset_of!(ScrubVecHead, svh_reserved) == 24);
const _: () = assert!(offset_of!(ScrubVecHead, svh_vectors) == 32);
const _: () = assert!(XFS_IOC_SCRUBV_METADATA == iowr(b'X', 64, size_of::<ScrubVecHead>()));

impl ScrubVec {
    /// A scrub of type `sv_type` with input flags `flags` (e.g. `IFLAG_REPAIR`).
    pub fn new(sv_type: u32, flags: u32) -> ScrubVec {
        ScrubVec {
            sv_type,
            sv_flags: flags,
            sv_ret: SV_RET_NOT_RUN,
            sv_reserved: 0,
        }
    }

    /// A barrier: stops the batch if any earlier scrub failed with an errno
    /// other than EBUSY/ENOENT/EUSERS, or reported an output flag in `fail_mask`.
    pub fn barrier(fail_mask: u32) -> ScrubVec {
        ScrubVec::new(SCRUB_TYPE_BARRIER, fail_mask & SCRUB_FLAGS_OUT)
    }

    /// Whether this is a barrier.
    pub fn is_barrier(&self) -> bool {
        self.sv_type == SCRUB_TYPE_BARRIER
    }

    /// None if the kernel did not reach this vector; else the output flags
    /// or the item's error (a barrier that stopped the batch: ECANCELED).
    pub fn result(&self) -> Option<Result<u32, Errno>> {
        match self.sv_ret {
            SV_RET_NOT_RUN => None,
            0 => Some(Ok(self.sv_flags)),
            ret => Some(Err(Errno::from_raw_os_error(
                ret.checked_neg().filter(|e| *e > 0).unwrap_or(libc::EIO),
            ))),
        }
    }
}

/// Index of the barrier that stopped the batch, if one did.
pub fn stopped_at(vectors: &[ScrubVec]) -> Option<usize> {
    vectors
        .iter()
        .position(|v| v.is_barrier() && v.result() == Some(Err(Errno::CANCELED)))
}

/// Which object every vector of one call looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubvObject {
    /// Inode number (inode types), else 0.
    pub ino: u64,
    /// Inode generation (inode types), else 0.
    pub generation: u32,
    /// AG or rtgroup number (group types), else 0.
    pub agno: u32,
}

/// Runs `vectors` against `object`, sleeping `rest_us` between items.
/// Every `sv_ret` is reset to [`SV_RET_NOT_RUN`] first, so afterwards
/// [`ScrubVec::result`] tells run, failed and skipped items apart.
pub fn scrubv_metadata(
    fd: BorrowedFd<'_>,
    object: ScrubvObject,
    rest_us: u16,
    vectors: &mut [ScrubVec],
) -> Result<(), Errno> {
    let nr = u16::try_from(vectors.len()).map_err(|_| Errno::INVAL)?;
    for v in vectors.iter_mut() {
        v.sv_ret = SV_RET_NOT_RUN;
    }
    let mut head = ScrubVecHead {
        svh_ino: object.ino,
        svh_gen: object.generation,
        svh_agno: object.agno,
        svh_rest_us: rest_us,
        svh_nr: nr,
        svh_vectors: vectors.as_mut_ptr() as u64,
        ..ScrubVecHead::default()
    };
    // SAFETY: `head` is the 40-byte struct of this _IOWR request; its
    // svh_vectors/svh_nr describe `vectors`, exclusively borrowed for the
    // call, and the kernel copies exactly svh_nr * 16 bytes in and out.
    unsafe { ioctl(fd, XFS_IOC_SCRUBV_METADATA, std::ptr::from_mut(&mut head)) }.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrub::{IFLAG_REPAIR, OFLAG_CORRUPT, OFLAG_NO_REPAIR_NEEDED};

    #[test]
    fn results_tell_run_failed_and_skipped_apart() {
        // A batch as the kernel returns it when the barrier tripped.
        let mut done = ScrubVec::new(2, IFLAG_REPAIR);
        done.sv_ret = 0;
        done.sv_flags = IFLAG_REPAIR | OFLAG_CORRUPT;
        let mut missing = ScrubVec::new(33, 0);
        missing.sv_ret = -libc::ENOENT;
        let mut barrier = ScrubVec::barrier(OFLAG_CORRUPT | IFLAG_REPAIR);
        assert_eq!(
            barrier.sv_flags, OFLAG_CORRUPT,
            "input flags are not allowed on a barrier"
        );
        barrier.sv_ret = -libc::ECANCELED;
        let skipped = ScrubVec::new(5, 0);
        let batch = [done, missing, barrier, skipped];

        assert_eq!(batch[0].result(), Some(Ok(IFLAG_REPAIR | OFLAG_CORRUPT)));
        assert_eq!(batch[1].result(), Some(Err(Errno::NOENT)));
        assert_eq!(batch[2].result(), Some(Err(Errno::CANCELED)));
        assert_eq!(batch[3].result(), None);
        assert_eq!(stopped_at(&batch), Some(2));
    }

    #[test]
    fn a_passed_barrier_is_not_a_stop() {
        let mut ok = ScrubVec::new(2, 0);
        ok.sv_ret = 0;
        ok.sv_flags = OFLAG_NO_REPAIR_NEEDED;
        let mut barrier = ScrubVec::barrier(OFLAG_CORRUPT);
        barrier.sv_ret = 0;
        assert_eq!(stopped_at(&[ok, barrier]), None);
        assert!(barrier.is_barrier() && !ok.is_barrier());
    }

    #[test]
    fn impossible_sv_ret_is_an_error_not_a_panic() {
        let mut v = ScrubVec::new(1, 0);
        v.sv_ret = i32::MIN;
        assert_eq!(v.result(), Some(Err(Errno::IO)));
        v.sv_ret = 7;
        assert_eq!(v.result(), Some(Err(Errno::IO)));
    }
}
