//! `xfs_healerctl`: the status API of running healers, for humans and
//! scripts. `status` shows each healer's filesystem health and work
//! (`--check`: one verdict line each, for monitoring), `events` its latest
//! events (or follows them live, every healer at once), `scan` asks for a full scan,
//! `test-event` sends a test event through every sink; `--json`
//! prints the API's own objects, one per line.
//!
//! Every failure has its exit status (the constants below, and the man
//! page): a monitoring check tells "sick" from "not answering" from
//! "may not ask". Connects and reads give up after `--timeout`.
//!
//! Output errors never panic (println! would, and release builds abort):
//! EPIPE, a reader that stopped reading (`events --follow | head`), ends
//! the program quietly with status 0, as it got what it wanted; any other
//! (ENOSPC, EIO) is said on stderr and exits 1, as the output is lost.

mod cli;
mod client;
mod show;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command};
use client::{Connection, Problem};
use serde_json::{Value, json};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xfs_varlink::{Event, Status};

/// Done; with `status --check`, every filesystem is healthy.
const OK: u8 = 0;
/// `status --check`: sick objects or failed repairs.
const SICK: u8 = 1;
/// A call failed, the output could not be written, or `check-config`
/// refuses the file.
const FAILED: u8 = 1;
/// No healer answers (none runs, a stale socket, no answer in time), none
/// monitors a mount point asked for, or (`--check`) a filesystem shut down.
const UNREACHABLE: u8 = 2;
/// The socket directory does not exist.
const NO_DIRECTORY: u8 = 3;
/// The sockets exist but this user may not use them.
const DENIED: u8 = 4;
/// The command line is wrong (`EX_USAGE`).
const USAGE: u8 = 64;

/// Why a command did not complete.
#[derive(Debug)]
enum Failure {
    /// Said as `xfs_healerctl: <message>`, exiting with the status.
    Message(u8, String),
    /// Already said on stderr; exit with the status.
    Said(u8),
    /// Writing stdout failed.
    Output(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Output(e)
    }
}

impl Failure {
    fn at(socket: &Path, problem: &Problem) -> Failure {
        Failure::Message(
            problem.exit_status(),
            format!("{}: {}", socket.display(), problem.message()),
        )
    }
}

fn same_mount(asked: &Path, served: &str) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    asked == Path::new(served) || canonical(asked) == canonical(Path::new(served))
}

/// The healers asked for (all, or those of `mounts`) with the worst exit
/// status of what went wrong on the way, said on stderr: sockets that did
/// not answer (unless every mount point asked for was found), mount
/// points no healer monitors. Fails if none is left.
fn select(cli: &Cli, mounts: &[PathBuf]) -> Result<(Vec<(PathBuf, Status)>, u8), Failure> {
    let survey = client::survey(&cli.socket_dir, cli.timeout)
        .map_err(|e| Failure::Message(e.exit_status(), e.message()))?;
    let chosen: Vec<_> = survey
        .healers
        .into_iter()
        .filter(|(_, s)| mounts.is_empty() || mounts.iter().any(|m| same_mount(m, &s.mountpoint)))
        .collect();
    let missing: Vec<_> = mounts
        .iter()
        .filter(|m| !chosen.iter().any(|(_, s)| same_mount(m, &s.mountpoint)))
        .map(|m| m.display().to_string())
        .collect();
    if chosen.is_empty() && mounts.is_empty() && survey.problems.is_empty() {
        return Err(Failure::Message(
            UNREACHABLE,
            format!(
                "no healer is running (no socket in {})",
                cli.socket_dir.display()
            ),
        ));
    }
    let mut worst = OK;
    if mounts.is_empty() || !missing.is_empty() {
        for (socket, problem) in &survey.problems {
            complain(&format!("{}: {}", socket.display(), problem.message()));
            worst = worst.max(problem.exit_status());
        }
    }
    if !missing.is_empty() {
        complain(&format!("no healer monitors {}", missing.join(", ")));
        worst = worst.max(UNREACHABLE);
    }
    if chosen.is_empty() {
        return Err(Failure::Said(worst));
    }
    Ok((chosen, worst))
}

