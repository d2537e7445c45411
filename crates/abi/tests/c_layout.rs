//! Compares our `#[repr(C)]` mirrors and ioctl numbers with the real
//! `xfs/xfs_fs.h` of Debian sid's xfslibs-dev 7.2: compiles a C program that
//! prints sizes, offsets and numbers, and checks every one. Run by
//! `cargo xtask test` with `XFS_INCLUDE_DIR` pointing at the unpacked
//! headers (hence ignored in a plain `cargo test`).

use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use xfs_abi::bulkstat::{BulkIreq, Bulkstat, BulkstatSingleReq};
use xfs_abi::fsmap::{Fsmap, FsmapHead};
use xfs_abi::fsuuid::FsUuid2;
use xfs_abi::geometry::FsGeometry;
use xfs_abi::group_geometry::{AgGeometry, RtgroupGeometry};
use xfs_abi::handle::{FsopHandlereq, XfsHandle};
use xfs_abi::healthmon::{HealthFileOnMonitoredFs, HealthMonitor, HealthMonitorEvent};
use xfs_abi::parents::{GetParents, GetParentsByHandle};
use xfs_abi::scrub::ScrubMetadata;
use xfs_abi::scrubv::{ScrubVec, ScrubVecHead};
use xfs_abi::verify_media::VerifyMedia;

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
            xfs_abi::healthmon::XFS_IOC_HEALTH_MONITOR,
        ),
        (
            "XFS_IOC_HEALTH_FD_ON_MONITORED_FS",
            xfs_abi::healthmon::XFS_IOC_HEALTH_FD_ON_MONITORED_FS,
        ),
        (
            "XFS_IOC_SCRUB_METADATA",
            xfs_abi::scrub::XFS_IOC_SCRUB_METADATA,
        ),
        ("XFS_IOC_FSGEOMETRY", xfs_abi::geometry::XFS_IOC_FSGEOMETRY),
        (
            "XFS_IOC_FSGEOMETRY_V4",
            xfs_abi::geometry::XFS_IOC_FSGEOMETRY_V4,
        ),
        (
            "XFS_IOC_FSGEOMETRY_V1",
            xfs_abi::geometry::XFS_IOC_FSGEOMETRY_V1,
        ),
        (
            "XFS_IOC_FD_TO_HANDLE",
            xfs_abi::handle::XFS_IOC_FD_TO_HANDLE,
        ),
        (
            "XFS_IOC_GETPARENTS_BY_HANDLE",
            xfs_abi::parents::XFS_IOC_GETPARENTS_BY_HANDLE,
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
        // XFS_IOC_SCRUBV_METADATA
        size!("struct xfs_scrub_vec", ScrubVec),
        off!("struct xfs_scrub_vec", ScrubVec, "sv_flags", sv_flags),
        off!("struct xfs_scrub_vec", ScrubVec, "sv_ret", sv_ret),
        off!("struct xfs_scrub_vec", ScrubVec, "sv_reserved", sv_reserved),
        size!("struct xfs_scrub_vec_head", ScrubVecHead),
        off!(
            "struct xfs_scrub_vec_head",
            ScrubVecHead,
            "svh_gen",
            svh_gen
        ),
        off!(
            "struct xfs_scrub_vec_head",
            ScrubVecHead,
            "svh_agno",
            svh_agno
        ),
        off!(
            "struct xfs_scrub_vec_head",
            ScrubVecHead,
            "svh_flags",
            svh_flags
        ),
        off!(
            "struct xfs_scrub_vec_head",
            ScrubVecHead,
            "svh_rest_us",
            svh_rest_us
        ),
        off!("struct xfs_scrub_vec_head", ScrubVecHead, "svh_nr", svh_nr),
        off!(
            "struct xfs_scrub_vec_head",
            ScrubVecHead,
            "svh_reserved",
            svh_reserved
        ),
        off!(
            "struct xfs_scrub_vec_head",
            ScrubVecHead,
            "svh_vectors",
            svh_vectors
        ),
        (
            "XFS_IOC_SCRUBV_METADATA",
            xfs_abi::scrubv::XFS_IOC_SCRUBV_METADATA,
        ),
        (
            "XFS_SCRUB_TYPE_BARRIER",
            u64::from(xfs_abi::scrubv::SCRUB_TYPE_BARRIER),
        ),
        (
            "XFS_SCRUB_FLAGS_OUT",
            u64::from(xfs_abi::scrubv::SCRUB_FLAGS_OUT),
        ),
        // XFS_IOC_AG_GEOMETRY / XFS_IOC_RTGROUP_GEOMETRY
        size!("struct xfs_ag_geometry", AgGeometry),
        off!("struct xfs_ag_geometry", AgGeometry, "ag_length", ag_length),
        off!(
            "struct xfs_ag_geometry",
            AgGeometry,
            "ag_freeblks",
            ag_freeblks
        ),
        off!("struct xfs_ag_geometry", AgGeometry, "ag_icount", ag_icount),
        off!("struct xfs_ag_geometry", AgGeometry, "ag_ifree", ag_ifree),
        off!("struct xfs_ag_geometry", AgGeometry, "ag_sick", ag_sick),
        off!(
            "struct xfs_ag_geometry",
            AgGeometry,
            "ag_checked",
            ag_checked
        ),
        off!("struct xfs_ag_geometry", AgGeometry, "ag_flags", ag_flags),
        off!(
            "struct xfs_ag_geometry",
            AgGeometry,
            "ag_reserved",
            ag_reserved
        ),
        size!("struct xfs_rtgroup_geometry", RtgroupGeometry),
        off!(
            "struct xfs_rtgroup_geometry",
            RtgroupGeometry,
            "rg_length",
            rg_length
        ),
        off!(
            "struct xfs_rtgroup_geometry",
            RtgroupGeometry,
            "rg_sick",
            rg_sick
        ),
        off!(
            "struct xfs_rtgroup_geometry",
            RtgroupGeometry,
            "rg_checked",
            rg_checked
        ),
        off!(
            "struct xfs_rtgroup_geometry",
            RtgroupGeometry,
            "rg_flags",
            rg_flags
        ),
        off!(
            "struct xfs_rtgroup_geometry",
            RtgroupGeometry,
            "rg_writepointer",
            rg_writepointer
        ),
        off!(
            "struct xfs_rtgroup_geometry",
            RtgroupGeometry,
            "rg_reserved",
            rg_reserved
        ),
        (
            "XFS_IOC_AG_GEOMETRY",
            xfs_abi::group_geometry::XFS_IOC_AG_GEOMETRY,
        ),
        (
            "XFS_IOC_RTGROUP_GEOMETRY",
            xfs_abi::group_geometry::XFS_IOC_RTGROUP_GEOMETRY,
        ),
        (
            "XFS_RTGROUP_GEOM_WRITEPOINTER",
            u64::from(xfs_abi::group_geometry::RTGROUP_GEOM_WRITEPOINTER),
        ),
        // Health masks
        (
            "XFS_FSOP_GEOM_SICK_METAPATH",
            u64::from(xfs_abi::health::FSOP_GEOM_SICK_METAPATH),
        ),
        (
            "XFS_FSOP_GEOM_SICK_QUOTACHECK",
            u64::from(xfs_abi::health::FSOP_GEOM_SICK_QUOTACHECK),
        ),
        (
            "XFS_AG_GEOM_SICK_SB",
            u64::from(xfs_abi::health::AG_GEOM_SICK_SB),
        ),
        (
            "XFS_AG_GEOM_SICK_REFCNTBT",
            u64::from(xfs_abi::health::AG_GEOM_SICK_REFCNTBT),
        ),
        (
            "XFS_AG_GEOM_SICK_INODES",
            u64::from(xfs_abi::health::AG_GEOM_SICK_INODES),
        ),
        (
            "XFS_RTGROUP_GEOM_SICK_SUPER",
            u64::from(xfs_abi::health::RTGROUP_GEOM_SICK_SUPER),
        ),
        (
            "XFS_RTGROUP_GEOM_SICK_REFCNTBT",
            u64::from(xfs_abi::health::RTGROUP_GEOM_SICK_REFCNTBT),
        ),
        (
            "XFS_BS_SICK_INODE",
            u64::from(xfs_abi::health::BS_SICK_INODE),
        ),
        ("XFS_BS_SICK_DIR", u64::from(xfs_abi::health::BS_SICK_DIR)),
        (
            "XFS_BS_SICK_DIRTREE",
            u64::from(xfs_abi::health::BS_SICK_DIRTREE),
        ),
        // XFS_IOC_BULKSTAT
        size!("struct xfs_bulk_ireq", BulkIreq),
        off!("struct xfs_bulk_ireq", BulkIreq, "flags", flags),
        off!("struct xfs_bulk_ireq", BulkIreq, "icount", icount),
        off!("struct xfs_bulk_ireq", BulkIreq, "ocount", ocount),
        off!("struct xfs_bulk_ireq", BulkIreq, "agno", agno),
        off!("struct xfs_bulk_ireq", BulkIreq, "reserved", reserved),
        size!("struct xfs_bulkstat", Bulkstat),
        off!("struct xfs_bulkstat", Bulkstat, "bs_size", bs_size),
        off!("struct xfs_bulkstat", Bulkstat, "bs_blocks", bs_blocks),
        off!("struct xfs_bulkstat", Bulkstat, "bs_xflags", bs_xflags),
        off!("struct xfs_bulkstat", Bulkstat, "bs_atime", bs_atime),
        off!("struct xfs_bulkstat", Bulkstat, "bs_btime", bs_btime),
        off!("struct xfs_bulkstat", Bulkstat, "bs_gen", bs_gen),
        off!(
            "struct xfs_bulkstat",
            Bulkstat,
            "bs_projectid",
            bs_projectid
        ),
        off!(
            "struct xfs_bulkstat",
            Bulkstat,
            "bs_atime_nsec",
            bs_atime_nsec
        ),
        off!(
            "struct xfs_bulkstat",
            Bulkstat,
            "bs_btime_nsec",
            bs_btime_nsec
        ),
        off!("struct xfs_bulkstat", Bulkstat, "bs_blksize", bs_blksize),
        off!(
            "struct xfs_bulkstat",
            Bulkstat,
            "bs_extsize_blks",
            bs_extsize_blks
        ),
        off!("struct xfs_bulkstat", Bulkstat, "bs_nlink", bs_nlink),
        off!("struct xfs_bulkstat", Bulkstat, "bs_aextents", bs_aextents),
        off!("struct xfs_bulkstat", Bulkstat, "bs_version", bs_version),
        off!("struct xfs_bulkstat", Bulkstat, "bs_forkoff", bs_forkoff),
        off!("struct xfs_bulkstat", Bulkstat, "bs_sick", bs_sick),
        off!("struct xfs_bulkstat", Bulkstat, "bs_checked", bs_checked),
        off!("struct xfs_bulkstat", Bulkstat, "bs_mode", bs_mode),
        off!("struct xfs_bulkstat", Bulkstat, "bs_pad2", bs_pad2),
        off!(
            "struct xfs_bulkstat",
            Bulkstat,
            "bs_extents64",
            bs_extents64
        ),
        off!("struct xfs_bulkstat", Bulkstat, "bs_pad", bs_pad),
        (
            "sizeof(struct xfs_bulkstat_req)",
            size_of::<BulkIreq>() as u64,
        ),
        off!(
            "struct xfs_bulkstat_req",
            BulkstatSingleReq,
            "bulkstat",
            bulkstat
        ),
        (
            "XFS_BULKSTAT_REQ_SIZE(1)",
            size_of::<BulkstatSingleReq>() as u64,
        ),
        ("XFS_IOC_BULKSTAT", xfs_abi::bulkstat::XFS_IOC_BULKSTAT),
        (
            "XFS_BULK_IREQ_AGNO",
            u64::from(xfs_abi::bulkstat::BULK_IREQ_AGNO),
        ),
        (
            "XFS_BULK_IREQ_SPECIAL",
            u64::from(xfs_abi::bulkstat::BULK_IREQ_SPECIAL),
        ),
        (
            "XFS_BULK_IREQ_NREXT64",
            u64::from(xfs_abi::bulkstat::BULK_IREQ_NREXT64),
        ),
        (
            "XFS_BULK_IREQ_METADIR",
            u64::from(xfs_abi::bulkstat::BULK_IREQ_METADIR),
        ),
        (
            "XFS_BULK_IREQ_SPECIAL_ROOT",
            xfs_abi::bulkstat::BULK_IREQ_SPECIAL_ROOT,
        ),
        (
            "XFS_BULKSTAT_VERSION_V5",
            u64::from(xfs_abi::bulkstat::BULKSTAT_VERSION_V5),
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
        ("FS_IOC_GETFSMAP", xfs_abi::fsmap::FS_IOC_GETFSMAP),
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
            xfs_abi::verify_media::XFS_IOC_VERIFY_MEDIA,
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

/// (guard macro, C expression, our value): checked only when the system's
/// <linux/fs.h> defines the guard. `struct fsuuid2` / `FS_IOC_GETFSUUID`
/// came with Linux 6.5 UAPI headers and are not in xfslibs-dev; older build
/// hosts (bookworm's 6.1 headers) skip them, and the compile-time
/// assertions in `src/fsuuid.rs` still pin them.
fn optional_expectations() -> Vec<(&'static str, &'static str, u64)> {
    vec![
        (
            "FS_IOC_GETFSUUID",
            "FS_IOC_GETFSUUID",
            xfs_abi::fsuuid::FS_IOC_GETFSUUID,
        ),
        (
            "FS_IOC_GETFSUUID",
            "sizeof(struct fsuuid2)",
            size_of::<FsUuid2>() as u64,
        ),
        (
            "FS_IOC_GETFSUUID",
            "offsetof(struct fsuuid2, uuid)",
            std::mem::offset_of!(FsUuid2, uuid) as u64,
        ),
    ]
}

#[test]
#[ignore = "needs XFS_INCLUDE_DIR (run by `cargo xtask test`)"]
fn layouts_match_the_c_header() {
    let include = std::env::var("XFS_INCLUDE_DIR")
        .expect("set XFS_INCLUDE_DIR to a directory holding xfs/xfs_fs.h");
    let mut expectations: Vec<(Option<&str>, &str, u64)> = expectations()
        .into_iter()
        .map(|(expr, ours)| (None, expr, ours))
        .collect();
    expectations.extend(
        optional_expectations()
            .into_iter()
            .map(|(guard, expr, ours)| (Some(guard), expr, ours)),
    );
    let mut program = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include <xfs/xfs.h>\n#include <linux/fsmap.h>\nint main(void) {\n",
    );
    for (guard, expr, _) in &expectations {
        let print = format!("    printf(\"%llu\\n\", (unsigned long long)({expr}));");
        match guard {
            None => writeln!(program, "{print}").unwrap(),
            Some(g) => writeln!(
                program,
                "#ifdef {g}\n{print}\n#else\n    printf(\"skip\\n\");\n#endif"
            )
            .unwrap(),
        }
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
    // None: the header lacks an optional item.
    let values: Vec<Option<u64>> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| (l != "skip").then(|| l.parse().unwrap()))
        .collect();
    assert_eq!(values.len(), expectations.len());
    for ((_, expr, _), c) in expectations.iter().zip(&values) {
        if c.is_none() {
            eprintln!("note: {expr} is not in the system headers; checked at compile time only");
        }
    }
    let mismatches: Vec<String> = expectations
        .iter()
        .zip(&values)
        .filter_map(|((_, expr, ours), c)| {
            c.filter(|c| c != ours)
                .map(|c| format!("{expr}: C says {c:#x}, we say {ours:#x}"))
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "layout mismatches:\n{}",
        mismatches.join("\n")
    );
}
