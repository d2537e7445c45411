//! Inode number to path, through the filesystem's parent pointers, walking
//! up to the root directory. Every lookup reopens the mount and proves it
//! is still the monitored filesystem first (the reference skips that check
//! for lookups and can print a path from a different filesystem).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use xfs_abi::handle::XfsHandle;
use xfs_abi::parents;
use xfs_abi::{Errno, healthmon};
use crate::mountinfo;

/// Most directory levels walked (the reference's cycle guard).
const MAX_DEPTH: usize = 256;
/// Longest path built (the kernel's PATH_MAX).
const MAX_PATH: usize = 4096;

/// Opens the mount path and checks with the kernel that it is the
/// filesystem the monitor watches (ESTALE if not).
fn reopen(mount_path: &Path, monitor: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let fd = rustix::fs::open(
        mount_path,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    healthmon::fd_on_monitored_fs(monitor, fd.as_fd())?;
    Ok(fd)
}

/// The path of inode `ino`/`generation`: `prefix` followed by `/name` per
/// level. None when it cannot be found (no parent pointers, inode gone,
/// loop, too deep or too long); the caller then prints `ino N gen 0xG`.
pub fn resolve(
    mount_fd: BorrowedFd<'_>,
    root: &XfsHandle,
    prefix: &[u8],
    ino: u64,
    generation: u32,
) -> Option<Vec<u8>> {
    let mut components: Vec<Vec<u8>> = Vec::new();
    let mut current = root.with_inode(ino, generation);
    let mut seen = vec![ino];
    let mut buf = vec![0u8; 4096];
    loop {
        let mut cursor = [0u8; 16];
        let oflags = parents::getparents_by_handle(mount_fd, &current, &mut cursor, &mut buf).ok()?;
        if oflags & parents::GP_OFLAGS_ROOT != 0 {
            break;
        }
        let record = parents::records(&buf).next()?;
        components.push(record.name.to_vec());
        current = record.parent;
        if seen.contains(&current.fid_ino) || components.len() > MAX_DEPTH {
            return None;
        }
        seen.push(current.fid_ino);
    }
    let trimmed = match prefix.iter().rposition(|&b| b != b'/') {
        Some(end) => &prefix[..=end],
        None => &prefix[..0],
    };
    let mut path = trimmed.to_vec();
    for name in components.iter().rev() {
        path.push(b'/');
        path.extend_from_slice(name);
    }
    if path.is_empty() {
        path.push(b'/');
    }
    (path.len() <= MAX_PATH).then_some(path)
}

/// Opens `path` if it is the monitored filesystem: the kernel's check on
/// the monitor fd (same superblock) and, when known, the same root handle.
fn open_verified(path: &Path, monitor: BorrowedFd<'_>, root: Option<&XfsHandle>) -> Result<OwnedFd, Errno> {
    let fd = reopen(path, monitor)?;
    if let Some(root) = root
        && xfs_abi::handle::fd_to_handle(fd.as_fd()).ok().as_ref() != Some(root)
    {
        return Err(Errno::STALE);
    }
    Ok(fd)
}

/// The monitored filesystem, opened afresh: by its mount path, or, when
/// that now leads elsewhere (overmounted, moved), by another place it is
/// mounted whole, as the reference also tries; that place is returned too.
/// Every candidate must pass [`open_verified`], so another filesystem is
/// never touched. The error is the mount path's own.
pub fn open_monitored(
    mount_path: &Path,
    monitor: BorrowedFd<'_>,
    root: Option<&XfsHandle>,
) -> Result<(OwnedFd, Option<Vec<u8>>), Errno> {
    use std::os::unix::ffi::OsStrExt;
    let first = match open_verified(mount_path, monitor, root) {
        Ok(fd) => return Ok((fd, None)),
        Err(e) => e,
    };
    let Ok(mountinfo) = std::fs::read("/proc/self/mountinfo") else { return Err(first) };
    mountinfo::whole_xfs_mounts(&mountinfo)
        .into_iter()
        .filter(|p| p.as_slice() != mount_path.as_os_str().as_bytes())
        .find_map(|p| {
            let fd = open_verified(Path::new(std::ffi::OsStr::from_bytes(&p)), monitor, root).ok()?;
            Some((fd, Some(p)))
        })
        .ok_or(first)
}

/// Convenience: reopen + resolve, for callers without an open mount. The
/// path starts with `prefix`, or with the other mount point the filesystem
/// was found at.
pub fn lookup(
    mount_path: &Path,
    monitor: BorrowedFd<'_>,
    root: &XfsHandle,
    prefix: &[u8],
    ino: u64,
    generation: u32,
) -> Option<Vec<u8>> {
    let (fd, elsewhere) = open_monitored(mount_path, monitor, Some(root)).ok()?;
    resolve(fd.as_fd(), root, elsewhere.as_deref().unwrap_or(prefix), ino, generation)
}
