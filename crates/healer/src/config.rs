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
//!
//! [patrol]
//! enabled = false                 # verify the data device's media in the background
//! bandwidth_mib_per_second = 32   # read at most this fast, on average
//! interval_hours = 168            # start a new pass this long after the last one ended
//! state_dir = "/var/lib/xfs_healer"  # where the cursor is kept between runs
//!
//! [api]
//! enabled = true                  # serve io.xfs.Healer (varlink) on a socket
//! dir = "/run/xfs_healer"         # the socket is <dir>/<uuid>-<major>-<minor>.varlink
//! group = "adm"                   # may also use it (default: root only)
//!
//! [output]
//! format = "auto"                 # text | json | journal | auto (journal under systemd)
//!
//! [metrics]
//! textfile_dir = "/var/lib/prometheus/node-exporter"  # off when absent
//! interval_seconds = 5            # rewrite the file at most this often
//!
//! [hooks]
//! dir = "/etc/xfs_healer/hooks.d" # off when absent; <class>-* and all-* run
//! classes = ["sick", "corrupt", "media_error", "file_io", "lost", "shutdown", "repair_failed"]
//! timeout_seconds = 30            # a hook still running then is killed
//! max_running = 4                 # hooks at once
//! interval_seconds = 3600         # one run per (class, object) per interval
//! ```
//!
//! Every number has a range ([`RANGES`]; a value outside it is an error
//! naming the key and the range): periods are at most 10 years, timeouts
//! at most a day or a year, counts at most a million. The maxima are far
//! above any sensible setting and keep `clock + value` in milliseconds
//! far from overflowing u64 for centuries of uptime.

use crate::kinds::HookClass;
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
    #[serde(default)]
    patrol: PatrolSection,
    #[serde(default)]
    api: ApiSection,
    #[serde(default)]
    output: OutputSection,
    #[serde(default)]
    metrics: MetricsSection,
    #[serde(default)]
    hooks: HooksSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HooksSection {
    dir: Option<PathBuf>,
    classes: Option<Vec<String>>,
    timeout_seconds: Option<u64>,
    max_running: Option<u64>,
    interval_seconds: Option<u64>,
}

/// The values a numeric key may take (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub section: &'static str,
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
}

impl Range {
    /// `value` if it is in range.
    fn check(&self, value: Option<u64>) -> Result<Option<u64>, ParseError> {
        match value {
            Some(0) if self.min == 1 => Err(ParseError::Zero(self.key)),
            Some(v) if v < self.min || v > self.max => Err(ParseError::OutOfRange {
                range: *self,
                value: v,
            }),
            v => Ok(v),
        }
    }
}

const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;

const fn range(section: &'static str, key: &'static str, min: u64, max: u64) -> Range {
    Range {
        section,
        key,
        min,
        max,
    }
}

const COOLDOWN: Range = range("repair", "cooldown_seconds", 0, DAY);
const FAILED_HOLD: Range = range("repair", "failed_hold_seconds", 0, 10 * YEAR);
const STORM_TARGETS: Range = range("repair", "storm_targets", 1, 1_000_000);
const STORM_WINDOW: Range = range("repair", "storm_window_seconds", 0, DAY);
const FULL_SCAN_INTERVAL: Range = range("repair", "full_scan_interval_seconds", 0, 10 * YEAR);
// 0 would stop every full scan the moment it starts.
const FULL_SCAN_TIMEOUT: Range = range("repair", "full_scan_timeout_hours", 1, 365 * 24);
const MAX_PENDING: Range = range("repair", "max_pending", 1, 1_000_000);
const RETRY_LIMIT: Range = range("repair", "retry_limit", 0, 100);
const BANDWIDTH: Range = range("patrol", "bandwidth_mib_per_second", 1, 1 << 20);
const PATROL_INTERVAL: Range = range("patrol", "interval_hours", 0, 10 * 365 * 24);
const METRICS_INTERVAL: Range = range("metrics", "interval_seconds", 1, DAY);
// 0 would kill every hook at once.
const HOOK_TIMEOUT: Range = range("hooks", "timeout_seconds", 1, DAY);
const MAX_RUNNING: Range = range("hooks", "max_running", 1, 1024);
const HOOK_INTERVAL: Range = range("hooks", "interval_seconds", 0, 10 * YEAR);

