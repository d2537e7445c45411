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
    LongOpt { name: "debug", has_arg: HasArg::No, id: Opt::Debug },
    LongOpt { name: "help", has_arg: HasArg::No, id: Opt::Help },
    LongOpt { name: "mountns", has_arg: HasArg::Required, id: Opt::Mountns },
    LongOpt { name: "supported", has_arg: HasArg::No, id: Opt::Supported },
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
    for item in parse(args, "V", LONG, std::env::var_os("POSIXLY_CORRECT").is_some()).items {
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
            Item::Long { id: Opt::Supported, .. } => options.supported = true,
            Item::Long { id: Opt::Mountns, value } => options.mountns = value,
        }
    }
    Command::Run(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(argv: &[&str]) -> Command {
        let args: Vec<OsString> = std::iter::once("/usr/libexec/xfsprogs/xfs_healer_start")
            .chain(argv.iter().copied())
            .map(OsString::from)
            .collect();
        parse_args(&args)
    }

    #[test]
    fn matches_the_reference() {
        assert_eq!(run(&["-V", "--bogus"]), Command::Version("xfs_healer_start version 7.2.0\n".into()));
        assert_eq!(run(&["--help"]), Command::Usage(USAGE.as_bytes().to_vec()));
        let Command::Usage(text) = run(&["--bogus"]) else { panic!("usage expected") };
        assert!(text.starts_with(b"/usr/libexec/xfsprogs/xfs_healer_start: unrecognized option '--bogus'\nUsage: "));
        assert_eq!(
            run(&["x", "--mountns", "/proc/1/ns/mnt", "--deb", "--s"]),
            Command::Run(Options { debug: true, mountns: Some("/proc/1/ns/mnt".into()), supported: true })
        );
    }
}
