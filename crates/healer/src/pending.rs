//! A marker that repairs are queued or running, so that a healer killed in
//! the middle of its work (SIGKILL, OOM, a crash) is noticed by the next
//! one: the reports those repairs answered are gone from the kernel's
//! queue, and nothing would make the next healer repair that damage until
//! something touches it again. The next healer starts a full scan instead.
//!
//! The marker is `/run/xfs_healer/<fs uuid>.pending`, present exactly while
//! the engine has work; a healer that stops idle (unmount, SIGTERM between
//! repairs) leaves none, so routine restarts cost nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const RUN_DIR: &str = "/run/xfs_healer";

#[derive(Debug)]
pub struct PendingMarker {
    path: PathBuf,
    present: bool,
}

impl PendingMarker {
    /// The marker for the filesystem with this UUID, under `dir`; also says
    /// whether a previous healer left it behind.
    pub fn open(dir: &Path, uuid: &[u8; 16]) -> (PendingMarker, bool) {
        let mut name = String::with_capacity(40);
        for byte in uuid {
            let _ = write!(name, "{byte:02x}");
        }
        name.push_str(".pending");
        let path = dir.join(name);
        let left_behind = path.exists();
        (PendingMarker { path, present: left_behind }, left_behind)
    }

    /// Records whether work is queued or running (best effort: a read-only
    /// /run costs only the crash detection).
    pub fn set(&mut self, busy: bool) {
        if busy == self.present {
            return;
        }
        self.present = busy;
        if busy {
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(&self.path, format!("{}\n", std::process::id()));
        } else {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_only_while_busy_and_seen_by_the_next_run() {
        let dir = std::env::temp_dir().join(format!("xfs-healer-pending-{}", std::process::id()));
        let uuid = [0xab; 16];
        let (mut marker, left) = PendingMarker::open(&dir, &uuid);
        assert!(!left);
        marker.set(true);
        assert!(dir.join(format!("{}.pending", "ab".repeat(16))).exists());
        // Killed here: the next healer finds the marker.
        let (mut next, left) = PendingMarker::open(&dir, &uuid);
        assert!(left);
        next.set(false);
        let (_, left) = PendingMarker::open(&dir, &uuid);
        assert!(!left, "an idle healer leaves no marker");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
