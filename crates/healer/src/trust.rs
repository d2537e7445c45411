//! What the healer obeys or runs must be as trustworthy as the healer
//! itself, by ZED's rules: the configuration file, the hooks directory and
//! each hook are owned by root (or by the user the healer runs as) and
//! writable by nobody else, and a hook's name is one `run-parts(8)` would
//! run (letters, digits, `_` and `-`), so editor backups (`sick-mail~`),
//! package leftovers (`all-log.dpkg-old`) and dotfiles never run.
//!
//! The checks read the files' metadata; what to do about a refusal (say
//! it once, skip the hook, refuse the file) is the caller's.

use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why a file is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrust {
    /// Owned by someone else than root or us.
    Owner { uid: u32 },
    /// Group or others may write it (`mode` is the permission bits).
    Writable { mode: u32 },
}

impl fmt::Display for Distrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Distrust::Owner { uid } => write!(f, "owned by uid {uid}, not by root"),
            Distrust::Writable { mode } => {
                write!(f, "writable by group or others (mode {mode:04o})")
            }
        }
    }
}

/// The rule itself: owner `uid` and permission bits `mode`, for a healer
/// running as `me`.
pub fn check(uid: u32, mode: u32, me: u32) -> Result<(), Distrust> {
    if uid != 0 && uid != me {
        return Err(Distrust::Owner { uid });
    }
    if mode & 0o022 != 0 {
        return Err(Distrust::Writable {
            mode: mode & 0o7777,
        });
    }
    Ok(())
}

/// [`check`] of a file's metadata, for this process.
pub fn check_metadata(meta: &std::fs::Metadata) -> Result<(), Distrust> {
    check(meta.uid(), meta.mode(), rustix::process::geteuid().as_raw())
}

/// Whether `run-parts` would run a file of this name.
pub fn run_parts_name(name: &OsStr) -> bool {
    !name.is_empty()
        && name
            .as_bytes()
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Why `dir` cannot hold hooks now (None: it can): missing, not a
/// directory, or not trusted.
pub fn dir_problem(dir: &Path) -> Option<String> {
    match directory(dir) {
        Ok(m) => check_metadata(&m)
            .err()
            .map(|why| format!("not trusted: {why}")),
        Err(why) => Some(why),
    }
}

/// `dir`'s metadata if it is a directory, else why it is not one
/// (missing, unreadable, another kind of file).
pub fn directory(dir: &Path) -> Result<std::fs::Metadata, String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(m),
        Ok(_) => Err("not a directory".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Executable regular files in `dir` whose name `wanted` accepts, in name
/// order: those that may run, and those that may not, with why (a name
/// `run-parts` would not run, or a file root does not own or others may
/// write). A file without execute permission is a hook switched off, not
/// a problem, and is in neither list.
pub fn scan(dir: &Path, wanted: impl Fn(&[u8]) -> bool) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut runnable = Vec::new();
    let mut refused = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (runnable, refused);
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        if !wanted(name.as_bytes()) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            continue;
        }
        if !run_parts_name(&name) {
            refused.push((entry.path(), "not a name run-parts would run".into()));
        } else if let Err(why) = check_metadata(&meta) {
            refused.push((entry.path(), format!("not trusted: {why}")));
        } else {
            runnable.push(entry.path());
        }
    }
    runnable.sort();
    refused.sort();
    (runnable, refused)
}

/// [`scan`] for the hooks of `class`: files named `<class>-*` or `all-*`.
pub fn hooks_for(dir: &Path, class: &str) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    scan(dir, |name| {
        name.strip_prefix(class.as_bytes())
            .or_else(|| name.strip_prefix(b"all"))
            .is_some_and(|rest| rest.starts_with(b"-"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_or_our_own_and_writable_by_nobody_else() {
        assert_eq!(check(0, 0o100755, 1000), Ok(()));
        assert_eq!(check(1000, 0o100700, 1000), Ok(()));
        assert_eq!(check(0, 0o040755, 0), Ok(()));
        assert_eq!(
            check(1001, 0o100755, 1000),
            Err(Distrust::Owner { uid: 1001 })
        );
        assert_eq!(
            check(0, 0o100775, 0),
            Err(Distrust::Writable { mode: 0o775 })
        );
        assert_eq!(
            check(0, 0o041777, 0),
            Err(Distrust::Writable { mode: 0o1777 })
        );
        assert_eq!(
            Distrust::Writable { mode: 0o777 }.to_string(),
            "writable by group or others (mode 0777)"
        );
    }

    #[test]
    fn only_names_run_parts_would_run() {
        for good in ["sick-mail", "all-logger", "repair_failed-page", "10-x"] {
            assert!(run_parts_name(OsStr::new(good)), "{good}");
        }
        for bad in [
            "sick-mail~",
            "all-log.dpkg-old",
            "all-log.dpkg-dist",
            ".sick-mail.swp",
            "sick-mail.bak",
            "#sick-mail#",
            "sick mail",
            "",
        ] {
            assert!(!run_parts_name(OsStr::new(bad)), "{bad:?}");
        }
        assert!(!run_parts_name(OsStr::from_bytes(b"sick-\xff")));
    }

    #[test]
    fn a_missing_hooks_directory_is_named() {
        assert!(
            dir_problem(Path::new("/nonexistent/hooks.d"))
                .is_some_and(|w| w.contains("No such file"))
        );
        assert_eq!(
            dir_problem(Path::new("/dev/null")).as_deref(),
            Some("not a directory")
        );
        // /tmp: anyone may add a hook there.
        assert_eq!(
            dir_problem(Path::new("/tmp")).as_deref(),
            Some("not trusted: writable by group or others (mode 1777)")
        );
        let dir = std::env::temp_dir().join(format!("xfs-healer-hooks-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(dir_problem(&dir), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hooks_are_chosen_by_name_and_mode() {
        let dir =
            std::env::temp_dir().join(format!("xfs-healer-hooks-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, mode) in [
            ("sick-mail", 0o755),
            ("all-log", 0o700),
            ("sick-off", 0o644),
            ("sickly-x", 0o755),
            ("repaired-x", 0o755),
            ("all", 0o755),
            ("sick-mail~", 0o755),
            ("all-log.dpkg-old", 0o755),
            (".sick-mail.swp", 0o755),
            ("sick-shared", 0o775),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        let names = |class| {
            hooks_for(&dir, class)
                .0
                .iter()
                .map(name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("sick"), ["all-log", "sick-mail"]);
        assert_eq!(names("repaired"), ["all-log", "repaired-x"]);
        let refused: Vec<_> = hooks_for(&dir, "sick")
            .1
            .iter()
            .map(|(p, why)| (name(p), why.clone()))
            .collect();
        assert_eq!(
            refused,
            [
                (
                    "all-log.dpkg-old".into(),
                    "not a name run-parts would run".into()
                ),
                ("sick-mail~".into(), "not a name run-parts would run".into()),
                (
                    "sick-shared".into(),
                    "not trusted: writable by group or others (mode 0775)".into()
                ),
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
