//! The optional configuration file, `/etc/xfs_healer.toml` (or the path in
//! `XFS_HEALER_CONFIG`). Absent, every value is the built-in default; a
//! file that does not parse, or names an unknown key, stops the healer at
//! start-up with a message naming the problem (a typo must not silently
//! leave a default in force).
//!
//! ```toml
//! [repair]
//! cooldown_seconds = 5            # reports right after a repair are its echo
//! failed_hold_seconds = 600       # a failed repair is not retried sooner (or until healthy)
//! storm_targets = 1000            # more new targets than this ...
//! storm_window_seconds = 10       # ... within this window: one full scan instead
//! full_scan_interval_seconds = 600  # at most one full scan per interval
//! full_scan_timeout_hours = 12    # a full scan run as a child is stopped after this
//! max_pending = 4096              # queued targets before a full scan is cheaper
//! retry_limit = 3                 # tries for busy/deadlock/out-of-memory answers
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use xfs_policy::Config as PolicyConfig;

pub const DEFAULT_PATH: &str = "/etc/xfs_healer.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    repair: RepairSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepairSection {
    cooldown_seconds: Option<u64>,
    failed_hold_seconds: Option<u64>,
    storm_targets: Option<usize>,
    storm_window_seconds: Option<u64>,
    full_scan_interval_seconds: Option<u64>,
    full_scan_timeout_hours: Option<u64>,
    max_pending: Option<usize>,
    retry_limit: Option<u32>,
}

/// The settings the daemon runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub policy: PolicyConfig,
    pub full_scan_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { policy: PolicyConfig::default(), full_scan_timeout: Duration::from_secs(12 * 3600) }
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {key} must be at least 1")]
    Zero { path: String, key: &'static str },
}

/// The file to read: `XFS_HEALER_CONFIG` if set, else the default.
pub fn path() -> PathBuf {
    std::env::var_os("XFS_HEALER_CONFIG").map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from)
}

/// Reads the configuration; a missing file gives the defaults.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|e| match e {
            ParseError::Syntax(message) => ConfigError::Parse { path: shown, message },
            ParseError::Zero(key) => ConfigError::Zero { path: shown, key },
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
        Err(source) => Err(ConfigError::Read { path: shown, source }),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ParseError {
    Syntax(String),
    Zero(&'static str),
}

fn parse(text: &str) -> Result<Settings, ParseError> {
    let file: File = toml::from_str(text).map_err(|e| ParseError::Syntax(e.message().to_string()))?;
    let r = file.repair;
    let mut s = Settings::default();
    let ms = |secs: u64| secs.saturating_mul(1000);
    let positive = |v: Option<usize>, key| match v {
        Some(0) => Err(ParseError::Zero(key)),
        v => Ok(v),
    };
    if let Some(v) = r.cooldown_seconds {
        s.policy.cooldown_ms = ms(v);
    }
    if let Some(v) = r.failed_hold_seconds {
        s.policy.failed_hold_ms = ms(v);
    }
    if let Some(v) = positive(r.storm_targets, "storm_targets")? {
        s.policy.storm_targets = v;
    }
    if let Some(v) = r.storm_window_seconds {
        s.policy.storm_window_ms = ms(v);
    }
    if let Some(v) = r.full_scan_interval_seconds {
        s.policy.full_scan_interval_ms = ms(v);
    }
    if let Some(v) = r.full_scan_timeout_hours {
        s.full_scan_timeout = Duration::from_secs(v.saturating_mul(3600));
    }
    if let Some(v) = positive(r.max_pending, "max_pending")? {
        s.policy.max_pending = v;
    }
    if let Some(v) = r.retry_limit {
        s.policy.retry_limit = v;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_partial_files_keep_the_defaults() {
        let d = PolicyConfig::default();
        let s = parse("").unwrap();
        assert_eq!((s.policy.storm_targets, s.policy.cooldown_ms), (d.storm_targets, d.cooldown_ms));
        let s = parse("[repair]\nstorm_targets = 50\nstorm_window_seconds = 2\n").unwrap();
        assert_eq!((s.policy.storm_targets, s.policy.storm_window_ms), (50, 2000));
        assert_eq!(s.policy.max_pending, d.max_pending);
        let s = parse("[repair]\nfull_scan_timeout_hours = 1\n").unwrap();
        assert_eq!(s.full_scan_timeout, Duration::from_secs(3600));
    }

    #[test]
    fn typos_and_nonsense_are_errors() {
        assert!(matches!(parse("[repair]\nstorm_target = 5\n"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse("[repiar]\n"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse("[repair]\nstorm_targets = -1\n"), Err(ParseError::Syntax(_))));
        assert!(matches!(parse("[repair]\nstorm_targets = \"many\"\n"), Err(ParseError::Syntax(_))));
        assert_eq!(parse("[repair]\nmax_pending = 0\n").err(), Some(ParseError::Zero("max_pending")));
    }

    #[test]
    fn a_missing_file_is_the_defaults_and_an_unreadable_one_an_error() {
        assert!(load(Path::new("/nonexistent/xfs_healer.toml")).is_ok());
        let dir = std::env::temp_dir();
        let err = load(&dir).expect_err("a directory is not a config file");
        assert!(err.to_string().starts_with(&dir.display().to_string()), "{err}");
    }
}
