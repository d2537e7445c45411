//! `FS_IOC_GETFSUUID`: the filesystem's UUID through the generic VFS ioctl
//! (XFS publishes `sb_uuid`, the same value as the geometry's). A hint of
//! identity only: `nouuid` mounts can share a UUID, so the authoritative
//! same-filesystem test stays `XFS_IOC_HEALTH_FD_ON_MONITORED_FS`.

use crate::ioc::ior;
use crate::{Errno, ioctl};
use std::mem::{align_of, offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOR(0x15, 0, struct fsuuid2)`.
pub const FS_IOC_GETFSUUID: u64 = 0x8011_1500;

/// `struct fsuuid2` (17 bytes): length, then up to 16 UUID bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FsUuid2 {
    /// Bytes of `uuid` in use.
    pub len: u8,
    /// The UUID.
    pub uuid: [u8; 16],
}

const _: () = assert!(size_of::<FsUuid2>() == 17);
const _: () = assert!(align_of::<FsUuid2>() == 1);
const _: () = assert!(offset_of!(FsUuid2, uuid) == 1);
const _: () = assert!(FS_IOC_GETFSUUID == ior(0x15, 0, size_of::<FsUuid2>()));

impl FsUuid2 {
    /// The UUID bytes the kernel said are valid (never more than 16).
    pub fn bytes(&self) -> &[u8] {
        &self.uuid[..usize::from(self.len).min(self.uuid.len())]
    }
}

/// The UUID of the filesystem `fd` is on; ENOTTY on filesystems (or
/// kernels before 6.5) that do not publish one.
pub fn fs_uuid(fd: BorrowedFd<'_>) -> Result<FsUuid2, Errno> {
    let mut out = FsUuid2::default();
    // SAFETY: `out` is the 17-byte struct this _IOR request writes.
    unsafe { ioctl(fd, FS_IOC_GETFSUUID, std::ptr::from_mut(&mut out)) }?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_clamped_to_the_array() {
        let mut u = FsUuid2 {
            len: 16,
            uuid: [7; 16],
        };
        assert_eq!(u.bytes().len(), 16);
        u.len = 200;
        assert_eq!(u.bytes().len(), 16);
        u.len = 0;
        assert!(u.bytes().is_empty());
    }
}
