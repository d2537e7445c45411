//! The paths the latest inode reports were printed with, for the outcome
//! lines of the repairs those reports asked for. The reference prints a
//! repair's outcome with the path it already has; a second walk after the
//! repair costs the line a worker hand-off, a reopen of the mount and the
//! walk itself.

use std::collections::VecDeque;

/// Inodes remembered; a storm's later repairs look their paths up again.
const MAX_INODES: usize = 64;
/// A path older than this is looked up again: the file may have moved
/// while its repair waited (a storm's queue), and a walk proves the name.
const FRESH_MS: u64 = 10_000;

#[derive(Debug, Default)]
pub struct RecentPaths {
    /// ((ino, generation), when, path), oldest first.
    entries: VecDeque<((u64, u32), u64, Vec<u8>)>,
}

impl RecentPaths {
    pub fn remember(&mut self, inode: (u64, u32), now_ms: u64, path: &[u8]) {
        self.entries.retain(|(seen, ..)| *seen != inode);
        if self.entries.len() == MAX_INODES {
            self.entries.pop_front();
        }
        self.entries.push_back((inode, now_ms, path.to_vec()));
    }

    /// The inode's path if it was printed in the last [`FRESH_MS`].
    pub fn get(&self, inode: (u64, u32), now_ms: u64) -> Option<&[u8]> {
        self.entries
            .iter()
            .rev()
            .find(|(seen, when, _)| *seen == inode && now_ms.saturating_sub(*when) < FRESH_MS)
            .map(|(_, _, path)| path.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_kept_for_its_inode_and_generation_while_fresh() {
        let mut recent = RecentPaths::default();
        recent.remember((131, 7), 1_000, b"/mnt/a");
        assert_eq!(
            recent.get((131, 7), 1_000 + FRESH_MS - 1),
            Some(&b"/mnt/a"[..])
        );
        assert_eq!(recent.get((131, 7), 1_000 + FRESH_MS), None);
        assert_eq!(recent.get((131, 8), 1_000), None, "a reused inode number");
        recent.remember((131, 7), 2_000, b"/mnt/b");
        assert_eq!(recent.get((131, 7), 2_000), Some(&b"/mnt/b"[..]));
        assert_eq!(recent.entries.len(), 1);
    }

    #[test]
    fn the_oldest_inode_goes_first_when_full() {
        let mut recent = RecentPaths::default();
        for ino in 0..=MAX_INODES as u64 {
            recent.remember((ino, 0), ino, b"/p");
        }
        assert_eq!(recent.entries.len(), MAX_INODES);
        assert_eq!(recent.get((0, 0), MAX_INODES as u64), None);
        assert!(recent.get((1, 0), MAX_INODES as u64).is_some());
    }
}
