//! The opt-in media patrol: a background thread that verifies the data
//! device through `XFS_IOC_VERIFY_MEDIA` at a limited rate, like md's
//! `check` or a ZFS scrub. Failures it finds are reported by the kernel to
//! the health monitor and handled like any other media error (see
//! `media.rs`). The walk (`xfs_policy::patrol`) is pure; this is the I/O,
//! the pacing and the cursor file that lets a pass resume after a restart.

use crate::output::{err, out};
use crate::paths;
use crate::statedir::{StateDir, StateDirError};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use xfs_abi::handle::XfsHandle;
use xfs_abi::verify_media::{self, VerifyMedia};
use xfs_healer::config::PatrolSettings;
use xfs_policy::patrol::Walk;

/// Sectors per call: 8 MiB, so the filesystem is held open only briefly
/// (an unmount meanwhile would see EBUSY).
const CHUNK_SECTORS: u64 = 16_384;
/// How long a failed call waits for a stop before it is said: the
/// healer stops the patrol at the unmount event, which follows the
/// unmount that failed the call by milliseconds.
const UNMOUNT_GRACE: Duration = Duration::from_secs(2);
/// The cursor is saved this often (and when the patrol stops): a healer
/// killed outright redoes at most this much of the pass.
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// What the patrol needs of the filesystem.
#[derive(Debug)]
pub struct Target {
    pub mnt: String,
    pub mount_path: PathBuf,
    pub monitor: Arc<OwnedFd>,
    pub root: Option<XfsHandle>,
    /// Names the cursor file ([`crate::statedir::FsId::file_key`]).
    pub file_key: String,
    pub data_sectors: u64,
    pub block_sectors: u64,
}

/// The saved state: where the current pass stands, the failing blocks it
/// found so far, and when the last pass ended (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Saved {
    next: u64,
    end: u64,
    bad: u64,
    completed: Option<u64>,
}

impl Saved {
    fn parse(text: &str) -> Saved {
        let mut saved = Saved::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let Ok(value) = value.trim().parse::<u64>() else {
                continue;
            };
            match key.trim() {
                "next" => saved.next = value,
                "end" => saved.end = value,
                "bad" => saved.bad = value,
                "completed" => saved.completed = Some(value),
                _ => {}
            }
        }
        saved
    }

    fn render(&self) -> String {
        let mut text = format!("next={}\nend={}\nbad={}\n", self.next, self.end, self.bad);
        if let Some(t) = self.completed {
            text.push_str(&format!("completed={t}\n"));
        }
        text
    }
}

/// Where the saved state lives: `<state_dir>/<uuid>-<major>-<minor>.patrol`.
#[derive(Debug)]
struct CursorFile {
    dir: StateDir,
    name: String,
}

impl CursorFile {
    fn open(dir: &Path, key: &str) -> Result<CursorFile, StateDirError> {
        Ok(CursorFile {
            dir: StateDir::open(dir, Some(0o755))?,
            name: format!("{key}.patrol"),
        })
    }

    fn load(&self) -> Saved {
        match self.dir.read(&self.name) {
            Ok(Some(bytes)) => Saved::parse(&String::from_utf8_lossy(&bytes)),
            Ok(None) | Err(_) => Saved::default(),
        }
    }

