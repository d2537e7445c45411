//! `xfs_healerctl`: the status API of running healers, for humans and
//! scripts. `status` shows each healer's filesystem health and work,
//! `events` its latest events (or follows them live), `scan` asks for a
//! full scan; `--json` prints the API's own objects, one per line.
//!
//! Output errors never panic (println! would, and release builds abort):
//! EPIPE, a reader that stopped reading (`events --follow | head`), ends
//! the program quietly with status 0, as it got what it wanted; any other
//! (ENOSPC, EIO) is said on stderr and exits 1, as the output is lost.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xfs_varlink::{Event, Status};

const USAGE: &str = "\
Usage: xfs_healerctl [--json] [--socket-dir DIR] COMMAND [MOUNTPOINT...]

Commands:
  status [MOUNTPOINT...]         health and repair work of each monitored filesystem
  events [--follow] [MOUNTPOINT] the latest events; --follow streams new ones
  scan MOUNTPOINT                ask for a full xfs_scrub run
  check-config [FILE]            check the configuration file (default: $XFS_HEALER_CONFIG
                                 or /etc/xfs_healer.toml) and print the settings it gives

Options:
  --json            one JSON object per line (the io.xfs.Healer types)
  --socket-dir DIR  where the healers' sockets are (default /run/xfs_healer)
";

struct Options {
    json: bool,
    follow: bool,
    dir: PathBuf,
    command: String,
    mounts: Vec<String>,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        json: false,
        follow: false,
        dir: PathBuf::from("/run/xfs_healer"),
        command: String::new(),
        mounts: Vec::new(),
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => o.json = true,
            "--follow" | "-f" => o.follow = true,
            "--socket-dir" => {
                o.dir = PathBuf::from(args.next().ok_or("--socket-dir needs a directory")?)
            }
            "--help" | "-h" => return Err(String::new()),
            a if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ if o.command.is_empty() => o.command = arg,
            _ => o.mounts.push(arg),
        }
    }
    match o.command.as_str() {
        "status" => {}
        "events" if o.mounts.len() <= 1 => {}
        "scan" if o.mounts.len() == 1 => {}
        "check-config" if o.mounts.len() <= 1 => {}
        "" => return Err("no command".into()),
        "events" | "scan" | "check-config" => {
            return Err(format!("{}: wrong number of arguments", o.command));
        }
        other => return Err(format!("unknown command {other}")),
    }
    if o.follow && o.command != "events" {
        return Err("--follow is for events".into());
    }
    Ok(o)
}

/// Why a command did not complete.
enum Failure {
    /// Said as `xfs_healerctl: <message>`.
    Message(String),
    /// Writing stdout failed.
    Output(std::io::Error),
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::Message(message.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Output(e)
    }
}

/// One connection to a healer.
struct Connection {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Connection {
    fn open(path: &Path) -> std::io::Result<Connection> {
        let stream = UnixStream::connect(path)?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn send(&mut self, method: &str, more: bool) -> std::io::Result<()> {
        let mut msg =
            serde_json::to_vec(&json!({ "method": method, "parameters": {}, "more": more }))?;
        msg.push(0);
        self.writer.write_all(&msg)
    }

    /// The next reply's parameters; Err for a varlink error or a closed socket.
    fn receive(&mut self) -> Result<(Value, bool), String> {
        let mut buf = Vec::new();
        let n = self
            .reader
            .read_until(0, &mut buf)
            .map_err(|e| e.to_string())?;
        if n == 0 || buf.pop() != Some(0) {
            return Err("the healer closed the connection".into());
        }
        let reply: Value = serde_json::from_slice(&buf).map_err(|e| e.to_string())?;
        if let Some(error) = reply.get("error") {
            return Err(format!(
                "{} {}",
                error.as_str().unwrap_or("error"),
                reply["parameters"]
            ));
        }
        Ok((
            reply["parameters"].clone(),
            reply["continues"].as_bool().unwrap_or(false),
        ))
    }

    fn call(&mut self, method: &str) -> Result<Value, String> {
        self.send(method, false).map_err(|e| e.to_string())?;
        Ok(self.receive()?.0)
    }
}

/// Every healer's socket and status, those of `mounts` if any are named.
fn healers(dir: &Path, mounts: &[String]) -> Result<Vec<(PathBuf, Status)>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut found = Vec::new();
    let mut sockets: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "varlink"))
        .collect();
    sockets.sort();
    for socket in sockets {
        // A socket whose healer is gone refuses the connection: skip it.
        let Ok(mut conn) = Connection::open(&socket) else {
            continue;
        };
        let Ok(params) = conn.call("io.xfs.Healer.GetStatus") else {
            continue;
        };
        let Ok(status) = serde_json::from_value::<Status>(params["status"].clone()) else {
            continue;
        };
        if mounts.is_empty() || mounts.iter().any(|m| same_mount(m, &status.mountpoint)) {
            found.push((socket, status));
        }
    }
    if found.is_empty() {
        return Err(if mounts.is_empty() {
            format!(
                "no healer is running (no socket answers in {})",
                dir.display()
            )
        } else {
            format!("no healer monitors {}", mounts.join(", "))
        });
    }
    Ok(found)
}

fn same_mount(asked: &str, served: &str) -> bool {
    let canonical = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p));
    asked == served || canonical(asked) == canonical(served)
}

