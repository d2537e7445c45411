//! The command line, on `clap`. Paths are `PathBuf`s: a mount point or a
//! file name need not be UTF-8.

use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand, ValueHint};
use std::path::PathBuf;
use std::time::Duration;
use xfs_healer::kinds::HookClass;

/// Ask running XFS healers what they know.
#[derive(Debug, Parser)]
#[command(
    name = "xfs_healerctl",
    version = concat!("(xfs-healer) ", env!("CARGO_PKG_VERSION")),
    after_help = "Exit status: 0 success (with status --check: every filesystem healthy), \
                  1 sick objects or failed repairs (status --check) or a failed command, \
                  2 a healer that does not answer or has shut down, 3 no socket directory, \
                  4 permission denied, 64 usage error. See xfs_healerctl(8)."
)]
pub struct Cli {
    /// One JSON object per line (the io.xfs.Healer types).
    #[arg(long, global = true)]
    pub json: bool,
    /// Where the healers' sockets are.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/run/xfs_healer",
        value_hint = ValueHint::DirPath
    )]
    pub socket_dir: PathBuf,
    /// How long to wait for a healer to accept and for each of its answers.
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value = "5",
        value_parser = seconds
    )]
    pub timeout: Duration,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Health and repair work of each monitored filesystem.
    Status {
        /// One line per filesystem; exit 0 if all are healthy, 1 if any
        /// has sick objects or failed repairs, 2 if any has shut down or
        /// does not answer.
        #[arg(short = 'x', long)]
        check: bool,
        #[arg(value_name = "MOUNTPOINT", value_hint = ValueHint::DirPath)]
        mounts: Vec<PathBuf>,
    },
    /// The latest events; --follow streams new ones.
    Events {
        /// Stream new events as they happen, of every healer at once (or
        /// the one named), until interrupted.
        #[arg(short, long)]
        follow: bool,
        /// With --follow and a MOUNTPOINT: first the events after this
        /// seq that the healer still holds (the latest 256), then new ones;
        /// a gap is told as a "lost" event.
        #[arg(long, value_name = "SEQ", requires_all = ["follow", "mount"])]
        since: Option<u64>,
        #[arg(value_name = "MOUNTPOINT", value_hint = ValueHint::DirPath)]
        mount: Option<PathBuf>,
    },
    /// Ask for a full xfs_scrub run.
    Scan {
        #[arg(value_name = "MOUNTPOINT", value_hint = ValueHint::DirPath)]
        mount: PathBuf,
    },
    /// Send a test event through every sink of a healer.
    ///
    /// Its log line, the hooks of the class (with XFS_TEST=1), the status
    /// API's events and the metrics get it; nothing is repaired.
    TestEvent {
        /// The class of event it poses as (the hooks of that class run).
        #[arg(
            long,
            value_name = "CLASS",
            default_value = HookClass::TEST_DEFAULT.name(),
            value_parser = PossibleValuesParser::new(HookClass::ALL.map(HookClass::name))
        )]
        class: String,
        #[arg(value_name = "MOUNTPOINT", value_hint = ValueHint::DirPath)]
        mount: PathBuf,
    },
    /// Check the configuration file (default: $XFS_HEALER_CONFIG or
    /// /etc/xfs_healer.toml) and print the settings it gives.
    CheckConfig {
        #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
        file: Option<PathBuf>,
    },
    /// Print a shell completion script.
    #[command(hide = true)]
    Completion { shell: clap_complete::Shell },
}

/// `--timeout`: a positive number of seconds, fractions allowed.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 => {
            Duration::try_from_secs_f64(s).map_err(|_| format!("{text} seconds is too long"))
        }
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::Path;

    fn args(a: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("xfs_healerctl").chain(a.split_whitespace()))
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_and_options() {
        let o = args("--json events --follow /mnt").unwrap();
        assert!(o.json);
        assert!(
            matches!(o.command, Command::Events { follow: true, mount: Some(m), since: None } if m == Path::new("/mnt"))
        );
        assert!(matches!(
            args("events -f --since 41 /mnt").unwrap().command,
            Command::Events {
                since: Some(41),
                ..
            }
        ));
        // A seq is one healer's: --since needs --follow and a mount point.
        assert!(args("events --since 41 /mnt").is_err());
        assert!(args("events -f --since 41").is_err());
        let Command::Status { check, mounts } = args("status /a /b").unwrap().command else {
            panic!("not status")
        };
        assert!(!check);
        assert_eq!(mounts, [Path::new("/a"), Path::new("/b")]);
        assert!(matches!(
            args("status -x").unwrap().command,
            Command::Status { check: true, .. }
        ));
        assert!(matches!(
            args("status --check /a").unwrap().command,
            Command::Status { check: true, .. }
        ));
        assert!(matches!(
            args("events -f").unwrap().command,
            Command::Events {
                follow: true,
                mount: None,
                since: None
            }
        ));
        assert_eq!(
            args("--socket-dir /tmp/s status").unwrap().socket_dir,
            Path::new("/tmp/s")
        );
        assert_eq!(
            args("--socket-dir=/tmp/s status").unwrap().socket_dir,
            Path::new("/tmp/s")
        );
        // Options common to all commands may follow the command too.
        let o = args("status --json --socket-dir /tmp/t --timeout 0.5").unwrap();
        assert!(o.json);
        assert_eq!(o.socket_dir, Path::new("/tmp/t"));
        assert_eq!(o.timeout, Duration::from_millis(500));
        let o = args("status").unwrap();
        assert_eq!(
            (o.socket_dir.as_path(), o.timeout, o.json),
            (Path::new("/run/xfs_healer"), Duration::from_secs(5), false)
        );
        assert!(
            matches!(args("check-config /etc/x.toml").unwrap().command, Command::CheckConfig { file: Some(f) } if f == Path::new("/etc/x.toml"))
        );
        assert!(
            matches!(args("test-event /mnt").unwrap().command, Command::TestEvent { class, mount } if class == "sick" && mount == Path::new("/mnt"))
        );
        assert!(matches!(
            args("test-event --class repair_failed /mnt").unwrap().command,
            Command::TestEvent { class, .. } if class == "repair_failed"
        ));
        let unknown = args("test-event --class sik /mnt").unwrap_err();
        assert_eq!(unknown.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(
            unknown
                .to_string()
                .contains("[possible values: running, sick,"),
            "{unknown}"
        );
        for bad in [
            "",
            "scan",
            "scan /a /b",
            "status --follow",
            "frob",
            "check-config a b",
            "status --bogus",
            "events /a /b",
            "test-event",
            "test-event /a /b",
            "test-event --class /a",
            "--timeout 0 status",
            "--timeout -1 status",
            "--timeout x status",
            "--socket-dir",
        ] {
            assert!(args(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn help_and_version_are_not_errors() {
        let help = args("--help").unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(!help.use_stderr());
        let version = args("--version").unwrap_err();
        assert_eq!(version.kind(), clap::error::ErrorKind::DisplayVersion);
        assert_eq!(
            version.to_string(),
            format!("xfs_healerctl (xfs-healer) {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}
