//! Compares our `#[repr(C)]` mirrors and ioctl numbers with the real
//! `xfs/xfs_fs.h` of Debian sid's xfslibs-dev 7.2: compiles a C program that
//! prints sizes, offsets and numbers, and checks every one. Run by
//! `cargo xtask test` with `XFS_INCLUDE_DIR` pointing at the unpacked
//! headers (hence ignored in a plain `cargo test`).

use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use xfs_abi::fsmap::{Fsmap, FsmapHead};
use xfs_abi::geometry::FsGeometry;
use xfs_abi::handle::{FsopHandlereq, XfsHandle};
use xfs_abi::healthmon::{HealthFileOnMonitoredFs, HealthMonitor, HealthMonitorEvent};
use xfs_abi::parents::{GetParents, GetParentsByHandle};
use xfs_abi::scrub::ScrubMetadata;
use xfs_abi::verify_media::VerifyMedia;

/// A request number as the C program prints it.
// `Opcode` is a c_uint with rustix's raw backend and a c_ulong where it
// goes through libc (s390x, powerpc64), so on some targets this is u64 to
// u64.
#[allow(clippy::useless_conversion)]
fn wide(request: xfs_abi::ioc::Opcode) -> u64 {
    u64::from(request)
}

/// (C expression, our value)
fn expectations() -> Vec<(&'static str, u64)> {
    macro_rules! size {
        ($c:literal, $t:ty) => {
            (concat!("sizeof(", $c, ")"), size_of::<$t>() as u64)
        };
    }
    macro_rules! off {
        ($c:literal, $t:ty, $cf:literal, $f:ident) => {
            (
                concat!("offsetof(", $c, ", ", $cf, ")"),
                offset_of!($t, $f) as u64,
            )
        };
    }
    vec![
        size!("struct xfs_health_monitor", HealthMonitor),
        off!("struct xfs_health_monitor", HealthMonitor, "format", format),
        off!("struct xfs_health_monitor", HealthMonitor, "pad", pad),
        size!(
            "struct xfs_health_file_on_monitored_fs",
            HealthFileOnMonitoredFs
        ),
        off!(
            "struct xfs_health_file_on_monitored_fs",
            HealthFileOnMonitoredFs,
            "flags",
            flags
        ),
        size!("struct xfs_health_monitor_event", HealthMonitorEvent),
        off!(
            "struct xfs_health_monitor_event",
            HealthMonitorEvent,
            "type",
            type_
        ),
        off!(
            "struct xfs_health_monitor_event",
            HealthMonitorEvent,
            "time_ns",
            time_ns
        ),
        off!(
            "struct xfs_health_monitor_event",
            HealthMonitorEvent,
            "e",
            e
        ),
        off!(
            "struct xfs_health_monitor_event",
            HealthMonitorEvent,
            "pad",
            pad
        ),
        ("offsetof(struct xfs_health_monitor_event, e.inode.ino)", 24),
        ("offsetof(struct xfs_health_monitor_event, e.inode.gen)", 20),
        ("offsetof(struct xfs_health_monitor_event, e.group.gno)", 20),
        (
            "offsetof(struct xfs_health_monitor_event, e.media.bbcount)",
            24,
        ),
        (
            "offsetof(struct xfs_health_monitor_event, e.filerange.ino)",
            32,
        ),
        (
            "offsetof(struct xfs_health_monitor_event, e.filerange.gen)",
            40,
        ),
        (
            "offsetof(struct xfs_health_monitor_event, e.filerange.error)",
            44,
        ),
        size!("struct xfs_scrub_metadata", ScrubMetadata),
        off!("struct xfs_scrub_metadata", ScrubMetadata, "sm_ino", sm_ino),
        off!("struct xfs_scrub_metadata", ScrubMetadata, "sm_gen", sm_gen),
        off!(
            "struct xfs_scrub_metadata",
            ScrubMetadata,
            "sm_agno",
            sm_agno
        ),
        off!(
            "struct xfs_scrub_metadata",
            ScrubMetadata,
            "sm_reserved",
            sm_reserved
        ),
        size!("struct xfs_fsop_geom", FsGeometry),
        off!("struct xfs_fsop_geom", FsGeometry, "uuid", uuid),
        off!("struct xfs_fsop_geom", FsGeometry, "flags", flags),
        off!("struct xfs_fsop_geom", FsGeometry, "sick", sick),
        off!("struct xfs_fsop_geom", FsGeometry, "checked", checked),
        off!("struct xfs_fsop_geom", FsGeometry, "rgcount", rgcount),
        off!("struct xfs_fsop_geom", FsGeometry, "rtstart", rtstart),
        off!("struct xfs_fsop_geom", FsGeometry, "reserved", reserved),
        size!("xfs_handle_t", XfsHandle),
        size!("struct xfs_fsop_handlereq", FsopHandlereq),
        off!(
            "struct xfs_fsop_handlereq",
            FsopHandlereq,
            "ohandlen",
            ohandlen
        ),
        size!("struct xfs_getparents", GetParents),
        off!(
            "struct xfs_getparents",
            GetParents,
            "gp_bufsize",
            gp_bufsize
        ),
        off!("struct xfs_getparents", GetParents, "gp_buffer", gp_buffer),
        size!("struct xfs_getparents_by_handle", GetParentsByHandle),
        ("sizeof(struct xfs_getparents_rec)", 32),
        (
            "XFS_IOC_HEALTH_MONITOR",
            wide(xfs_abi::healthmon::XFS_IOC_HEALTH_MONITOR),
        ),
        (
            "XFS_IOC_HEALTH_FD_ON_MONITORED_FS",
            wide(xfs_abi::healthmon::XFS_IOC_HEALTH_FD_ON_MONITORED_FS),
        ),
        (
            "XFS_IOC_SCRUB_METADATA",
            wide(xfs_abi::scrub::XFS_IOC_SCRUB_METADATA),
        ),
        (
            "XFS_IOC_FSGEOMETRY",
            wide(xfs_abi::geometry::XFS_IOC_FSGEOMETRY),
        ),
        (
            "XFS_IOC_FSGEOMETRY_V4",
            wide(xfs_abi::geometry::XFS_IOC_FSGEOMETRY_V4),
        ),
        (
            "XFS_IOC_FSGEOMETRY_V1",
            wide(xfs_abi::geometry::XFS_IOC_FSGEOMETRY_V1),
        ),
        (
            "XFS_IOC_FD_TO_HANDLE",
            wide(xfs_abi::handle::XFS_IOC_FD_TO_HANDLE),
        ),
        (
            "XFS_IOC_GETPARENTS_BY_HANDLE",
            wide(xfs_abi::parents::XFS_IOC_GETPARENTS_BY_HANDLE),
        ),
        (
            "XFS_FSOP_GEOM_FLAGS_RMAPBT",
            u64::from(xfs_abi::geometry::FLAGS_RMAPBT),
        ),
        (
            "XFS_FSOP_GEOM_FLAGS_PARENT",
            u64::from(xfs_abi::geometry::FLAGS_PARENT),
        ),
        (
            "XFS_SCRUB_IFLAG_REPAIR",
            u64::from(xfs_abi::scrub::IFLAG_REPAIR),
        ),
        (
            "XFS_SCRUB_OFLAG_NO_REPAIR_NEEDED",
            u64::from(xfs_abi::scrub::OFLAG_NO_REPAIR_NEEDED),
        ),
        (
            "XFS_SCRUB_TYPE_NR",
            u64::from(xfs_abi::scrub::SCRUB_TYPE_NR),
        ),
        (
            "XFS_GETPARENTS_OFLAG_ROOT",
            u64::from(xfs_abi::parents::GP_OFLAGS_ROOT),
        ),
        (
            "XFS_HEALTH_MONITOR_VERBOSE",
            xfs_abi::healthmon::HEALTH_MONITOR_VERBOSE,
        ),
        // FS_IOC_GETFSMAP (<linux/fsmap.h>; XFS owners from xfs_fs.h)
        size!("struct fsmap", Fsmap),
        off!("struct fsmap", Fsmap, "fmr_flags", fmr_flags),
        off!("struct fsmap", Fsmap, "fmr_physical", fmr_physical),
        off!("struct fsmap", Fsmap, "fmr_owner", fmr_owner),
        off!("struct fsmap", Fsmap, "fmr_offset", fmr_offset),
        off!("struct fsmap", Fsmap, "fmr_length", fmr_length),
        off!("struct fsmap", Fsmap, "fmr_reserved", fmr_reserved),
        size!("struct fsmap_head", FsmapHead),
        off!("struct fsmap_head", FsmapHead, "fmh_oflags", fmh_oflags),
        off!("struct fsmap_head", FsmapHead, "fmh_count", fmh_count),
        off!("struct fsmap_head", FsmapHead, "fmh_entries", fmh_entries),
        off!("struct fsmap_head", FsmapHead, "fmh_reserved", fmh_reserved),
        off!("struct fsmap_head", FsmapHead, "fmh_keys", fmh_keys),
        (
            "offsetof(struct fsmap_head, fmh_recs)",
            size_of::<FsmapHead>() as u64,
        ),
        ("FS_IOC_GETFSMAP", wide(xfs_abi::fsmap::FS_IOC_GETFSMAP)),
        ("FMH_OF_DEV_T", u64::from(xfs_abi::fsmap::FMH_OF_DEV_T)),
        (
            "FMR_OF_PREALLOC",
            u64::from(xfs_abi::fsmap::FMR_OF_PREALLOC),
        ),
        (
            "FMR_OF_ATTR_FORK",
            u64::from(xfs_abi::fsmap::FMR_OF_ATTR_FORK),
        ),
        (
            "FMR_OF_EXTENT_MAP",
            u64::from(xfs_abi::fsmap::FMR_OF_EXTENT_MAP),
        ),
        ("FMR_OF_SHARED", u64::from(xfs_abi::fsmap::FMR_OF_SHARED)),
        (
            "FMR_OF_SPECIAL_OWNER",
            u64::from(xfs_abi::fsmap::FMR_OF_SPECIAL_OWNER),
        ),
        ("FMR_OF_LAST", u64::from(xfs_abi::fsmap::FMR_OF_LAST)),
        ("XFS_FMR_OWN_FREE", xfs_abi::fsmap::FMR_OWN_FREE),
        ("XFS_FMR_OWN_UNKNOWN", xfs_abi::fsmap::FMR_OWN_UNKNOWN),
        ("FMR_OWN_METADATA", xfs_abi::fsmap::FMR_OWN_METADATA),
        ("XFS_FMR_OWN_FS", xfs_abi::fsmap::XFS_FMR_OWN_FS),
        ("XFS_FMR_OWN_LOG", xfs_abi::fsmap::XFS_FMR_OWN_LOG),
        ("XFS_FMR_OWN_AG", xfs_abi::fsmap::XFS_FMR_OWN_AG),
        ("XFS_FMR_OWN_INOBT", xfs_abi::fsmap::XFS_FMR_OWN_INOBT),
        ("XFS_FMR_OWN_INODES", xfs_abi::fsmap::XFS_FMR_OWN_INODES),
        ("XFS_FMR_OWN_REFC", xfs_abi::fsmap::XFS_FMR_OWN_REFC),
        ("XFS_FMR_OWN_COW", xfs_abi::fsmap::XFS_FMR_OWN_COW),
        (
            "XFS_FMR_OWN_DEFECTIVE",
            xfs_abi::fsmap::XFS_FMR_OWN_DEFECTIVE,
        ),
        // XFS_IOC_VERIFY_MEDIA
        size!("struct xfs_verify_media", VerifyMedia),
        off!("struct xfs_verify_media", VerifyMedia, "me_flags", me_flags),
        off!(
            "struct xfs_verify_media",
            VerifyMedia,
            "me_start_daddr",
            me_start_daddr
        ),
        off!(
            "struct xfs_verify_media",
            VerifyMedia,
            "me_end_daddr",
            me_end_daddr
        ),
        off!(
            "struct xfs_verify_media",
            VerifyMedia,
            "me_ioerror",
            me_ioerror
        ),
        off!(
            "struct xfs_verify_media",
            VerifyMedia,
            "me_max_io_size",
            me_max_io_size
        ),
        off!(
            "struct xfs_verify_media",
            VerifyMedia,
            "me_rest_us",
            me_rest_us
        ),
        off!("struct xfs_verify_media", VerifyMedia, "me_pad", me_pad),
        (
            "XFS_IOC_VERIFY_MEDIA",
            wide(xfs_abi::verify_media::XFS_IOC_VERIFY_MEDIA),
        ),
        (
            "XFS_VERIFY_MEDIA_REPORT",
            u64::from(xfs_abi::verify_media::VERIFY_MEDIA_REPORT),
        ),
        (
            "XFS_DEV_DATA",
            u64::from(xfs_abi::verify_media::XFS_DEV_DATA),
        ),
        ("XFS_DEV_LOG", u64::from(xfs_abi::verify_media::XFS_DEV_LOG)),
        ("XFS_DEV_RT", u64::from(xfs_abi::verify_media::XFS_DEV_RT)),
    ]
}