fn ago(usec: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let s = now.saturating_sub(usec) / 1_000_000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

fn print_status(out: &mut impl Write, status: &Status) -> std::io::Result<()> {
    let c = &status.counters;
    writeln!(
        out,
        "{} ({}, {} mode, monitoring for {})",
        status.mountpoint,
        status.uuid,
        status.mode,
        ago(status.monitoring_since_usec)
    )?;
    if status.shut_down {
        writeln!(out, "  the filesystem has shut down")?;
    }
    if status.sick.is_empty() {
        writeln!(out, "  sick now: none")?;
    } else {
        writeln!(
            out,
            "  sick now: {}{}",
            status.sick.len(),
            if status.sick_truncated {
                " (and more)"
            } else {
                ""
            }
        )?;
        for s in &status.sick {
            writeln!(
                out,
                "    {}: {} (for {})",
                s.object,
                s.structures.join(", "),
                ago(s.since_usec)
            )?;
        }
    }
    writeln!(
        out,
        "  repairs: {} pending, {} running, {} succeeded, {} failed; full scans: {}{}; events: {}, lost: {}",
        status.repairs_pending,
        status.repairs_running,
        c.repairs_succeeded,
        c.repairs_failed,
        c.full_scans,
        if status.full_scan_running {
            " (one running)"
        } else {
            ""
        },
        c.events,
        c.lost_events
    )
}

fn print_event(out: &mut impl Write, event: &Event, json: bool) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(event).unwrap_or_default())
    } else {
        writeln!(out, "{}", event.message)
    }
}

/// Parses the configuration as the daemon would and prints the result.
fn check_config(out: &mut impl Write, file: Option<&str>) -> Result<(), Failure> {
    use xfs_healer::config::Presence;
    let (path, presence) = file.map_or_else(xfs_healer::config::path, |named| {
        (PathBuf::from(named), Presence::Required)
    });
    if presence == Presence::Optional && !path.exists() {
        writeln!(
            out,
            "# {} does not exist: the defaults apply",
            path.display()
        )?;
    }
    let settings = xfs_healer::config::load(&path, presence).map_err(|e| e.to_string())?;
    write!(out, "{}", settings.describe())?;
    Ok(())
}

fn run(out: &mut impl Write, o: &Options) -> Result<(), Failure> {
    if o.command == "check-config" {
        return check_config(out, o.mounts.first().map(String::as_str));
    }
    let found = healers(&o.dir, &o.mounts)?;
    match o.command.as_str() {
        "status" => {
            for (_, status) in &found {
                if o.json {
                    writeln!(out, "{}", serde_json::to_string(status).unwrap_or_default())?;
                } else {
                    print_status(out, status)?;
                }
            }
        }
        "events" if !o.follow => {
            for (_, status) in &found {
                for event in &status.last_events {
                    print_event(out, event, o.json)?;
                }
            }
        }
        "events" => {
            let [(socket, _)] = found.as_slice() else {
                return Err("--follow needs one mount point when several healers run".into());
            };
            let mut conn =
                Connection::open(socket).map_err(|e| format!("{}: {e}", socket.display()))?;
            conn.send("io.xfs.Healer.Events", true)
                .map_err(|e| e.to_string())?;
            loop {
                let (params, continues) = conn.receive()?;
                if let Ok(event) = serde_json::from_value::<Event>(params["event"].clone()) {
                    print_event(out, &event, o.json)?;
                    out.flush()?;
                }
                if !continues {
                    return Ok(());
                }
            }
        }
        _ => {
            let (socket, status) = &found[0];
            let mut conn =
                Connection::open(socket).map_err(|e| format!("{}: {e}", socket.display()))?;
            let reply = conn.call("io.xfs.Healer.RequestFullScan")?;
            if o.json {
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
        }
    }
    Ok(())
}

/// A line on stderr; if even that fails there is no one left to tell.
fn complain(text: &str) {
    let _ = std::io::stderr().write_all(format!("xfs_healerctl: {text}\n").as_bytes());
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                complain(&e);
            }
            let _ = std::io::stderr().write_all(USAGE.as_bytes());
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    match run(&mut out, &options).and_then(|()| Ok(out.flush()?)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader is gone and wanted no more: not a failure (see the
        // module doc).
        Err(Failure::Output(e)) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            complain(&format!("write error: {e}"));
            ExitCode::FAILURE
        }
        Err(Failure::Message(e)) => {
            complain(&e);
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &str) -> Result<Options, String> {
        parse_args(a.split_whitespace().map(String::from))
    }

    #[test]
    fn commands_and_options() {
        let o = args("--json events --follow /mnt").unwrap();
        assert!(o.json && o.follow && o.command == "events" && o.mounts == ["/mnt"]);
        assert_eq!(args("status /a /b").unwrap().mounts, ["/a", "/b"]);
        assert_eq!(
            args("--socket-dir /tmp/s status").unwrap().dir,
            Path::new("/tmp/s")
        );
        assert!(args("").is_err());
        assert!(args("scan").is_err());
        assert!(args("status --follow").is_err());
        assert!(args("frob").is_err());
        assert_eq!(
            args("check-config /etc/x.toml").unwrap().mounts,
            ["/etc/x.toml"]
        );
        assert!(args("check-config a b").is_err());
        assert!(args("status --bogus").is_err());
        assert_eq!(args("--help").err().as_deref(), Some(""));
    }

    #[test]
    fn durations_read_well() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        assert_eq!(ago(now - 5_000_000), "5s");
        assert_eq!(ago(now - 125_000_000), "2m5s");
        assert_eq!(ago(now - 90_000_000_000), "1d1h");
    }
}
