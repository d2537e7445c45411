//! Talking to healers: a connect and reads that give up after the
//! timeout, and what each way of failing means to the operator.

use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xfs_varlink::Status;

/// Why a healer's socket gave no status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Nothing listens: the healer ended without removing its socket.
    Stale,
    /// The socket exists but this user may not connect to it.
    Denied,
    /// Connected (or queued) but no answer within the timeout: the healer
    /// is stopped or stuck.
    NoAnswer(Duration),
    /// An answer that is not a healer's status, or another error.
    Failed(String),
}

impl Problem {
    /// The problem a failed connect, read or write shows.
    pub fn of(e: &std::io::Error, timeout: Duration) -> Problem {
        match e.kind() {
            ErrorKind::ConnectionRefused | ErrorKind::NotFound => Problem::Stale,
            ErrorKind::PermissionDenied => Problem::Denied,
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Problem::NoAnswer(timeout),
            _ => Problem::Failed(e.to_string()),
        }
    }

    /// What to tell the operator, after the socket's name.
    pub fn message(&self) -> String {
        match self {
            Problem::Stale => {
                "no healer listens (a stale socket: its healer ended without removing it)".into()
            }
            Problem::Denied => "permission denied: the socket exists, but only root and the \
                                members of the API group ([api] group) may use it"
                .into(),
            Problem::NoAnswer(t) => {
                format!("no answer within {t:?} (the healer is stopped or stuck)")
            }
            Problem::Failed(e) => e.clone(),
        }
    }

    /// The exit status it gives (see the man page).
    pub fn exit_status(&self) -> u8 {
        match self {
            Problem::Stale | Problem::NoAnswer(_) => crate::UNREACHABLE,
            Problem::Denied => crate::DENIED,
            Problem::Failed(_) => crate::FAILED,
        }
    }
}

/// Why there is no list of healers at all.
#[derive(Debug)]
pub enum DirError {
    /// The socket directory does not exist.
    Missing(PathBuf),
    /// It exists but cannot be read.
    Denied(PathBuf),
    Other(PathBuf, std::io::Error),
}

impl DirError {
    pub fn message(&self) -> String {
        match self {
            DirError::Missing(dir) => format!(
                "{} does not exist: no healer with the status API has run (or --socket-dir is wrong)",
                dir.display()
            ),
            DirError::Denied(dir) => format!(
                "{}: permission denied: only root and the members of the API group ([api] group) may list the healers",
                dir.display()
            ),
            DirError::Other(dir, e) => format!("{}: {e}", dir.display()),
        }
    }

    pub fn exit_status(&self) -> u8 {
        match self {
            DirError::Missing(_) => crate::NO_DIRECTORY,
            DirError::Denied(_) => crate::DENIED,
            DirError::Other(..) => crate::FAILED,
        }
    }
}

/// Connects, waiting at most `timeout` for a healer that does not accept
/// (its backlog is full); reads and writes then wait at most `timeout`
/// each. std has no connect timeout for Unix sockets: a non-blocking
/// connect to a full backlog fails with EAGAIN at once, so it is retried.
pub fn connect(path: &Path, timeout: Duration) -> std::io::Result<UnixStream> {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddrUnix::new(path)?;
    let fd = loop {
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => break fd,
            Err(Errno::AGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(Errno::AGAIN) => return Err(ErrorKind::TimedOut.into()),
            Err(e) => return Err(e.into()),
        }
    };
    let stream = UnixStream::from(fd);
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// One connection to a healer.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    timeout: Duration,
}

impl Connection {
    pub fn open(path: &Path, timeout: Duration) -> Result<Connection, Problem> {
        let problem = |e: std::io::Error| Problem::of(&e, timeout);
        let stream = connect(path, timeout).map_err(problem)?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone().map_err(problem)?),
            writer: stream,
            timeout,
        })
    }

    pub fn send_with(
        &mut self,
        method: &str,
        parameters: Value,
        more: bool,
    ) -> Result<(), Problem> {
        let mut msg =
            json!({ "method": method, "parameters": parameters, "more": more }).to_string();
        msg.push('\0');
        self.writer
            .write_all(msg.as_bytes())
            .map_err(|e| Problem::of(&e, self.timeout))
    }

    /// Reads wait for as long as it takes: for a stream of events, which
    /// may be quiet for days. (The timeout is the socket's: the reader's
    /// clone has it too.)
    pub fn wait_forever(&mut self) -> Result<(), Problem> {
        self.writer
            .set_read_timeout(None)
            .map_err(|e| Problem::of(&e, self.timeout))
    }

    /// The next reply's parameters and whether more follow.
    pub fn receive(&mut self) -> Result<(Value, bool), Problem> {
        let mut buf = Vec::new();
        let n = self
            .reader
            .read_until(0, &mut buf)
            .map_err(|e| Problem::of(&e, self.timeout))?;
        if n == 0 || buf.pop() != Some(0) {
            return Err(Problem::Failed("the healer closed the connection".into()));
        }
        let reply: Value =
            serde_json::from_slice(&buf).map_err(|e| Problem::Failed(e.to_string()))?;
        if let Some(error) = reply.get("error") {
            return Err(Problem::Failed(format!(
                "{} {}",
                error.as_str().unwrap_or("error"),
                reply["parameters"]
            )));
        }
        Ok((
            reply["parameters"].clone(),
            reply["continues"].as_bool().unwrap_or(false),
        ))
    }

    pub fn call(&mut self, method: &str) -> Result<Value, Problem> {
        self.call_with(method, json!({}))
    }

    pub fn call_with(&mut self, method: &str, parameters: Value) -> Result<Value, Problem> {
        self.send_with(method, parameters, false)?;
        Ok(self.receive()?.0)
    }
}

