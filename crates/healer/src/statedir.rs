//! The directories the daemon writes its files in (metrics textfile,
//! patrol cursor, pending marker, API socket), opened once and trusted
//! only when no one but root can change them.
//!
//! The healer runs as root with `CAP_DAC_OVERRIDE`, and the file names it
//! writes are predictable (the filesystem UUID is public), so a plain
//! `write(path)` would follow a symlink planted by whoever can write the
//! directory onto `/etc/shadow`. Hence:
//! - the directory is opened `O_DIRECTORY|O_NOFOLLOW` and kept as an fd, so
//!   a component swapped later does not redirect us;
//! - it is refused unless owned by root (or by us, for tests) and not
//!   writable by group or others, except a sticky directory (`/tmp`), where
//!   others cannot rename or remove what we create;
//! - a file is replaced by creating a temporary under an unpredictable name
//!   with `O_CREAT|O_EXCL|O_NOFOLLOW`, setting its mode explicitly (the
//!   unit's `UMask=7777` would leave it `----------`), writing, `fsync`,
//!   and `renameat` within the directory fd, which replaces a planted link
//!   instead of following it;
//! - reads and removals go through the fd with `O_NOFOLLOW` too.

use rustix::fs::{
    AtFlags, CWD, FileType, Mode, OFlags, fchmod, fstat, fsync, mkdirat, openat, renameat, statat,
    unlinkat,
};
use rustix::io::Errno;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Files read back (cursors, markers) are small; anything larger is not ours.
const MAX_READ: u64 = 64 * 1024;

/// Why a directory is not used.
#[derive(Debug, thiserror::Error)]
pub enum StateDirError {
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not used: a symbolic link or not a directory", path.display())]
    NotDirectory { path: PathBuf },
    #[error("{}: not used: owned by uid {uid}, not root", path.display())]
    Owner { path: PathBuf, uid: u32 },
    #[error("{}: not used: writable by group or others (mode {mode:04o}) and not sticky", path.display())]
    Writable { path: PathBuf, mode: u32 },
}