/// Parses the configuration as the daemon would and prints the result:
/// the settings in the file's syntax, or with `--json` as one object
/// (`{"file", "exists", "settings"}`, or `{"file", "error"}`).
fn check_config(out: &mut impl Write, file: Option<&Path>, json: bool) -> Result<u8, Failure> {
    use xfs_healer::config::Presence;
    let (path, presence) = file.map_or_else(xfs_healer::config::path, |named| {
        (named.to_path_buf(), Presence::Required)
    });
    let absent = presence == Presence::Optional && !path.exists();
    let loaded = xfs_healer::config::load(&path, presence);
    let problems = loaded
        .as_ref()
        .map(xfs_healer::config::problems)
        .unwrap_or_default();
    let status = if problems.is_empty() { OK } else { FAILED };
    if json {
        let file = path.to_string_lossy();
        let value = match loaded {
            Ok(settings) => {
                let mut value = settings_json(&file, !absent, &settings.describe())?;
                value["problems"] = problems.into();
                value
            }
            Err(e) => {
                return writeln!(out, "{}", json!({ "file": file, "error": e.to_string() }))
                    .map(|()| FAILED)
                    .map_err(Failure::from);
            }
        };
        writeln!(out, "{value}")?;
        return Ok(status);
    }
    if absent {
        writeln!(
            out,
            "# {} does not exist: the defaults apply",
            path.display()
        )?;
    }
    let settings = loaded.map_err(|e| Failure::Message(FAILED, e.to_string()))?;
    for problem in &problems {
        writeln!(out, "# problem: {problem}")?;
    }
    write!(out, "{}", settings.describe())?;
    Ok(status)
}

/// The settings as described (TOML) turned into a JSON object.
fn settings_json(file: &str, exists: bool, described: &str) -> Result<Value, Failure> {
    let settings: Value = toml::from_str(described)
        .map_err(|e| Failure::Message(FAILED, format!("the settings do not read back: {e}")))?;
    Ok(json!({ "file": file, "exists": exists, "settings": settings }))
}

fn print_events(
    out: &mut impl Write,
    found: &[(PathBuf, Status)],
    json: bool,
) -> std::io::Result<()> {
    for (_, status) in found {
        for event in &status.last_events {
            show::print_event(out, event, json)?;
        }
    }
    Ok(())
}

/// Streams one healer's events into `each` until the healer ends the
/// stream or `each` wants no more.
fn stream_events(
    socket: &Path,
    timeout: std::time::Duration,
    since: Option<u64>,
    mut each: impl FnMut(Event) -> bool,
) -> Result<(), Problem> {
    let mut conn = Connection::open(socket, timeout)?;
    let parameters = match since {
        Some(seq) => json!({ "since": seq }),
        None => json!({}),
    };
    conn.send_with("io.xfs.Healer.Events", parameters, true)?;
    conn.wait_forever()?;
    loop {
        let (params, continues) = conn.receive()?;
        let event = serde_json::from_value::<Event>(params["event"].clone())
            .map_err(|e| Problem::Failed(format!("an event that does not read: {e}")))?;
        if !each(event) {
            return Ok(());
        }
        if !continues {
            return Ok(());
        }
    }
}

/// Follows every healer found at once, each line as it comes: a thread
/// per healer. A stream that fails is said and the others go on; the
/// status is the worst of their ends.
fn follow(
    out: &mut impl Write,
    cli: &Cli,
    found: &[(PathBuf, Status)],
    since: Option<u64>,
) -> Result<u8, Failure> {
    let (tx, rx) = std::sync::mpsc::channel();
    for (i, (socket, _)) in found.iter().enumerate() {
        let (tx, socket, timeout) = (tx.clone(), socket.clone(), cli.timeout);
        std::thread::spawn(move || {
            let end = stream_events(&socket, timeout, since, |e| tx.send((i, Ok(e))).is_ok());
            let _ = tx.send((i, Err(end)));
        });
    }
    drop(tx);
    let mut worst = OK;
    for (i, item) in rx {
        let (socket, _) = &found[i];
        match item {
            Ok(event) => {
                show::print_event(out, &event, cli.json)?;
                out.flush()?;
            }
            Err(Ok(())) => {}
            Err(Err(problem)) => {
                complain(&format!("{}: {}", socket.display(), problem.message()));
                worst = worst.max(problem.exit_status());
            }
        }
    }
    Ok(worst)
}