/// One healer's status.
fn status_of(socket: &Path, timeout: Duration) -> Result<Status, Problem> {
    let params = Connection::open(socket, timeout)?.call("io.xfs.Healer.GetStatus")?;
    serde_json::from_value(params["status"].clone())
        .map_err(|e| Problem::Failed(format!("not a healer's status: {e}")))
}

/// What the sockets in the directory said.
#[derive(Debug, Default)]
pub struct Survey {
    /// Each answering healer's socket and status, by socket name.
    pub healers: Vec<(PathBuf, Status)>,
    /// The sockets that did not answer, and why.
    pub problems: Vec<(PathBuf, Problem)>,
}

/// Asks every healer in `dir` for its status, all at once so that
/// healers that do not answer cost one timeout in all.
pub fn survey(dir: &Path, timeout: Duration) -> Result<Survey, DirError> {
    let entries = std::fs::read_dir(dir).map_err(|e| match e.kind() {
        ErrorKind::NotFound => DirError::Missing(dir.to_path_buf()),
        ErrorKind::PermissionDenied => DirError::Denied(dir.to_path_buf()),
        _ => DirError::Other(dir.to_path_buf(), e),
    })?;
    let mut sockets: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "varlink"))
        .collect();
    sockets.sort();
    let answers: Vec<_> = std::thread::scope(|scope| {
        let asking: Vec<_> = sockets
            .iter()
            .map(|s| scope.spawn(move || status_of(s, timeout)))
            .collect();
        asking
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Problem::Failed("no status".into())))
            })
            .collect()
    });
    let mut survey = Survey::default();
    for (socket, answer) in sockets.into_iter().zip(answers) {
        match answer {
            Ok(status) => survey.healers.push((socket, status)),
            Err(problem) => survey.problems.push((socket, problem)),
        }
    }
    Ok(survey)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn each_failure_has_its_own_message_and_status() {
        let of = |errno| Problem::of(&std::io::Error::from_raw_os_error(errno), T);
        // As root, the permission check cannot be seen on a real socket.
        let denied = of(rustix::io::Errno::ACCESS.raw_os_error());
        assert_eq!(denied, Problem::Denied);
        assert!(
            denied.message().contains("socket exists"),
            "{}",
            denied.message()
        );
        assert_eq!(denied.exit_status(), crate::DENIED);
        let stale = of(rustix::io::Errno::CONNREFUSED.raw_os_error());
        assert_eq!(stale, Problem::Stale);
        assert!(stale.message().contains("stale"));
        assert_eq!(stale.exit_status(), crate::UNREACHABLE);
        let stuck = of(rustix::io::Errno::AGAIN.raw_os_error());
        assert_eq!(stuck, Problem::NoAnswer(T));
        assert!(
            stuck.message().contains("no answer within 5s"),
            "{}",
            stuck.message()
        );
        assert_eq!(stuck.exit_status(), crate::UNREACHABLE);
        assert_eq!(
            of(rustix::io::Errno::IO.raw_os_error()).exit_status(),
            crate::FAILED
        );
        let statuses = [
            crate::FAILED,
            crate::UNREACHABLE,
            crate::NO_DIRECTORY,
            crate::DENIED,
            crate::USAGE,
        ];
        for (i, s) in statuses.iter().enumerate() {
            assert!(!statuses[i + 1..].contains(s), "status {s} is used twice");
        }
    }

    #[test]
    fn a_missing_directory_is_said_plainly() {
        let dir = Path::new("/nonexistent/xfs_healer");
        let e = survey(dir, T).unwrap_err();
        assert!(matches!(e, DirError::Missing(_)));
        assert_eq!(e.exit_status(), crate::NO_DIRECTORY);
        assert!(!e.message().contains("os error"), "{}", e.message());
        assert!(
            e.message()
                .starts_with("/nonexistent/xfs_healer does not exist")
        );
    }
}
