//! The wrappers on a file that is not on XFS (the host has none): each XFS
//! ioctl must come back as a typed errno, never a panic or a bogus success.
//! The generic VFS ioctl GETFSMAP may legitimately work on the host's
//! filesystem; for it only "typed result, terminates" is checked. Skipped if the temporary directory happens to be on XFS.

use std::fs::File;
use std::os::fd::AsFd;
use xfs_abi::Errno;

const XFS_SUPER_MAGIC: i64 = 0x5846_5342;

/// A scratch file in the temporary directory, or None if that is XFS.
fn scratch(name: &str) -> Option<(File, std::path::PathBuf)> {
    let path = std::env::temp_dir().join(format!("xfs-abi-non-xfs-{}-{name}", std::process::id()));
    let file = File::create(&path).expect("create a scratch file");
    let fs = rustix::fs::fstatfs(&file).expect("fstatfs");
    // f_type is a __fsword_t, whose width varies by architecture.
    #[allow(clippy::unnecessary_cast)]
    let f_type = fs.f_type as i64;
    if f_type == XFS_SUPER_MAGIC {
        eprintln!("skipped: {} is on XFS", path.display());
        let _ = std::fs::remove_file(&path);
        return None;
    }
    Some((file, path))
}

/// What a filesystem answers for an ioctl it does not implement.
fn is_not_supported<T: std::fmt::Debug>(r: &Result<T, Errno>) -> bool {
    matches!(r, Err(Errno::NOTTY | Errno::INVAL | Errno::OPNOTSUPP))
}

#[test]
fn xfs_ioctls_fail_typed_elsewhere() {
    let Some((file, path)) = scratch("xfs") else {
        return;
    };
    let fd = file.as_fd();

    let r = xfs_abi::geometry::fs_geometry(fd);
    assert!(is_not_supported(&r), "FSGEOMETRY: {r:?}");
    let r = xfs_abi::handle::fd_to_handle(fd);
    assert!(is_not_supported(&r), "FD_TO_HANDLE: {r:?}");
    let r = xfs_abi::healthmon::open_health_monitor(fd, false);
    assert!(is_not_supported(&r), "HEALTH_MONITOR: {r:?}");

    let mut sm = xfs_abi::scrub::ScrubMetadata {
        sm_type: xfs_abi::scrub::SCRUB_TYPE_PROBE,
        ..Default::default()
    };
    let before = sm;
    let r = xfs_abi::scrub::scrub_metadata(fd, &mut sm);
    assert!(is_not_supported(&r), "SCRUB_METADATA: {r:?}");
    assert_eq!(sm, before);

    let mut req =
        xfs_abi::verify_media::VerifyMedia::new(xfs_abi::verify_media::XFS_DEV_DATA, 0, 8, false);
    let before = req;
    let r = xfs_abi::verify_media::verify_media(fd, &mut req);
    assert!(is_not_supported(&r), "VERIFY_MEDIA: {r:?}");
    assert_eq!(req, before);

    let _ = std::fs::remove_file(path);
}

#[test]
fn generic_ioctls_give_a_typed_answer() {
    let Some((file, path)) = scratch("vfs") else {
        return;
    };
    let fd = file.as_fd();

    // ext4 implements GETFSMAP; a whole-fs map can be long, so look at a
    // bounded prefix and only require that every item is typed.
    let mut pager = xfs_abi::fsmap::getfsmap(fd, xfs_abi::fsmap::keys_all());
    let mut records = 0;
    for item in pager.by_ref().take(5000) {
        match item {
            Ok(rec) => {
                records += 1;
                let _ = xfs_abi::fsmap::describe_owner(&rec);
            }
            Err(e) => {
                eprintln!("GETFSMAP: {e:?} after {records} records");
                break;
            }
        }
    }
    eprintln!(
        "GETFSMAP: {records} records in {} calls, oflags {:#x}",
        pager.calls(),
        pager.oflags()
    );
    assert!(pager.calls() >= 1);
    let _ = std::fs::remove_file(path);
}