/// Every numeric key's range, in file order.
pub const RANGES: &[Range] = &[
    COOLDOWN,
    FAILED_HOLD,
    STORM_TARGETS,
    STORM_WINDOW,
    FULL_SCAN_INTERVAL,
    FULL_SCAN_TIMEOUT,
    MAX_PENDING,
    RETRY_LIMIT,
    BANDWIDTH,
    PATROL_INTERVAL,
    METRICS_INTERVAL,
    HOOK_TIMEOUT,
    MAX_RUNNING,
    HOOK_INTERVAL,
];

/// Hook scripts (off unless a directory is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSettings {
    pub dir: Option<PathBuf>,
    pub classes: Vec<String>,
    pub timeout: Duration,
    pub max_running: usize,
    pub interval: Duration,
}

impl Default for HookSettings {
    fn default() -> Self {
        HookSettings {
            dir: None,
            classes: [
                "sick",
                "corrupt",
                "media_error",
                "file_io",
                "lost",
                "shutdown",
                "repair_failed",
            ]
            .map(String::from)
            .to_vec(),
            timeout: Duration::from_secs(30),
            max_running: 4,
            interval: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsSection {
    textfile_dir: Option<PathBuf>,
    interval_seconds: Option<u64>,
}

/// Prometheus textfile metrics (off unless a directory is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    pub textfile_dir: Option<PathBuf>,
    pub interval: Duration,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            textfile_dir: None,
            interval: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputSection {
    format: Option<OutputFormat>,
}

/// How reports are written (see `output.rs` of the daemon).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Journal records when stdout is the journal, else text.
    #[default]
    Auto,
    Text,
    Json,
    Journal,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiSection {
    enabled: Option<bool>,
    dir: Option<PathBuf>,
    group: Option<String>,
}

/// The status API's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    pub enabled: bool,
    pub dir: PathBuf,
    /// A group (name or number) that may connect besides root.
    pub group: Option<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            enabled: true,
            dir: PathBuf::from("/run/xfs_healer"),
            group: None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatrolSection {
    enabled: Option<bool>,
    bandwidth_mib_per_second: Option<u64>,
    interval_hours: Option<u64>,
    state_dir: Option<PathBuf>,
}

/// The media patrol's settings (off unless enabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolSettings {
    pub enabled: bool,
    pub bytes_per_second: u64,
    pub interval: Duration,
    pub state_dir: PathBuf,
}

impl Default for PatrolSettings {
    fn default() -> Self {
        PatrolSettings {
            enabled: false,
            bytes_per_second: 32 << 20,
            interval: Duration::from_secs(168 * 3600),
            state_dir: PathBuf::from("/var/lib/xfs_healer"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepairSection {
    cooldown_seconds: Option<u64>,
    failed_hold_seconds: Option<u64>,
    storm_targets: Option<u64>,
    storm_window_seconds: Option<u64>,
    full_scan_interval_seconds: Option<u64>,
    full_scan_timeout_hours: Option<u64>,
    max_pending: Option<u64>,
    retry_limit: Option<u64>,
}

/// The settings the daemon runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub policy: PolicyConfig,
    pub full_scan_timeout: Duration,
    pub patrol: PatrolSettings,
    pub api: ApiSettings,
    pub output: OutputFormat,
    pub metrics: MetricsSettings,
    pub hooks: HookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            policy: PolicyConfig::default(),
            full_scan_timeout: Duration::from_secs(12 * 3600),
            patrol: PatrolSettings::default(),
            api: ApiSettings::default(),
            output: OutputFormat::Auto,
            metrics: MetricsSettings::default(),
            hooks: HookSettings::default(),
        }
    }
}

impl Settings {
    /// The effective settings, in the file's own syntax (every key, with
    /// the defaults filled in): what `xfs_healerctl check-config` prints.
    pub fn describe(&self) -> String {
        let p = &self.policy;
        let secs = |ms: u64| ms / 1000;
        let quoted = |path: &Path| format!("{:?}", path.display().to_string());
        let mut text = format!(
            "[repair]\ncooldown_seconds = {}\nfailed_hold_seconds = {}\nstorm_targets = {}\nstorm_window_seconds = {}\n\
             full_scan_interval_seconds = {}\nfull_scan_timeout_hours = {}\nmax_pending = {}\nretry_limit = {}\n",
            secs(p.cooldown_ms),
            secs(p.failed_hold_ms),
            p.storm_targets,
            secs(p.storm_window_ms),
            secs(p.full_scan_interval_ms),
            self.full_scan_timeout.as_secs() / 3600,
            p.max_pending,
            p.retry_limit
        );
        text += &format!(
            "\n[patrol]\nenabled = {}\nbandwidth_mib_per_second = {}\ninterval_hours = {}\nstate_dir = {}\n",
            self.patrol.enabled,
            self.patrol.bytes_per_second >> 20,
            self.patrol.interval.as_secs() / 3600,
            quoted(&self.patrol.state_dir)
        );
        text += &format!(
            "\n[api]\nenabled = {}\ndir = {}\n",
            self.api.enabled,
            quoted(&self.api.dir)
        );
        if let Some(group) = &self.api.group {
            text += &format!("group = {group:?}\n");
        }
        let format = match self.output {
            OutputFormat::Auto => "auto",
            OutputFormat::Text => "text",
            OutputFormat::Json => "json",
            OutputFormat::Journal => "journal",
        };
        text += &format!("\n[output]\nformat = \"{format}\"\n\n[metrics]\n");
        if let Some(dir) = &self.metrics.textfile_dir {
            text += &format!("textfile_dir = {}\n", quoted(dir));
        }
        text += &format!(
            "interval_seconds = {}\n\n[hooks]\n",
            self.metrics.interval.as_secs()
        );
        if let Some(dir) = &self.hooks.dir {
            text += &format!("dir = {}\n", quoted(dir));
        }
        text += &format!(
            "classes = {:?}\ntimeout_seconds = {}\nmax_running = {}\ninterval_seconds = {}\n",
            self.hooks.classes,
            self.hooks.timeout.as_secs(),
            self.hooks.max_running,
            self.hooks.interval.as_secs()
        );
        text
    }
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: not trusted: {why}")]
    Untrusted {
        path: String,
        why: crate::trust::Distrust,
    },
    #[error("{path}: {key} must be at least 1")]
    Zero { path: String, key: &'static str },
    #[error("{path}: [{section}] {key} must be {min} to {max}, not {value}")]
    OutOfRange {
        path: String,
        section: &'static str,
        key: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
}

/// The file to read: `XFS_HEALER_CONFIG` if set (named, so it must
/// exist), else the default (which may be absent).
pub fn path() -> (PathBuf, Presence) {
    match std::env::var_os("XFS_HEALER_CONFIG") {
        Some(named) => (PathBuf::from(named), Presence::Required),
        None => (PathBuf::from(DEFAULT_PATH), Presence::Optional),
    }
}

/// Whether a missing configuration file is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The default path: absent, the defaults apply.
    Optional,
    /// Named by the operator: a misspelt path must not silently give the
    /// defaults.
    Required,
}

/// Reads the configuration; a missing file gives the defaults unless it
/// was named.
pub fn load(path: &Path, presence: Presence) -> Result<Settings, ConfigError> {
    let shown = path.display().to_string();
    match read_trusted(path) {
        Ok(Err(why)) => Err(ConfigError::Untrusted { path: shown, why }),
        Ok(Ok(text)) => parse(&text).map_err(|e| match e {
            ParseError::Syntax(message) => ConfigError::Parse {
                path: shown,
                message,
            },
            ParseError::Zero(key) => ConfigError::Zero { path: shown, key },
            ParseError::OutOfRange { range, value } => ConfigError::OutOfRange {
                path: shown,
                section: range.section,
                key: range.key,
                value,
                min: range.min,
                max: range.max,
            },
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && presence == Presence::Optional => {
            Ok(Settings::default())
        }
        Err(source) => Err(ConfigError::Read {
            path: shown,
            source,
        }),
    }
}

/// The file's text if it is trusted ([`crate::trust`]): checked on the
/// open file, so what is read is what was checked. The null device (no
/// settings: `XFS_HEALER_CONFIG=/dev/null`) holds nothing anyone can write.
fn read_trusted(path: &Path) -> std::io::Result<Result<String, crate::trust::Distrust>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let null_device = meta.file_type().is_char_device()
        && (
            rustix::fs::major(meta.rdev()),
            rustix::fs::minor(meta.rdev()),
        ) == (1, 3);
    if !null_device && let Err(why) = crate::trust::check_metadata(&meta) {
        return Ok(Err(why));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(Ok(text))
}

/// The group `[api] group` names, by number or by name through the
/// system's name service (NSS: `/etc/group`, LDAP, SSSD, systemd's
/// dynamic users); None if there is no such group.
pub fn group_id(group: &str) -> Option<u32> {
    if let Ok(gid) = group.parse() {
        return Some(gid);
    }
    nix::unistd::Group::from_name(group)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

/// What in `settings` will not work as written, each as one line: a
/// hooks directory that is missing or not trusted, executables in it that
/// will never run (and why), a textfile directory that is missing, an API
/// group that does not exist. The healer says the same at start-up, and
/// goes on without what cannot work.
pub fn problems(settings: &Settings) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(dir) = &settings.hooks.dir {
        match crate::trust::dir_problem(dir) {
            Some(why) => found.push(format!("[hooks] dir {}: {why}", dir.display())),
            None => found.extend(
                crate::trust::scan(dir, |_| true)
                    .1
                    .into_iter()
                    .map(|(hook, why)| format!("hook {}: never runs: {why}", hook.display())),
            ),
        }
    }
    // Its own rule (sticky directories are fine) is the daemon's.
    if let Some(dir) = &settings.metrics.textfile_dir
        && let Err(why) = crate::trust::directory(dir)
    {
        found.push(format!("[metrics] textfile_dir {}: {why}", dir.display()));
    }
    if let Some(group) = settings
        .api
        .group
        .as_deref()
        .filter(|_| settings.api.enabled)
        && group_id(group).is_none()
    {
        found.push(format!("[api] group {group:?}: no such group"));
    }
    found
}

/// Why a configuration text was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    Syntax(String),
    Zero(&'static str),
    OutOfRange { range: Range, value: u64 },
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_and_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The settings a configuration text gives (the defaults for what it
/// leaves out).
pub fn parse(text: &str) -> Result<Settings, ParseError> {
    let file: File = toml::from_str(text).map_err(|e| {
        let message = e.message();
        ParseError::Syntax(match e.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                format!("line {line}, column {column}: {message}")
            }
            None => message.to_string(),
        })
    })?;
    let r = file.repair;
    let mut s = Settings::default();
    // No overflow: every range's maximum is far below u64::MAX / 3_600_000.
    let ms = |secs: u64| secs * 1000;
    // Counts are at most 1_000_000: they fit any usize.
    let count = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    if let Some(v) = COOLDOWN.check(r.cooldown_seconds)? {
        s.policy.cooldown_ms = ms(v);
    }
    if let Some(v) = FAILED_HOLD.check(r.failed_hold_seconds)? {
        s.policy.failed_hold_ms = ms(v);
    }
    if let Some(v) = STORM_TARGETS.check(r.storm_targets)? {
        s.policy.storm_targets = count(v);
    }
    if let Some(v) = STORM_WINDOW.check(r.storm_window_seconds)? {
        s.policy.storm_window_ms = ms(v);
    }
    if let Some(v) = FULL_SCAN_INTERVAL.check(r.full_scan_interval_seconds)? {
        s.policy.full_scan_interval_ms = ms(v);
    }
    if let Some(v) = FULL_SCAN_TIMEOUT.check(r.full_scan_timeout_hours)? {
        s.full_scan_timeout = Duration::from_secs(v * 3600);
    }
    if let Some(v) = MAX_PENDING.check(r.max_pending)? {
        s.policy.max_pending = count(v);
    }
    if let Some(v) = RETRY_LIMIT.check(r.retry_limit)? {
        s.policy.retry_limit = u32::try_from(v).unwrap_or(u32::MAX);
    }
    let p = file.patrol;
    if let Some(v) = p.enabled {
        s.patrol.enabled = v;
    }
    if let Some(v) = BANDWIDTH.check(p.bandwidth_mib_per_second)? {
        s.patrol.bytes_per_second = v << 20;
    }
    if let Some(v) = PATROL_INTERVAL.check(p.interval_hours)? {
        s.patrol.interval = Duration::from_secs(v * 3600);
    }
    if let Some(v) = p.state_dir {
        s.patrol.state_dir = v;
    }
    let a = file.api;
    if let Some(v) = a.enabled {
        s.api.enabled = v;
    }
    if let Some(v) = a.dir {
        s.api.dir = v;
    }
    s.api.group = a.group;
    if let Some(format) = file.output.format {
        s.output = format;
    }
    s.metrics.textfile_dir = file.metrics.textfile_dir;
    if let Some(v) = METRICS_INTERVAL.check(file.metrics.interval_seconds)? {
        s.metrics.interval = Duration::from_secs(v);
    }
    let h = file.hooks;
    s.hooks.dir = h.dir;
    if let Some(classes) = h.classes {
        if let Some(bad) = classes.iter().find(|c| HookClass::from_name(c).is_none()) {
            let known: Vec<&str> = HookClass::ALL.map(HookClass::name).into();
            return Err(ParseError::Syntax(format!(
                "unknown hook class {bad:?}; known: {}",
                known.join(", ")
            )));
        }
        s.hooks.classes = classes;
    }
    if let Some(v) = HOOK_TIMEOUT.check(h.timeout_seconds)? {
        s.hooks.timeout = Duration::from_secs(v);
    }
    if let Some(v) = MAX_RUNNING.check(h.max_running)? {
        s.hooks.max_running = count(v);
    }
    if let Some(v) = HOOK_INTERVAL.check(h.interval_seconds)? {
        s.hooks.interval = Duration::from_secs(v);
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
        assert_eq!(
            (s.policy.storm_targets, s.policy.cooldown_ms),
            (d.storm_targets, d.cooldown_ms)
        );
        let s = parse("[repair]\nstorm_targets = 50\nstorm_window_seconds = 2\n").unwrap();
        assert_eq!(
            (s.policy.storm_targets, s.policy.storm_window_ms),
            (50, 2000)
        );
        assert_eq!(s.policy.max_pending, d.max_pending);
        let s = parse("[repair]\nfull_scan_timeout_hours = 1\n").unwrap();
        assert_eq!(s.full_scan_timeout, Duration::from_secs(3600));
        assert_eq!(s.patrol, PatrolSettings::default());
        assert!(!s.patrol.enabled);
        let s = parse(
            "[patrol]\nenabled = true\nbandwidth_mib_per_second = 4\nstate_dir = \"/tmp/p\"\n",
        )
        .unwrap();
        assert_eq!(
            (
                s.patrol.enabled,
                s.patrol.bytes_per_second,
                s.patrol.state_dir.as_path()
            ),
            (true, 4 << 20, Path::new("/tmp/p"))
        );
        assert_eq!(s.patrol.interval, Duration::from_secs(168 * 3600));
        assert_eq!(s.api, ApiSettings::default());
        let s = parse("[api]\nenabled = false\ngroup = \"adm\"\n").unwrap();
        assert_eq!(
            (s.api.enabled, s.api.group.as_deref()),
            (false, Some("adm"))
        );
        assert_eq!(
            parse("[output]\nformat = \"json\"\n").unwrap().output,
            OutputFormat::Json
        );
        assert!(matches!(
            parse("[output]\nformat = \"xml\"\n"),
            Err(ParseError::Syntax(_))
        ));
        let s = parse("[metrics]\ntextfile_dir = \"/m\"\ninterval_seconds = 2\n").unwrap();
        assert_eq!(
            (s.metrics.textfile_dir.as_deref(), s.metrics.interval),
            (Some(Path::new("/m")), Duration::from_secs(2))
        );
        assert_eq!(
            parse("[metrics]\ninterval_seconds = 0\n").err(),
            Some(ParseError::Zero("interval_seconds"))
        );
        let s =
            parse("[hooks]\ndir = \"/h\"\nclasses = [\"sick\", \"repaired\"]\nmax_running = 2\n")
                .unwrap();
        assert_eq!(
            (
                s.hooks.dir.as_deref(),
                s.hooks.classes.len(),
                s.hooks.max_running
            ),
            (Some(Path::new("/h")), 2, 2)
        );
        assert!(
            matches!(parse("[hooks]\nclasses = [\"sik\"]\n"), Err(ParseError::Syntax(m)) if m.contains("sik"))
        );
        assert_eq!(
            parse("[hooks]\nmax_running = 0\n").err(),
            Some(ParseError::Zero("max_running"))
        );
    }

    #[test]
    fn the_description_is_a_file_that_gives_the_same_settings() {
        let text = "[repair]\nstorm_targets = 7\n[api]\ngroup = \"adm\"\n[metrics]\ntextfile_dir = \"/m\"\n[hooks]\ndir = \"/h\"\nclasses = [\"sick\"]\n";
        let settings = parse(text).unwrap();
        let described = settings.describe();
        let again = parse(&described).unwrap_or_else(|e| panic!("{e:?} in\n{described}"));
        assert_eq!(again.describe(), described);
        assert_eq!(
            (again.policy.storm_targets, again.hooks.classes.as_slice()),
            (7, &["sick".to_string()][..])
        );
        assert_eq!(
            parse(&Settings::default().describe()).unwrap().describe(),
            Settings::default().describe()
        );
    }

    #[test]
    fn typos_and_nonsense_are_errors() {
        assert!(matches!(
            parse("[repair]\nstorm_target = 5\n"),
            Err(ParseError::Syntax(_))
        ));
        assert!(matches!(parse("[repiar]\n"), Err(ParseError::Syntax(_))));
        // The parser's position, as line and column.
        assert!(
            matches!(parse("[repair]\nretry_limit = 3\n  cooldwn_seconds = 5\n"), Err(ParseError::Syntax(m)) if m.starts_with("line 3, column 3: ") && m.contains("cooldwn_seconds")),
            "{:?}",
            parse("[repair]\nretry_limit = 3\n  cooldwn_seconds = 5\n").err()
        );
        assert!(matches!(
            parse("[repair]\nstorm_targets = -1\n"),
            Err(ParseError::Syntax(_))
        ));
        assert!(matches!(
            parse("[repair]\nstorm_targets = \"many\"\n"),
            Err(ParseError::Syntax(_))
        ));
        assert_eq!(
            parse("[repair]\nmax_pending = 0\n").err(),
            Some(ParseError::Zero("max_pending"))
        );
        assert_eq!(
            parse("[patrol]\nbandwidth_mib_per_second = 0\n").err(),
            Some(ParseError::Zero("bandwidth_mib_per_second"))
        );
        assert!(matches!(
            parse("[patrol]\nenable = true\n"),
            Err(ParseError::Syntax(_))
        ));
    }

    /// A file setting `range`'s key to `value`.
    fn one(range: &Range, value: u64) -> String {
        format!("[{}]\n{} = {value}\n", range.section, range.key)
    }

    #[test]
    fn every_bound_is_enforced() {
        for r in RANGES {
            assert!(parse(&one(r, r.min)).is_ok(), "{r:?}");
            assert!(parse(&one(r, r.max)).is_ok(), "{r:?}");
            assert_eq!(
                parse(&one(r, r.max + 1)).err(),
                Some(ParseError::OutOfRange {
                    range: *r,
                    value: r.max + 1
                })
            );
            if r.min == 1 {
                assert_eq!(parse(&one(r, 0)).err(), Some(ParseError::Zero(r.key)));
            }
        }
        assert_eq!(
            parse("[hooks]\ntimeout_seconds = 0\n").err(),
            Some(ParseError::Zero("timeout_seconds"))
        );
        let path =
            std::env::temp_dir().join(format!("xfs_healer-range-{}.toml", std::process::id()));
        std::fs::write(
            &path,
            "[repair]\nfull_scan_interval_seconds = 18446744073709551\n",
        )
        .unwrap();
        let err = load(&path, Presence::Required).expect_err("out of range");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: [repair] full_scan_interval_seconds must be 0 to 315360000, not 18446744073709551",
                path.display()
            )
        );
    }

    /// 100 years of uptime, in milliseconds.
    const CENTURY_MS: u64 = 100 * 365 * 86_400 * 1000;

    /// Every period and timeout of `s` can be added to a clock of a
    /// century, in milliseconds and as an `Instant`.
    fn adds_to_a_century(s: &Settings, text: &str) {
        let p = &s.policy;
        let durations = [
            s.full_scan_timeout,
            s.patrol.interval,
            s.metrics.interval,
            s.hooks.timeout,
            s.hooks.interval,
        ];
        let ms = [
            p.cooldown_ms,
            p.failed_hold_ms,
            p.storm_window_ms,
            p.full_scan_interval_ms,
        ]
        .into_iter()
        .chain(
            durations
                .iter()
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        );
        for v in ms {
            assert!(CENTURY_MS.checked_add(v).is_some(), "{v} ms from\n{text}");
        }
        let now = std::time::Instant::now();
        for d in durations {
            assert!(now.checked_add(d).is_some(), "{d:?} from\n{text}");
        }
        assert!(p.retry_limit.checked_add(1).is_some(), "{text}");
    }

    #[test]
    fn whatever_is_accepted_adds_to_a_century_clock() {
        // The largest value of every key at once.
        let mut merged = String::new();
        for section in ["repair", "patrol", "metrics", "hooks"] {
            merged += &format!("[{section}]\n");
            for r in RANGES.iter().filter(|r| r.section == section) {
                merged += &format!("{} = {}\n", r.key, r.max);
            }
        }
        let s = parse(&merged).unwrap_or_else(|e| panic!("{e:?} in\n{merged}"));
        adds_to_a_century(&s, &merged);
        let again = parse(&s.describe()).expect("its description parses");
        assert_eq!(again.describe(), s.describe());
        // Each key over all of TOML's non-negative integers: the edges and
        // a log-uniform sweep (a fixed generator, so a failure repeats).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values = vec![0, 1, 2, i64::MAX as u64, i64::MAX as u64 - 1];
        for r in RANGES {
            values.extend([r.max - 1, r.max, r.max + 1, r.max.saturating_mul(1000)]);
        }
        for _ in 0..512 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push((x >> 1) >> (x % 63));
        }
        for r in RANGES {
            for &v in &values {
                let text = one(r, v);
                if let Ok(s) = parse(&text) {
                    adds_to_a_century(&s, &text);
                }
            }
        }
    }

    #[test]
    fn what_will_not_work_is_named() {
        assert!(problems(&Settings::default()).is_empty());
        let s = parse(
            "[hooks]\ndir = \"/nonexistent/hooks.d\"\n[metrics]\ntextfile_dir = \"/dev/null\"\n[api]\ngroup = \"no-such-group-here\"\n",
        )
        .unwrap();
        let found = problems(&s);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("[hooks] dir /nonexistent/hooks.d: No such file"));
        assert_eq!(
            found[1],
            "[metrics] textfile_dir /dev/null: not a directory"
        );
        assert_eq!(
            found[2],
            "[api] group \"no-such-group-here\": no such group"
        );
        let s = parse("[hooks]\ndir = \"/tmp\"\n").unwrap();
        assert_eq!(
            problems(&s),
            ["[hooks] dir /tmp: not trusted: writable by group or others (mode 1777)"]
        );
    }

    #[test]
    fn groups_by_number_or_through_the_name_service() {
        assert_eq!(group_id("27"), Some(27));
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("no-such-group-here"), None);
    }

    #[test]
    fn a_file_others_may_write_or_another_user_owns_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let path =
            std::env::temp_dir().join(format!("xfs-healer-trust-{}.toml", std::process::id()));
        std::fs::write(&path, "[repair]\nretry_limit = 2\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            load(&path, Presence::Required).unwrap().policy.retry_limit,
            2
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let refused = load(&path, Presence::Required).unwrap_err().to_string();
        assert!(
            refused.ends_with("not trusted: writable by group or others (mode 0666)"),
            "{refused}"
        );
        std::fs::remove_file(&path).unwrap();
        // Owned by someone else: /etc/passwd when we are not root.
        if rustix::process::geteuid().as_raw() != 0 {
            let refused = load(Path::new("/etc/passwd"), Presence::Required).unwrap_err();
            assert!(
                matches!(refused, ConfigError::Untrusted { .. }),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_the_defaults_and_an_unreadable_one_an_error() {
        let missing = Path::new("/nonexistent/xfs_healer.toml");
        assert!(load(missing, Presence::Optional).is_ok());
        let named = load(missing, Presence::Required).expect_err("a named file must exist");
        assert!(
            named
                .to_string()
                .starts_with("/nonexistent/xfs_healer.toml"),
            "{named}"
        );
        let dir = std::env::temp_dir();
        let err = load(&dir, Presence::Optional).expect_err("a directory is not a config file");
        assert!(
            err.to_string().starts_with(&dir.display().to_string()),
            "{err}"
        );
    }
}