/// A checked directory, held open.
#[derive(Debug)]
pub struct StateDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// Whether a directory with this owner and mode can be written in safely
/// by a process with effective uid `euid`.
fn trusted(path: &Path, uid: u32, mode: u32, euid: u32) -> Result<(), StateDirError> {
    if uid != 0 && uid != euid {
        return Err(StateDirError::Owner {
            path: path.to_path_buf(),
            uid,
        });
    }
    let sticky = mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky {
        return Err(StateDirError::Writable {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    Ok(())
}

impl StateDir {
    /// Opens and checks `path`; with `create`, a missing last component is
    /// made with that mode (its parent must exist).
    pub fn open(path: &Path, create: Option<u32>) -> Result<StateDir, StateDirError> {
        let open_err = |source: Errno| StateDirError::Open {
            path: path.to_path_buf(),
            source: source.into(),
        };
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY;
        let fd = match (openat(CWD, path, flags, Mode::empty()), create) {
            (Ok(fd), _) => fd,
            (Err(Errno::NOENT), Some(mode)) => {
                match mkdirat(CWD, path, Mode::from_raw_mode(mode)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(open_err(e)),
                }
                let fd = openat(CWD, path, flags, Mode::empty()).map_err(open_err)?;
                let st = fstat(&fd).map_err(open_err)?;
                // Ours when we made it: the umask is not to narrow it.
                if st.st_uid == rustix::process::geteuid().as_raw() {
                    fchmod(&fd, Mode::from_raw_mode(mode)).map_err(open_err)?;
                }
                fd
            }
            // O_NOFOLLOW on a link, O_DIRECTORY on a file.
            (Err(Errno::LOOP | Errno::NOTDIR), _) => {
                return Err(StateDirError::NotDirectory {
                    path: path.to_path_buf(),
                });
            }
            (Err(e), _) => return Err(open_err(e)),
        };
        let st = fstat(&fd).map_err(open_err)?;
        let euid = rustix::process::geteuid().as_raw();
        trusted(path, st.st_uid, st.st_mode, euid)?;
        // One of ours that its owner cannot use (made under the unit's
        // UMask=7777 by an earlier version, say): without CAP_DAC_OVERRIDE
        // nothing could be created in it.
        if let Some(mode) = create
            && st.st_uid == euid
            && st.st_mode & 0o700 != 0o700
        {
            fchmod(&fd, Mode::from_raw_mode(mode)).map_err(open_err)?;
        }
        Ok(StateDir {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory fd, for `*at` calls of other modules.
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Atomically replaces `name` with `contents` at `mode`: readers see
    /// the old file or the new one, never a part, and a link planted at
    /// either name is replaced, never followed.
    pub fn replace(&self, name: &str, contents: &[u8], mode: u32) -> std::io::Result<()> {
        let tmp = temporary_name(name);
        let flags =
            OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::WRONLY;
        let fd = openat(&self.fd, &tmp, flags, Mode::from_raw_mode(mode & 0o777))?;
        let written = (|| {
            fchmod(&fd, Mode::from_raw_mode(mode & 0o777))?;
            let mut file = std::fs::File::from(fd);
            file.write_all(contents)?;
            fsync(&file)?;
            renameat(&self.fd, &tmp, &self.fd, name)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = unlinkat(&self.fd, &tmp, AtFlags::empty());
        }
        written
    }

    /// The contents of regular file `name` (None: there is none).
    pub fn read(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        let fd = match openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if FileType::from_raw_mode(fstat(&fd)?.st_mode) != FileType::RegularFile {
            return Err(std::io::Error::other("not a regular file"));
        }
        let mut data = Vec::new();
        std::fs::File::from(fd)
            .take(MAX_READ)
            .read_to_end(&mut data)?;
        Ok(Some(data))
    }

    /// Whether anything is named `name` (a link counts; it is not followed).
    pub fn exists(&self, name: &str) -> bool {
        statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// Takes an exclusive lock on `name` (created mode 0600 if missing),
    /// held while the returned fd is open; None: someone else holds it.
    pub fn lock(&self, name: &str) -> std::io::Result<Option<OwnedFd>> {
        let flags = OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDWR;
        let fd = openat(&self.fd, name, flags, Mode::from_raw_mode(0o600))?;
        // The mode asked for, whatever the umask: the unit's UMask=7777
        // would leave mode 0000, which the next healer (root without
        // CAP_DAC_OVERRIDE) could not open, and it would run unlocked.
        fchmod(&fd, Mode::from_raw_mode(0o600))?;
        match rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(fd)),
            Err(Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes `name` if present.
    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        match unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// `.<name>.<64 random bits>.tmp`: hidden from collectors that read
/// `*.prom`, and not guessable, so no one can hold the name in advance.
fn temporary_name(name: &str) -> String {
    // RandomState is keyed from the OS's random source.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!(".{name}.{:016x}.tmp", hasher.finish())
}

/// Which filesystem a healer serves, as its file names say it: the UUID
/// alone is not enough, since snapshot clones mounted `nouuid` share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsId {
    pub uuid: [u8; 16],
    /// The data device (`st_dev` of the mount).
    pub device: u64,
}

impl FsId {
    /// `<uuid hex>-<major>-<minor>`: the stem of every file of this
    /// filesystem's healer (marker, lock, socket, cursor, metrics).
    pub fn file_key(&self) -> String {
        use std::fmt::Write as _;
        let mut key = self
            .uuid
            .iter()
            .fold(String::with_capacity(48), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            });
        let dev = rustix::fs::Dev::from(self.device);
        let _ = write!(
            key,
            "-{}-{}",
            rustix::fs::major(dev),
            rustix::fs::minor(dev)
        );
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn scratch(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("xfs-healer-statedir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    #[test]
    fn a_planted_link_is_replaced_not_followed() {
        let dir = scratch("link");
        let victim = dir.join("victim");
        std::fs::write(&victim, "secret\n").unwrap();
        let state = StateDir::open(&dir, None).unwrap();
        // Today's fixed temporary name and the final name, both planted.
        symlink(&victim, dir.join("m.prom.tmp")).unwrap();
        symlink(&victim, dir.join("m.prom")).unwrap();
        state.replace("m.prom", b"metrics\n", 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret\n");
        let written = std::fs::symlink_metadata(dir.join("m.prom")).unwrap();
        assert!(written.file_type().is_file(), "the link was left in place");
        assert_eq!(written.permissions().mode() & 0o777, 0o644);
        assert_eq!(
            std::fs::read_to_string(dir.join("m.prom")).unwrap(),
            "metrics\n"
        );
        // No temporary is left behind.
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names
                .iter()
                .any(|n| n.ends_with(".tmp") && n.starts_with('.')),
            "{names:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_mode_is_set_whatever_the_umask() {
        let dir = scratch("mode");
        let state = StateDir::open(&dir, None).unwrap();
        state.replace("marker", b"1\n", 0o600).unwrap();
        assert_eq!(
            std::fs::metadata(dir.join("marker"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        let made = StateDir::open(&dir.join("made"), Some(0o755)).unwrap();
        assert_eq!(
            std::fs::metadata(made.path()).unwrap().permissions().mode() & 0o7777,
            0o755
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_own_directory_its_owner_cannot_use_gets_its_mode() {
        let dir = scratch("locked");
        let locked = dir.join("run");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let state = StateDir::open(&locked, Some(0o755)).unwrap();
        assert_eq!(
            std::fs::metadata(state.path())
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o755
        );
        // A narrower mode the owner can use is left alone.
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
        StateDir::open(&locked, Some(0o755)).unwrap();
        assert_eq!(
            std::fs::metadata(&locked).unwrap().permissions().mode() & 0o7777,
            0o700
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn untrusted_directories_are_refused() {
        let dir = scratch("refuse");
        let open = std::fs::Permissions::from_mode(0o777);
        std::fs::create_dir(dir.join("open")).unwrap();
        std::fs::set_permissions(dir.join("open"), open).unwrap();
        assert!(matches!(
            StateDir::open(&dir.join("open"), None),
            Err(StateDirError::Writable { mode: 0o777, .. })
        ));
        std::fs::create_dir(dir.join("sticky")).unwrap();
        std::fs::set_permissions(dir.join("sticky"), std::fs::Permissions::from_mode(0o1777))
            .unwrap();
        assert!(StateDir::open(&dir.join("sticky"), None).is_ok());
        symlink(dir.join("sticky"), dir.join("link")).unwrap();
        assert!(matches!(
            StateDir::open(&dir.join("link"), None),
            Err(StateDirError::NotDirectory { .. })
        ));
        std::fs::write(dir.join("file"), "").unwrap();
        assert!(matches!(
            StateDir::open(&dir.join("file"), None),
            Err(StateDirError::NotDirectory { .. })
        ));
        assert!(matches!(
            StateDir::open(&dir.join("missing"), None),
            Err(StateDirError::Open { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ownership_rules() {
        let p = Path::new("/d");
        assert!(trusted(p, 0, 0o40755, 0).is_ok());
        assert!(trusted(p, 1000, 0o40700, 1000).is_ok());
        assert!(matches!(
            trusted(p, 65534, 0o40755, 0),
            Err(StateDirError::Owner { uid: 65534, .. })
        ));
        assert!(matches!(
            trusted(p, 0, 0o40775, 0),
            Err(StateDirError::Writable { mode: 0o775, .. })
        ));
        assert!(trusted(p, 0, 0o41777, 0).is_ok());
        // Another user's directory is refused even to root.
        assert!(trusted(p, 1000, 0o40700, 0).is_err());
    }

    #[test]
    fn clones_with_one_uuid_get_their_own_names() {
        let a = FsId {
            uuid: [0xab; 16],
            device: rustix::fs::makedev(254, 0),
        };
        let b = FsId {
            device: rustix::fs::makedev(254, 16),
            ..a
        };
        assert_eq!(a.file_key(), format!("{}-254-0", "ab".repeat(16)));
        assert_ne!(a.file_key(), b.file_key());
    }

    #[test]
    fn a_lock_is_held_once() {
        let dir = scratch("lock");
        let state = StateDir::open(&dir, None).unwrap();
        let held = state.lock("fs.lock").unwrap();
        assert!(held.is_some());
        let mode = std::fs::metadata(dir.join("fs.lock"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o600);
        // flock locks belong to the open file: a second open is refused.
        assert!(state.lock("fs.lock").unwrap().is_none());
        drop(held);
        assert!(state.lock("fs.lock").unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_do_not_follow_links() {
        let dir = scratch("read");
        let state = StateDir::open(&dir, None).unwrap();
        assert_eq!(state.read("cursor").unwrap(), None);
        state.replace("cursor", b"next=5\n", 0o644).unwrap();
        assert_eq!(
            state.read("cursor").unwrap().as_deref(),
            Some(&b"next=5\n"[..])
        );
        symlink("/etc/hostname", dir.join("linked")).unwrap();
        assert!(state.read("linked").is_err());
        assert!(state.exists("linked"));
        state.remove("linked").unwrap();
        state.remove("linked").unwrap();
        assert!(!state.exists("linked"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
