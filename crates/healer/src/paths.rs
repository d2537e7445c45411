//! Inode number to path, through the filesystem's parent pointers, walking
//! up to the root directory. Every lookup reopens the mount and proves it
//! is still the monitored filesystem first (the reference skips that check
//! for lookups and can print a path from a different filesystem).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use xfs_abi::handle::XfsHandle;
use xfs_abi::parents;
use xfs_abi::{Errno, healthmon};
use xfs_healer::core::NoPath;

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

fn no_path(e: Errno) -> NoPath {
    match e {
        Errno::STALE | Errno::NOENT => NoPath::Gone,
        e => NoPath::Failed(e),
    }
}

/// The names from the root down to the directory `dir` (whose own parent
/// chain is single: directories have one link).
fn dir_components(
    mount_fd: BorrowedFd<'_>,
    dir: XfsHandle,
    seen: &mut Vec<u64>,
    buf: &mut [u8],
) -> Result<Vec<Vec<u8>>, NoPath> {
    let mut components: Vec<Vec<u8>> = Vec::new();
    let mut current = dir;
    loop {
        if seen.contains(&current.fid_ino) || components.len() > MAX_DEPTH {
            return Err(NoPath::TooDeep);
        }
        seen.push(current.fid_ino);
        let mut cursor = [0u8; 16];
        let oflags =
            parents::getparents_by_handle(mount_fd, &current, &mut cursor, buf).map_err(no_path)?;
        if oflags & parents::GP_OFLAGS_ROOT != 0 {
            break;
        }
        let record = parents::records(buf).next().ok_or(NoPath::Gone)?;
        components.push(record.name.to_vec());
        current = record.parent;
    }
    components.reverse();
    Ok(components)
}

fn join(prefix: &[u8], components: &[Vec<u8>]) -> Result<Vec<u8>, NoPath> {
    let trimmed = match prefix.iter().rposition(|&b| b != b'/') {
        Some(end) => &prefix[..=end],
        None => &prefix[..0],
    };
    let mut path = trimmed.to_vec();
    for name in components {
        path.push(b'/');
        path.extend_from_slice(name);
    }
    if path.is_empty() {
        path.push(b'/');
    }
    if path.len() > MAX_PATH {
        return Err(NoPath::TooDeep);
    }
    Ok(path)
}

/// The paths of inode `ino`/`generation`, one per hard link (at most
/// `max_links`, in the kernel's order): `prefix` followed by `/name` per
/// level. Resolved afresh every time, so a rename is never missed.
fn resolve(
    mount_fd: BorrowedFd<'_>,
    root: &XfsHandle,
    prefix: &[u8],
    ino: u64,
    generation: u32,
    max_links: usize,
) -> Result<Vec<Vec<u8>>, NoPath> {
    let handle = root.with_inode(ino, generation);
    let mut buf = vec![0u8; 4096];
    let mut cursor = [0u8; 16];
    let oflags =
        parents::getparents_by_handle(mount_fd, &handle, &mut cursor, &mut buf).map_err(no_path)?;
    if oflags & parents::GP_OFLAGS_ROOT != 0 {
        return Ok(vec![join(prefix, &[])?]);
    }
    let links: Vec<(XfsHandle, Vec<u8>)> = parents::records(&buf)
        .take(max_links)
        .map(|r| (r.parent, r.name.to_vec()))
        .collect();
    if links.is_empty() {
        return Err(NoPath::Gone);
    }
    let mut paths = Vec::with_capacity(links.len());
    for (parent, name) in links {
        let mut components = dir_components(mount_fd, parent, &mut vec![ino], &mut buf)?;
        components.push(name);
        paths.push(join(prefix, &components)?);
    }
    Ok(paths)
}

/// Opens `path` if it is the monitored filesystem: the kernel's check on
/// the monitor fd (same superblock) and, when known, the same root handle.
fn open_verified(
    path: &Path,
    monitor: BorrowedFd<'_>,
    root: Option<&XfsHandle>,
) -> Result<OwnedFd, Errno> {
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
    whole_xfs_mounts()
        .into_iter()
        .filter(|p| p.as_slice() != mount_path.as_os_str().as_bytes())
        .find_map(|p| {
            let fd =
                open_verified(Path::new(std::ffi::OsStr::from_bytes(&p)), monitor, root).ok()?;
            Some((fd, Some(p)))
        })
        .ok_or(first)
}

