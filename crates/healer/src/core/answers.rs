//! What the workers answer, as the core takes it: an inode's paths (or
//! why it has none), a media range's owners, a repair's words.

use xfs_abi::Errno;
use xfs_policy::media::Damage;
use xfs_report::RepairOutcome;

/// Most paths listed for one inode (one per hard link).
pub const MAX_LINKS: usize = 8;

/// Why an inode has no path; each is said once per run, after which the
/// reference's `ino N gen 0xG` form stands alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoPath {
    /// The filesystem has no parent pointers (mkfs -n parent=0).
    NoParentPointers,
    /// The monitored filesystem cannot be reached by any mount path.
    Unreachable,
    /// The inode was freed or reused (stale handle) or has no links.
    Gone,
    /// A directory loop, more than 256 levels, or longer than PATH_MAX.
    TooDeep,
    /// The kernel refused the lookup for another reason.
    Failed(Errno),
}

impl NoPath {
    pub fn why(self) -> String {
        match self {
            NoPath::NoParentPointers => "the filesystem has no parent pointers".into(),
            NoPath::Unreachable => "the filesystem is not reachable through its mount path".into(),
            NoPath::Gone => "the file was deleted".into(),
            NoPath::TooDeep => "the path loops or is too deep or too long".into(),
            NoPath::Failed(e) => format!("parent pointer lookup failed: {}", xfs_abi::strerror(e)),
        }
    }
}

/// What the failed range holds, and how many more mappings there were.
#[derive(Debug)]
pub struct Owners {
    pub damages: Vec<Damage>,
    pub more: usize,
}

/// The outcome sentence printed after `<prefix> <struct>: `.
#[derive(Debug, Clone)]
pub enum RepairText {
    /// One of the reference's four sentences.
    Reference(RepairOutcome),
    /// Our own, for kernel answers the reference lumps together.
    Other(String),
    /// About the filesystem, not the object: printed as `<mnt>: <text>`.
    Filesystem(String),
}