fn scan(out: &mut impl Write, cli: &Cli, socket: &Path, status: &Status) -> Result<u8, Failure> {
    let fail = |p: Problem| Failure::at(socket, &p);
    let reply = Connection::open(socket, cli.timeout)
        .and_then(|mut c| c.call("io.xfs.Healer.RequestFullScan"))
        .map_err(fail)?;
    if cli.json {
        writeln!(out, "{reply}")?;
    } else if reply["started"].as_bool() == Some(true) {
        writeln!(out, "{}: full scan started", status.mountpoint)?;
    } else if reply["deferred"].as_bool() == Some(true) {
        writeln!(
            out,
            "{}: full scan deferred (one ran recently)",
            status.mountpoint
        )?;
    } else {
        writeln!(out, "{}: a full scan is already running", status.mountpoint)?;
    }
    Ok(OK)
}

/// Sends a test event of `class`; done (0) once the healer says it went
/// to its sinks.
fn test_event(
    out: &mut impl Write,
    cli: &Cli,
    socket: &Path,
    status: &Status,
    class: &str,
) -> Result<u8, Failure> {
    let reply = Connection::open(socket, cli.timeout)
        .and_then(|mut c| c.call_with("io.xfs.Healer.TestEvent", json!({ "class": class })))
        .map_err(|p| match p {
            // A healer older than this program.
            Problem::Failed(e) if e.starts_with("org.varlink.service.MethodNotFound") => {
                Failure::Message(
                    FAILED,
                    format!(
                        "{}: this healer has no test events (it is older than xfs_healerctl)",
                        socket.display()
                    ),
                )
            }
            Problem::Failed(e) if e.starts_with("org.varlink.service.InvalidParameter") => {
                Failure::Message(
                    FAILED,
                    format!(
                        "{}: this healer does not know the class {class:?}",
                        socket.display()
                    ),
                )
            }
            p => Failure::at(socket, &p),
        })?;
    if cli.json {
        writeln!(out, "{reply}")?;
    } else if reply["hooks"].as_bool() == Some(true) {
        writeln!(
            out,
            "{}: test event ({class}) sent: log, status API, metrics, {class} hooks",
            status.mountpoint
        )?;
    } else {
        writeln!(
            out,
            "{}: test event ({class}) sent: log, status API, metrics; no hooks \
             ([hooks] dir is not set or {class} is not in [hooks] classes)",
            status.mountpoint
        )?;
    }
    Ok(OK)
}

/// Runs the command; the exit status of one that completed.
fn run(out: &mut impl Write, cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::CheckConfig { file } => check_config(out, file.as_deref(), cli.json),
        Command::Completion { shell } => {
            // Into a buffer: clap_complete panics on a write error.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "xfs_healerctl", &mut script);
            out.write_all(&script)?;
            Ok(OK)
        }
        Command::Status { check, mounts } => {
            let (found, mut worst) = select(cli, mounts)?;
            for (_, status) in &found {
                if cli.json {
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string(status).map_err(std::io::Error::from)?
                    )?;
                }
                if *check {
                    let (verdict, line) = show::check(status);
                    worst = worst.max(verdict);
                    if !cli.json {
                        writeln!(out, "{line}")?;
                    }
                } else if !cli.json {
                    show::print_status(out, status)?;
                }
            }
            Ok(worst)
        }
        Command::Events {
            follow: false,
            mount,
            ..
        } => {
            let (found, worst) = select(cli, mount.as_slice())?;
            print_events(out, &found, cli.json)?;
            Ok(worst)
        }
        Command::Events {
            follow: true,
            mount,
            since,
        } => {
            let (found, worst) = select(cli, mount.as_slice())?;
            Ok(worst.max(follow(out, cli, &found, *since)?))
        }
        Command::Scan { mount } => {
            let (found, _) = select(cli, std::slice::from_ref(mount))?;
            let (socket, status) = &found[0];
            scan(out, cli, socket, status)
        }
        Command::TestEvent { class, mount } => {
            let (found, _) = select(cli, std::slice::from_ref(mount))?;
            let (socket, status) = &found[0];
            test_event(out, cli, socket, status, class)
        }
    }
}