    /// Writes the state atomically (a crash leaves the old or the new one).
    fn save(&self, saved: &Saved) -> Result<(), String> {
        self.dir
            .replace(&self.name, saved.render().as_bytes(), 0o644)
            .map_err(|e| format!("{}: {e}", self.dir.path().join(&self.name).display()))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Starts the patrol thread; its stop handle (drop it to stop the
/// patrol) and the thread, or None if it could not start (said).
pub fn start(
    healer: &crate::startup::Healer,
    mnt: &str,
    monitor: &Arc<OwnedFd>,
    settings: &PatrolSettings,
) -> Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)> {
    let (stop_tx, stop_rx) = mpsc::channel();
    let target = Target {
        mnt: mnt.to_string(),
        mount_path: healer.mount_path.clone(),
        monitor: Arc::clone(monitor),
        root: healer.root_handle,
        file_key: healer.id.file_key(),
        data_sectors: healer.data_sectors,
        block_sectors: u64::from(healer.layout.blocksize / 512),
    };
    let settings = settings.clone();
    let spawned = std::thread::Builder::new()
        .name("patrol".into())
        .stack_size(256 * 1024)
        .spawn(move || run(&target, &settings, &stop_rx));
    match spawned {
        Ok(thread) => Some((stop_tx, thread)),
        Err(e) => {
            err(&format!("{mnt}: media patrol not started: {e}"));
            None
        }
    }
}

/// Sleeps up to `how_long`; false when the patrol is to stop.
fn pause(stop: &Receiver<()>, how_long: Duration) -> bool {
    matches!(stop.recv_timeout(how_long), Err(RecvTimeoutError::Timeout))
}

/// Runs passes until `stop` is signalled or dropped.
pub fn run(target: &Target, settings: &PatrolSettings, stop: &Receiver<()>) {
    let cursor = match CursorFile::open(&settings.state_dir, &target.file_key) {
        Ok(cursor) => cursor,
        Err(e) => return err(&format!("{}: media patrol not started: {e}", target.mnt)),
    };
    loop {
        let mut saved = cursor.load();
        // A cursor for a device of another size is no cursor.
        if saved.end != target.data_sectors || saved.next == 0 {
            saved = Saved {
                next: 0,
                end: target.data_sectors,
                bad: 0,
                completed: saved.completed,
            };
        }
        if saved.next == 0
            && let Some(done) = saved.completed
        {
            let due = done.saturating_add(settings.interval.as_secs());
            let now = unix_now();
            if now < due && !pause(stop, Duration::from_secs(due - now)) {
                return;
            }
        }
        let mut walk = Walk::new(saved.end, saved.next, target.block_sectors, CHUNK_SECTORS);
        if walk.cursor() == 0 {
            out(&format!("{}: media patrol started.", target.mnt));
        } else {
            out(&format!(
                "{}: media patrol resumed at {}% of the data device.",
                target.mnt,
                walk.per_mille() / 10
            ));
        }
        match pass(target, settings, stop, &mut walk, &cursor, saved) {
            Ok(true) => {
                out(&format!(
                    "{}: media patrol complete: {} bad blocks.",
                    target.mnt,
                    saved.bad + walk.bad_blocks()
                ));
                let done = Saved {
                    next: 0,
                    end: walk.end(),
                    bad: 0,
                    completed: Some(unix_now()),
                };
                if let Err(e) = cursor.save(&done) {
                    err(&format!("{}: media patrol: {e}", target.mnt));
                }
            }
            Ok(false) => return,
            Err(why) => {
                // An unmount fails the next call (the mount can no longer
                // be opened) just before its event stops us: that is no
                // error to say.
                if pause(stop, UNMOUNT_GRACE) {
                    err(&format!("{}: media patrol stopped: {why}", target.mnt));
                }
                return;
            }
        }
    }
}

/// One pass from the walk's cursor. Ok(true): finished; Ok(false): told to
/// stop (the cursor is saved).
fn pass(
    target: &Target,
    settings: &PatrolSettings,
    stop: &Receiver<()>,
    walk: &mut Walk,
    cursor: &CursorFile,
    from: Saved,
) -> Result<bool, String> {
    let mut last_tenth = walk.per_mille() / 100;
    let mut saved_at = Instant::now();
    let store = |walk: &Walk| {
        let saved = Saved {
            next: walk.cursor(),
            end: walk.end(),
            bad: from.bad + walk.bad_blocks(),
            completed: from.completed,
        };
        cursor.save(&saved)
    };
    while let Some(request) = walk.request() {
        if !matches!(stop.try_recv(), Err(std::sync::mpsc::TryRecvError::Empty)) {
            store(walk)?;
            return Ok(false);
        }
        let started = Instant::now();
        // Reopened for every call and proven to be the monitored fs; the
        // fd is closed again at once so the mount is never pinned for long.
        let (fd, _) = paths::open_monitored(
            &target.mount_path,
            target.monitor.as_fd(),
            target.root.as_ref(),
        )
        .map_err(|e| format!("cannot open the filesystem: {}", xfs_abi::strerror(e)))?;
        let mut call = VerifyMedia::new(
            verify_media::XFS_DEV_DATA,
            request.start,
            request.end,
            request.report,
        );
        call.me_max_io_size = request.io_bytes;
        verify_media::verify_media(fd.as_fd(), &mut call)
            .map_err(|e| format!("media verification failed: {}", xfs_abi::strerror(e)))?;
        drop(fd);
        walk.advance(&request, call.me_start_daddr);
        let tenth = walk.per_mille() / 100;
        if tenth > last_tenth && tenth < 10 {
            out(&format!(
                "{}: media patrol: {}% of the data device verified.",
                target.mnt,
                tenth * 10
            ));
        }
        last_tenth = tenth;
        let moved = call.me_start_daddr.saturating_sub(request.start).max(1);
        if saved_at.elapsed() >= SAVE_EVERY {
            store(walk)?;
            saved_at = Instant::now();
        }
        // Pace to the bandwidth: this call's bytes at the allowed rate.
        let allowed =
            Duration::from_secs_f64((moved * 512) as f64 / settings.bytes_per_second as f64);
        if let Some(rest) = allowed.checked_sub(started.elapsed())
            && !pause(stop, rest)
        {
            store(walk)?;
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_tolerates_garbage() {
        let saved = Saved {
            next: 4096,
            end: 1 << 20,
            bad: 2,
            completed: Some(1_700_000_000),
        };
        assert_eq!(Saved::parse(&saved.render()), saved);
        assert_eq!(
            Saved::parse("next=12\nend=x\nbogus\n\u{0}=1\n"),
            Saved {
                next: 12,
                end: 0,
                bad: 0,
                completed: None
            }
        );
        assert_eq!(Saved::parse(""), Saved::default());
    }

    #[test]
    fn state_is_saved_atomically_per_filesystem() {
        let dir =
            std::env::temp_dir().join(format!("xfs-healer-patrol-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cursor = CursorFile::open(&dir, "abab-254-0").unwrap();
        let path = dir.join("abab-254-0.patrol");
        let saved = Saved {
            next: 8,
            end: 16,
            bad: 0,
            completed: None,
        };
        cursor.save(&saved).unwrap();
        assert_eq!(
            Saved::parse(&std::fs::read_to_string(&path).unwrap()),
            saved
        );
        assert_eq!(cursor.load(), saved);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "a temporary was left behind"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