#[test]
#[ignore = "needs XFS_INCLUDE_DIR (run by `cargo xtask test`)"]
fn layouts_match_the_c_header() {
    let include = std::env::var("XFS_INCLUDE_DIR")
        .expect("set XFS_INCLUDE_DIR to a directory holding xfs/xfs_fs.h");
    let expectations = expectations();
    let mut program = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <xfs/xfs.h>\n#include <linux/fsmap.h>\nint main(void) {\n",
    );
    for (expr, _) in &expectations {
        writeln!(
            program,
            "    printf(\"%llu\\n\", (unsigned long long)({expr}));"
        )
        .unwrap();
    }
    program.push_str("    return 0;\n}\n");
    let dir = std::env::temp_dir().join(format!("xfs-abi-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("layout.c");
    let binary = dir.join("layout");
    std::fs::write(&source, &program).unwrap();
    let cc = std::process::Command::new("cc")
        .arg(format!("-I{include}"))
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("running cc");
    assert!(
        cc.status.success(),
        "compiling against {include}/xfs/xfs.h failed:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = std::process::Command::new(&binary).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let values: Vec<u64> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(values.len(), expectations.len());
    let mismatches: Vec<String> = expectations
        .iter()
        .zip(&values)
        .filter(|((_, ours), c)| c != &ours)
        .map(|((expr, ours), c)| format!("{expr}: C says {c:#x}, we say {ours:#x}"))
        .collect();
    assert!(
        mismatches.is_empty(),
        "layout mismatches:\n{}",
        mismatches.join("\n")
    );
}