/// A line on stderr; if even that fails there is no one left to tell.
fn complain(text: &str) {
    let _ = std::io::stderr().write_all(format!("xfs_healerctl: {text}\n").as_bytes());
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version on stdout with status 0; errors on stderr.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { OK });
        }
    };
    let mut out = std::io::stdout().lock();
    match run(&mut out, &cli).and_then(|status| {
        out.flush()?;
        Ok(status)
    }) {
        Ok(status) => ExitCode::from(status),
        // The reader is gone and wanted no more: not a failure (see the
        // module doc).
        Err(Failure::Output(e)) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            complain(&format!("write error: {e}"));
            ExitCode::from(FAILED)
        }
        Err(Failure::Message(status, e)) => {
            complain(&e);
            ExitCode::from(status)
        }
        Err(Failure::Said(status)) => ExitCode::from(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration file of `text`, mode 0644, in a scratch directory.
    fn config_file(tag: &str, text: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xfs-healerctl-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("xfs_healer.toml");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        path
    }

    #[test]
    fn check_config_json_is_one_object_of_the_settings() {
        let path = config_file("json", "");
        let mut out = Vec::new();
        let status = check_config(&mut out, Some(&path), true).unwrap();
        assert_eq!(status, OK);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["file"], path.to_str().unwrap());
        assert_eq!(v["exists"], true);
        assert_eq!(v["problems"], json!([]));
        assert_eq!(v["settings"]["api"]["dir"], "/run/xfs_healer");
        assert!(v["settings"]["repair"]["cooldown_seconds"].is_u64());
        assert!(v["settings"]["hooks"]["classes"].is_array());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn check_config_fails_on_what_will_not_work_and_on_a_file_others_may_write() {
        use std::os::unix::fs::PermissionsExt;
        let path = config_file("problems", "[hooks]\ndir = \"/nonexistent/hooks.d\"\n");
        let mut out = Vec::new();
        assert_eq!(check_config(&mut out, Some(&path), false).unwrap(), FAILED);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("# problem: [hooks] dir /nonexistent/hooks.d: No such file"),
            "{text}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let refused = check_config(&mut Vec::new(), Some(&path), false);
        assert!(
            matches!(&refused, Err(Failure::Message(FAILED, e)) if e.ends_with("not trusted: writable by group or others (mode 0666)")),
            "{refused:?}"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn check_config_json_names_the_error() {
        let mut out = Vec::new();
        let missing = Path::new("/nonexistent/xfs_healer.toml");
        assert_eq!(check_config(&mut out, Some(missing), true).unwrap(), FAILED);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["file"], "/nonexistent/xfs_healer.toml");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("/nonexistent/xfs_healer.toml: ")
        );
    }

    #[test]
    fn the_committed_completions_are_the_generated_ones() {
        for shell in ["bash", "zsh", "fish"] {
            let file = format!(
                "{}/../../packaging/completions/xfs_healerctl.{shell}",
                env!("CARGO_MANIFEST_DIR")
            );
            let cli = Cli::try_parse_from(["xfs_healerctl", "completion", shell]).unwrap();
            let mut generated = Vec::new();
            assert_eq!(run(&mut generated, &cli).unwrap(), OK);
            let committed = std::fs::read(&file).unwrap_or_default();
            assert!(
                committed == generated,
                "{file} is not what the binary generates: run \
                 `xfs_healerctl completion {shell} > packaging/completions/xfs_healerctl.{shell}`"
            );
        }
    }
}