/// Mount ids asked of `listmount` at a time.
const LIST_BATCH: usize = 64;

/// Mount points of every XFS mounted at its filesystem's root in our mount
/// namespace, oldest first (`listmount` and `statmount`, as the launcher
/// finds mounts): the places a moved or hidden filesystem may still be
/// reached. The caller proves which one is the monitored filesystem. A
/// mount that goes away meanwhile is skipped; a failed listing ends the
/// list, which leaves the mount path's own error to report.
fn whole_xfs_mounts() -> Vec<Vec<u8>> {
    use xfs_abi::mount::{listmount, statmount};
    let mut found = Vec::new();
    let mut after = 0;
    loop {
        let mut ids = [0u64; LIST_BATCH];
        let Ok(n) = listmount(None, after, &mut ids) else {
            return found;
        };
        found.extend(
            ids[..n]
                .iter()
                .filter_map(|&id| statmount(None, id).ok())
                .filter(is_whole_xfs)
                .map(|m| m.mnt_point),
        );
        if n < LIST_BATCH {
            return found;
        }
        after = ids[n - 1];
    }
}

/// An XFS mounted at its root, not a bind mount of a directory inside it.
fn is_whole_xfs(mount: &xfs_abi::mount::MountInfo) -> bool {
    mount.fs_type == b"xfs" && mount.mnt_root == b"/"
}

/// Convenience: reopen + resolve, for callers without an open mount. The
/// paths start with `prefix`, or with the other mount point the filesystem
/// was found at.
pub fn lookup(
    mount_path: &Path,
    monitor: BorrowedFd<'_>,
    root: &XfsHandle,
    prefix: &[u8],
    ino: u64,
    generation: u32,
    max_links: usize,
) -> Result<Vec<Vec<u8>>, NoPath> {
    let (fd, elsewhere) =
        open_monitored(mount_path, monitor, Some(root)).map_err(|_| NoPath::Unreachable)?;
    resolve(
        fd.as_fd(),
        root,
        elsewhere.as_deref().unwrap_or(prefix),
        ino,
        generation,
        max_links,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_joined_under_the_prefix() {
        let names = [b"dir".to_vec(), b"a\nb".to_vec()];
        assert_eq!(join(b"/mnt/", &names).unwrap(), b"/mnt/dir/a\nb");
        assert_eq!(join(b"/mnt", &[]).unwrap(), b"/mnt");
        assert_eq!(join(b"/", &[]).unwrap(), b"/");
        assert_eq!(join(b"///", &names[..1]).unwrap(), b"/dir");
        assert_eq!(join(b"/mnt", &[vec![b'x'; MAX_PATH]]), Err(NoPath::TooDeep));
    }

    #[test]
    fn only_whole_xfs_mounts_are_places_to_reopen() {
        let mount = |fs_type: &[u8], root: &[u8]| xfs_abi::mount::MountInfo {
            mnt_id: 1,
            dev: (253, 0),
            fs_type: fs_type.to_vec(),
            mnt_point: b"/mnt/orig".to_vec(),
            mnt_root: root.to_vec(),
        };
        assert!(is_whole_xfs(&mount(b"xfs", b"/")));
        assert!(!is_whole_xfs(&mount(b"xfs", b"/sub")));
        assert!(!is_whole_xfs(&mount(b"tmpfs", b"/")));
        assert!(!is_whole_xfs(&mount(b"xfs2", b"/")));
    }

    #[test]
    fn lookup_errors_say_why() {
        assert_eq!(no_path(Errno::STALE), NoPath::Gone);
        assert_eq!(no_path(Errno::NOENT), NoPath::Gone);
        assert_eq!(no_path(Errno::NOMEM), NoPath::Failed(Errno::NOMEM));
        assert_eq!(
            NoPath::NoParentPointers.why(),
            "the filesystem has no parent pointers"
        );
        assert!(
            NoPath::Failed(Errno::NOMEM)
                .why()
                .starts_with("parent pointer lookup failed: ")
        );
    }
}
