//! `xfs_healer_start`'s command line, as xfsprogs 7.2 parses it: glibc
//! `getopt_long` with short options `"V"`; `-V` prints the version at once,
//! `--help` and the first error print usage and exit 1; positional
//! arguments are ignored.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use xfs_getopt::{HasArg, Item, LongOpt, parse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Debug,
    Help,
    Mountns,
    Supported,
}

const LONG: &[LongOpt<'static, Opt>] = &[
    LongOpt {
        name: "debug",
        has_arg: HasArg::No,
        id: Opt::Debug,
    },
    LongOpt {
        name: "help",
        has_arg: HasArg::No,
        id: Opt::Help,
    },
    LongOpt {
        name: "mountns",
        has_arg: HasArg::Required,
        id: Opt::Mountns,
    },
    LongOpt {
        name: "supported",
        has_arg: HasArg::No,
        id: Opt::Supported,
    },
];

const USAGE: &str = "\
Usage: xfs_healer_start [OPTIONS]

Options:
  --debug      Enable debugging messages.
  --mountns    Path to the mount namespace file.
  --supported  Make sure we can actually run.
  -V           Print version.
";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    pub debug: bool,
    /// `--mountns`; None: `/proc/self/ns/mnt`.
    pub mountns: Option<OsString>,
    pub supported: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Print on stdout, exit 0.
    Version(String),
    /// Print on stderr, exit 1.
    Usage(Vec<u8>),
    Run(Options),
}

pub fn parse_args(args: &[OsString]) -> Command {
    let progname = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .unwrap_or(OsStr::new("xfs_healer_start"))
        .to_string_lossy()
        .into_owned();
    let mut options = Options::default();
    for item in parse(
        args,
        "V",
        LONG,
        std::env::var_os("POSIXLY_CORRECT").is_some(),
    )
    .items
    {
        match item {
            Item::Short(_) => return Command::Version(format!("{progname} version 7.2.0\n")),
            Item::Error(line) => {
                let mut text = line.as_bytes().to_vec();
                text.push(b'\n');
                text.extend_from_slice(USAGE.as_bytes());
                return Command::Usage(text);
            }
            Item::Long { id: Opt::Help, .. } => return Command::Usage(USAGE.as_bytes().to_vec()),
            Item::Long { id: Opt::Debug, .. } => options.debug = true,
            Item::Long {
                id: Opt::Supported, ..
            } => options.supported = true,
            Item::Long {
                id: Opt::Mountns,
                value,
            } => options.mountns = value,
        }
    }
    Command::Run(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// argv[0] as the reference saw it when run through sid's loader.
    const ARGV0: &str = "/tmp/sidroot/usr/libexec/xfsprogs/xfs_healer_start";

    /// What the reference did, observed by running xfsprogs 7.2.0's
    /// `xfs_healer_start` with the same arguments.
    #[derive(Debug, PartialEq, Eq)]
    enum Outcome {
        /// stdout `xfs_healer_start version 7.2.0`, exit 0.
        Version,
        /// stderr: the diagnostic (if any), then usage; exit 1.
        Usage(Option<String>),
        /// Goes on to run with these settings.
        Run {
            debug: bool,
            mountns: Option<String>,
            supported: bool,
        },
    }

    fn outcome(argv: &[&str]) -> Outcome {
        let args: Vec<OsString> = std::iter::once(ARGV0)
            .chain(argv.iter().copied())
            .map(OsString::from)
            .collect();
        match parse_args(&args) {
            Command::Version(text) => {
                assert_eq!(text, "xfs_healer_start version 7.2.0\n");
                Outcome::Version
            }
            Command::Usage(text) => {
                let text = String::from_utf8(text).expect("usage is text");
                let diagnostic = text.strip_suffix(USAGE).expect("usage text last");
                Outcome::Usage((!diagnostic.is_empty()).then(|| diagnostic.trim_end().to_string()))
            }
            Command::Run(o) => Outcome::Run {
                debug: o.debug,
                mountns: o.mountns.map(|v| v.to_string_lossy().into_owned()),
                supported: o.supported,
            },
        }
    }

    fn usage_after(diagnostic: &str) -> Outcome {
        Outcome::Usage(Some(format!("{ARGV0}: {diagnostic}")))
    }

    fn run(debug: bool, mountns: Option<&str>, supported: bool) -> Outcome {
        Outcome::Run {
            debug,
            mountns: mountns.map(String::from),
            supported,
        }
    }

    #[test]
    fn matches_reference_xfs_healer_start() {
        let cases: &[(&[&str], Outcome)] = &[
            (&["--bogus"], usage_after("unrecognized option '--bogus'")),
            (&["-x"], usage_after("invalid option -- 'x'")),
            (
                &["--mountns"],
                usage_after("option '--mountns' requires an argument"),
            ),
            (
                &["--debug=1"],
                usage_after("option '--debug' doesn't allow an argument"),
            ),
            // Abbreviations are reported under the full name.
            (
                &["--d=1"],
                usage_after("option '--debug' doesn't allow an argument"),
            ),
            (
                &["--he=1"],
                usage_after("option '--help' doesn't allow an argument"),
            ),
            (
                &["--=x"],
                usage_after(
                    "option '--=x' is ambiguous; possibilities: \
                 '--debug' '--help' '--mountns' '--supported'",
                ),
            ),
            // Only the first error is shown: the program exits on it.
            (
                &["--bogus", "-x"],
                usage_after("unrecognized option '--bogus'"),
            ),
            (&["--help"], Outcome::Usage(None)),
            (&["--h"], Outcome::Usage(None)),
            (&["-V"], Outcome::Version),
            (&["-VV"], Outcome::Version),
            (&["-V", "foo"], Outcome::Version),
            // -V exits before the later option is even looked at.
            (&["-V", "--bogus"], Outcome::Version),
            (&["-V", "--mountns"], Outcome::Version),
            // Reference: "--s" and "--su" exit 0 (the --supported path); there
            // is no --svcname here, so "--s" is not ambiguous.
            (&["--s"], run(false, None, true)),
            (&["--su"], run(false, None, true)),
            // Reference: each of these printed "/nonexist: No such file or
            // directory", i.e. it opened the given namespace file.
            (
                &["--mountns", "/nonexist"],
                run(false, Some("/nonexist"), false),
            ),
            (
                &["--mountns=/nonexist"],
                run(false, Some("/nonexist"), false),
            ),
            (&["--m", "/nonexist"], run(false, Some("/nonexist"), false)),
            (&["--mount=/nonexist"], run(false, Some("/nonexist"), false)),
            // Reference: "/nonexist: No such file or directory" for both, so
            // options after a positional are still seen.
            (
                &["--debug", "--mountns", "/nonexist"],
                run(true, Some("/nonexist"), false),
            ),
            (
                &["x", "--mountns", "/nonexist", "--deb"],
                run(true, Some("/nonexist"), false),
            ),
            // Reference: "No such file or directory" (perror of the empty path).
            (&["--mountns="], run(false, Some(""), false)),
            // Reference: "--debug: No such file or directory" and
            // "-V: No such file or directory": the required argument swallows
            // the next word whatever it looks like.
            (
                &["--mountns", "--debug"],
                run(false, Some("--debug"), false),
            ),
            (&["--mountns", "-V"], run(false, Some("-V"), false)),
            // Reference: ran (positional arguments are ignored).
            (&["foo"], run(false, None, false)),
        ];
        for (argv, expected) in cases {
            assert_eq!(&outcome(argv), expected, "argv {argv:?}");
        }
    }
}
