//! A marker that repairs are queued or running, so that a healer killed in
//! the middle of its work (SIGKILL, OOM, a crash) is noticed by the next
//! one: the reports those repairs answered are gone from the kernel's
//! queue, and nothing would make the next healer repair that damage until
//! something touches it again. The next healer starts a full scan instead.
//!
//! The marker is `/run/xfs_healer/<fs uuid>-<major>-<minor>.pending`, present exactly while
//! the engine has work; a healer that stops idle (unmount, SIGTERM between
//! repairs) leaves none, so routine restarts cost nothing.

use crate::statedir::{StateDir, StateDirError};

pub const RUN_DIR: &str = "/run/xfs_healer";
/// `/run/xfs_healer` itself: searchable by all, so an API group can reach
/// its socket (each file keeps its own mode).
pub const RUN_DIR_MODE: u32 = 0o755;

#[derive(Debug)]
pub struct PendingMarker {
    dir: Option<StateDir>,
    name: String,
    present: bool,
}

impl PendingMarker {
    /// The marker for the filesystem with this file key
    /// ([`crate::statedir::FsId::file_key`]), in `dir` (the run directory
    /// as the lock's caller opened it, or why it could not); also says
    /// whether a previous healer left it behind. A directory that cannot
    /// be used (said by the caller) costs only the crash detection.
    pub fn open(
        dir: Result<StateDir, StateDirError>,
        key: &str,
    ) -> (PendingMarker, bool, Option<StateDirError>) {
        let name = format!("{key}.pending");
        let (dir, refused) = match dir {
            Ok(dir) => (Some(dir), None),
            Err(e) => (None, Some(e)),
        };
        let left_behind = dir.as_ref().is_some_and(|d| d.exists(&name));
        (
            PendingMarker {
                dir,
                name,
                present: left_behind,
            },
            left_behind,
            refused,
        )
    }

    /// Records whether work is queued or running (best effort, see `open`).
    pub fn set(&mut self, busy: bool) {
        if busy == self.present {
            return;
        }
        self.present = busy;
        let Some(dir) = &self.dir else { return };
        let _ = if busy {
            dir.replace(
                &self.name,
                format!("{}\n", std::process::id()).as_bytes(),
                0o644,
            )
        } else {
            dir.remove(&self.name)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn open(dir: &Path, key: &str) -> (PendingMarker, bool, Option<StateDirError>) {
        PendingMarker::open(StateDir::open(dir, Some(RUN_DIR_MODE)), key)
    }

    #[test]
    fn present_only_while_busy_and_seen_by_the_next_run() {
        let dir = std::env::temp_dir().join(format!("xfs-healer-pending-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut marker, left, refused) = open(&dir, "fs-8-0");
        assert!(!left && refused.is_none(), "{refused:?}");
        marker.set(true);
        assert!(dir.join("fs-8-0.pending").exists());
        // A clone of the filesystem (same UUID, another device) has its own.
        let (_, clone_left, _) = open(&dir, "fs-8-16");
        assert!(!clone_left, "a clone took the marker as its own");
        // Killed here: the next healer finds the marker.
        let (mut next, left, _) = open(&dir, "fs-8-0");
        assert!(left);
        next.set(false);
        let (_, left, _) = open(&dir, "fs-8-0");
        assert!(!left, "an idle healer leaves no marker");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_link_planted_as_the_marker_is_not_followed() {
        let dir =
            std::env::temp_dir().join(format!("xfs-healer-pending-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep\n").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("fs-8-0.pending")).unwrap();
        let (mut marker, left, _) = open(&dir, "fs-8-0");
        assert!(left);
        marker.set(false);
        marker.set(true);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
