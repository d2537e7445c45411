//! Writing report lines: stdout for events and outcomes, stderr for
//! errors, one whole line per write so lines of the two streams and of
//! other processes never interleave mid-line.
//!
//! Three formats (`[output] format` in the configuration):
//! - `text`: the reference's lines, byte for byte;
//! - `json`: one JSON object per line on stdout (schema version 1, see
//!   `xfs_healer(8)`); errors stay text on stderr;
//! - `journal`: native journald records, the same text as `MESSAGE=` plus
//!   `MESSAGE_ID`, `PRIORITY` and `XFS_*` fields.
//!
//! `auto` (the default) is `journal` when stdout is the journal's stream
//! (`JOURNAL_STREAM`, as under the systemd unit) and `text` otherwise.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use xfs_healer::config::OutputFormat;
use xfs_healer::core::{JSON_SCHEMA, Report};
use xfs_healer::kinds::Kind;

const JOURNAL_SOCKET: &str = "/run/systemd/journal/socket";

#[derive(Debug)]
enum Sink {
    Text,
    Json,
    Journal {
        socket: Arc<UnixDatagram>,
        identifier: String,
    },
}

/// The format chosen ([`init`], again at a reload: [`reformat`]).
static SINK: RwLock<Option<Arc<Sink>>> = RwLock::new(None);
/// The mount point every line is about, as printed.
static MOUNTPOINT: OnceLock<String> = OnceLock::new();
/// Its filesystem's UUID and data device, once start-up found them.
static FILESYSTEM: OnceLock<(String, String)> = OnceLock::new();

fn sink() -> Arc<Sink> {
    let chosen = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
    chosen.unwrap_or_else(|| Arc::new(Sink::Text))
}

/// Chooses the format once, before anything is printed, and names the
/// mount point the healer serves (as given) for the lines that are not
/// reports: their JSON objects and journal records carry it as reports do.
pub fn init(format: OutputFormat, mountpoint: &[u8]) {
    let _ = MOUNTPOINT.set(display(mountpoint).into_owned());
    reformat(format);
}

/// Chooses the format again (a reload): the lines from here on have it;
/// those queued keep the one they were made in.
pub fn reformat(format: OutputFormat) {
    let journal = || {
        let socket = UnixDatagram::unbound().ok()?;
        socket.connect(JOURNAL_SOCKET).ok()?;
        Some(Sink::Journal {
            socket: Arc::new(socket),
            identifier: syslog_identifier(),
        })
    };
    let chosen = match format {
        OutputFormat::Text => Sink::Text,
        OutputFormat::Json => Sink::Json,
        OutputFormat::Journal => journal().unwrap_or(Sink::Text),
        OutputFormat::Auto if stdout_is_journal() => journal().unwrap_or(Sink::Text),
        OutputFormat::Auto => Sink::Text,
    };
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(chosen));
}

/// Names the filesystem (UUID, data device) for the lines that are not
/// reports from here on, as reports name it.
pub fn identify(uuid: &str, device: &str) {
    let _ = FILESYSTEM.set((uuid.to_string(), device.to_string()));
}

/// Whether stdout is the stream systemd connected to the journal.
fn stdout_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(stat) = rustix::fs::fstat(std::io::stdout()) else {
        return false;
    };
    stream.to_string_lossy() == format!("{}:{}", stat.st_dev, stat.st_ino)
}

/// The unit's name without `.service` (what `SyslogIdentifier=%N` gives
/// the stream), else `xfs_healer`.
fn syslog_identifier() -> String {
    std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| unit_of_cgroup(&text))
        .unwrap_or_else(|| "xfs_healer".into())
}

fn unit_of_cgroup(text: &str) -> Option<String> {
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let unit = path.rsplit('/').next()?.strip_suffix(".service")?;
    Some(unit.to_string())
}

/// A mount point or path as it appears in messages: printable text
/// unchanged, control bytes and invalid UTF-8 escaped (see `xfs-report`).
pub fn display(bytes: &[u8]) -> Cow<'_, str> {
    xfs_report::escape_name(bytes)
}

fn write_line(stream: &mut dyn Write, line: &str) {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    // A closed stream (EPIPE) must not kill the daemon: the line is
    // dropped, monitoring goes on.
    let _ = stream.write_all(&buf);
}

/// One line, formatted, to be written.
#[derive(Debug)]
enum Written {
    Stdout(String),
    Stderr(String),
    /// A journal datagram for this socket, and its message for stdout if
    /// journald does not take it.
    Journal(Arc<UnixDatagram>, Vec<u8>, String),
}

impl Written {
    fn write(self) {
        match self {
            Written::Stdout(line) => write_line(&mut std::io::stdout().lock(), &line),
            Written::Stderr(line) => write_line(&mut std::io::stderr().lock(), &line),
            Written::Journal(socket, record, message) => {
                if socket.send(&record).is_err() {
                    write_line(&mut std::io::stdout().lock(), &message);
                }
            }
        }
    }
}

/// Lines waiting for the writer thread (beyond this, whoever prints
/// waits: nothing is dropped).
const WRITER_QUEUE: usize = 256;
/// What the queue keeps allocated once it has drained.
const WRITER_KEEP: usize = 16;

/// The writer thread's queue. Not a `sync_channel`: that allocates and
/// touches all its slots at once (16 KiB for 256 lines, a third of an
/// idle healer's heap), this grows with what waits.
struct Queue<T> {
    state: Mutex<QueueState<T>>,
    /// An item queued or taken, or the queue opened or closed.
    changed: Condvar,
}

struct QueueState<T> {
    items: VecDeque<T>,
    /// A taker runs.
    open: bool,
}

static WRITER: Queue<Written> = Queue::new();

impl<T> Queue<T> {
    const fn new() -> Queue<T> {
        Queue {
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                open: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueState<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, QueueState<T>>) -> MutexGuard<'a, QueueState<T>> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    fn set_open(&self, open: bool) {
        self.lock().open = open;
        self.changed.notify_all();
    }

    /// Queues `item`, waiting while the queue is full; gives it back if
    /// no taker runs (once what it still has is taken, so that the
    /// caller's own write keeps the order).
    fn push(&self, item: T) -> Result<(), T> {
        let mut state = self.lock();
        while (state.open && state.items.len() >= WRITER_QUEUE)
            || (!state.open && !state.items.is_empty())
        {
            state = self.wait(state);
        }
        if !state.open {
            return Err(item);
        }
        state.items.push_back(item);
        self.changed.notify_all();
        Ok(())
    }

    /// The next item; None once the queue is closed and empty.
    fn take(&self) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                if state.items.is_empty() {
                    state.items.shrink_to(WRITER_KEEP);
                }
                self.changed.notify_all();
                return Some(item);
            }
            if !state.open {
                return None;
            }
            state = self.wait(state);
        }
    }
}

fn put(written: Written) {
    if let Err(written) = WRITER.push(written) {
        written.write();
    }
}

/// Moves the writing of lines to a thread of its own, in order, so that a
/// slow journal or a stopped terminal never holds up the event loop; the
/// handle ends it, after writing everything queued ([`Writer::finish`]).
pub fn start_writer() -> Option<Writer> {
    WRITER.set_open(true);
    let spawned = std::thread::Builder::new()
        .name("output".into())
        .stack_size(64 * 1024)
        .spawn(|| {
            while let Some(written) = WRITER.take() {
                written.write();
            }
        });
    match spawned {
        Ok(thread) => Some(Writer { thread }),
        Err(_) => {
            WRITER.set_open(false);
            None
        }
    }
}

/// The running writer thread.
pub struct Writer {
    thread: std::thread::JoinHandle<()>,
}

impl Writer {
    /// Writes what is queued and ends the thread; later lines are
    /// written directly.
    pub fn finish(self) {
        WRITER.set_open(false);
        let _ = self.thread.join();
    }
}

/// Prints one informational line.
pub fn out(line: &str) {
    match &*sink() {
        Sink::Text => put(Written::Stdout(line.to_string())),
        Sink::Json => put(Written::Stdout(message_json(now_usec(), line))),
        Sink::Journal { socket, identifier } => {
            journal(socket, identifier, line, 6, &filesystem_fields())
        }
    }
}

/// The JSON object of a line that is no report: the keys every object
/// has (`xfs_healer(8)`), of kind `message`, with the filesystem's as far
/// as it is known.
fn message_json(time_usec: u64, line: &str) -> String {
    let mut value = serde_json::json!({
        "v": JSON_SCHEMA,
        "kind": "message",
        "message": line,
        "time_usec": time_usec,
    });
    for (key, field) in filesystem_fields() {
        value[key.trim_start_matches("XFS_").to_ascii_lowercase()] = field.into();
    }
    value.to_string()
}

/// `XFS_MOUNTPOINT`, `XFS_UUID` and `XFS_DEVICE`, as far as known.
fn filesystem_fields() -> Vec<(&'static str, String)> {
    let mut fields: Vec<_> = MOUNTPOINT
        .get()
        .map(|m| ("XFS_MOUNTPOINT", m.clone()))
        .into_iter()
        .collect();
    if let Some((uuid, device)) = FILESYSTEM.get() {
        fields.extend([("XFS_UUID", uuid.clone()), ("XFS_DEVICE", device.clone())]);
    }
    fields
}

fn now_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Prints one error line (journal: [`ERROR_MESSAGE_ID`], priority 3).
pub fn err(line: &str) {
    match &*sink() {
        Sink::Text | Sink::Json => put(Written::Stderr(line.to_string())),
        Sink::Journal { socket, identifier } => {
            let mut fields = vec![("MESSAGE_ID", ERROR_MESSAGE_ID.into())];
            fields.extend(filesystem_fields());
            journal(socket, identifier, line, 3, &fields);
        }
    }
}

/// Prints a report or outcome: its text line, its JSON object (the wire
/// form and the schema version), or its journal record (the wire form's
/// `XFS_*` variables, and its object's parts).
pub fn report(event: &xfs_varlink::Event, report: &Report) {
    match &*sink() {
        Sink::Text => put(Written::Stdout(report.message.clone())),
        Sink::Json => put(Written::Stdout(
            xfs_healer::core::json_line(event).to_string(),
        )),
        Sink::Journal { socket, identifier } => {
            let id = if report.test {
                TEST_MESSAGE_ID
            } else {
                message_id(report.kind)
            };
            let mut all = vec![("MESSAGE_ID", id.to_string())];
            all.extend(
                xfs_healer::core::variables(event)
                    .into_iter()
                    .filter(|(key, _)| *key != "XFS_MESSAGE"),
            );
            all.extend(report.object_fields());
            journal(socket, identifier, &report.message, report.priority(), &all);
        }
    }
}

/// The `MESSAGE_ID` of every error line ([`err`]: a hook, the metrics
/// file, the status API, the media patrol or start-up failed).
pub const ERROR_MESSAGE_ID: &str = "821b8ef7a11341c3a7c281f4476b523c";

/// The `MESSAGE_ID` of every test event (`xfs_healerctl test-event`),
/// whatever its class; its record also has `XFS_TEST=1` and the class's
/// priority.
pub const TEST_MESSAGE_ID: &str = "fbd18cc1664c4217bf5255cc2cc755fe";

/// A stable `MESSAGE_ID` per event kind (`journalctl MESSAGE_ID=...`).
pub fn message_id(kind: Kind) -> &'static str {
    match kind {
        Kind::Sick => "a75bfdad9c4b4bc1b9c861db87bb1daf",
        Kind::Corrupt => "9d0d5b467fc141e1bca7eff02177646e",
        Kind::Healthy => "807f200985cc4a61b8a770590e58b85e",
        Kind::MediaError => "65b9d762af0f4eb2b52206a60edc5090",
        Kind::FileIo => "a84188fe92e44ae7830acc1bbc09c37d",
        Kind::Lost => "2d8f3850167d4a63b76a268fb33d5086",
        Kind::Shutdown => "cdb15439e7af49c8a0e6902ad809508b",
        Kind::Unmount => "faf8f657d8f0435f896ee10129d1a246",
        Kind::Running => "749ad3865a1a4c3b82c81a7e2657764b",
        Kind::Repair => "751628b556e0482b8cfea452fa238ed5",
        Kind::FullScan => "e92e420d1aa7408cbab0b4e3fbb5a3d8",
        Kind::Unknown => "7ffa5491cee34232b12b39fee332e2f1",
    }
}

/// One native-protocol datagram; if journald does not take it, the line
/// goes to stdout so nothing is lost.
fn journal(
    socket: &Arc<UnixDatagram>,
    identifier: &str,
    message: &str,
    priority: u8,
    fields: &[(&str, String)],
) {
    let mut record = Vec::with_capacity(256);
    let mut field = |key: &str, value: &str| {
        if value.contains('\n') {
            // The protocol's binary form for values with newlines.
            record.extend_from_slice(key.as_bytes());
            record.push(b'\n');
            record.extend_from_slice(&(value.len() as u64).to_le_bytes());
            record.extend_from_slice(value.as_bytes());
        } else {
            record.extend_from_slice(key.as_bytes());
            record.push(b'=');
            record.extend_from_slice(value.as_bytes());
        }
        record.push(b'\n');
    };
    field("MESSAGE", message);
    field("PRIORITY", &priority.to_string());
    field("SYSLOG_IDENTIFIER", identifier);
    for (key, value) in fields {
        field(key, value);
    }
    put(Written::Journal(
        Arc::clone(socket),
        record,
        message.to_string(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_keeps_order_holds_its_bound_and_drains_before_it_closes() {
        static QUEUE: Queue<usize> = Queue::new();
        assert_eq!(QUEUE.push(0), Err(0), "closed: the item comes back");
        QUEUE.set_open(true);
        let producer = std::thread::spawn(|| {
            let mut longest = 0;
            for i in 0..10 * WRITER_QUEUE {
                assert!(QUEUE.push(i).is_ok());
                longest = longest.max(QUEUE.lock().items.len());
            }
            longest
        });
        let mut taken = Vec::new();
        while taken.len() < 10 * WRITER_QUEUE {
            taken.extend(QUEUE.take());
        }
        let longest = producer.join().unwrap();
        assert!(longest <= WRITER_QUEUE, "{longest} queued");
        assert_eq!(taken, (0..10 * WRITER_QUEUE).collect::<Vec<_>>());
        assert!(
            QUEUE.lock().items.capacity() <= WRITER_KEEP,
            "drained: shrunk"
        );
        // Closed with items left: they are taken first, then None; a push
        // meanwhile waits for them, then comes back to be written by
        // its caller, after them.
        assert!(QUEUE.push(1).is_ok() && QUEUE.push(2).is_ok());
        QUEUE.set_open(false);
        let late = std::thread::spawn(|| QUEUE.push(3));
        assert_eq!(QUEUE.take(), Some(1));
        assert_eq!(QUEUE.take(), Some(2));
        assert_eq!(QUEUE.take(), None);
        assert_eq!(late.join().unwrap(), Err(3));
    }

    #[test]
    fn unit_names_come_from_the_cgroup() {
        assert_eq!(
            unit_of_cgroup(
                "0::/system.slice/system-xfs_healer.slice/xfs_healer@mnt-test.service\n"
            )
            .as_deref(),
            Some("xfs_healer@mnt-test")
        );
        assert_eq!(
            unit_of_cgroup("0::/user.slice/user-0.slice/session-1.scope\n"),
            None
        );
        assert_eq!(unit_of_cgroup(""), None);
    }

    #[test]
    fn a_message_line_has_the_keys_of_every_json_object() {
        let line =
            || serde_json::from_str::<serde_json::Value>(&message_json(7, "/mnt: x")).unwrap();
        // A line before the mount point is known (a bad configuration).
        assert_eq!(line().get("mountpoint"), None);
        let _ = MOUNTPOINT.set("/mnt".into());
        // Before start-up has found the filesystem.
        assert_eq!(
            line(),
            serde_json::json!({"v": JSON_SCHEMA, "kind": "message", "message": "/mnt: x",
                "time_usec": 7, "mountpoint": "/mnt"})
        );
        identify("u", "/dev/vdb");
        assert_eq!(
            line(),
            serde_json::json!({"v": JSON_SCHEMA, "kind": "message", "message": "/mnt: x",
                "time_usec": 7, "mountpoint": "/mnt", "uuid": "u", "device": "/dev/vdb"})
        );
    }

    #[test]
    fn message_ids_are_distinct_uuids() {
        let mut ids: std::collections::HashSet<&str> = Kind::ALL.map(message_id).into();
        assert_eq!(ids.len(), Kind::ALL.len());
        assert!(ids.insert(ERROR_MESSAGE_ID));
        assert!(ids.insert(TEST_MESSAGE_ID));
        assert!(
            ids.iter()
                .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }

    /// The journald catalog shipped in `packaging/journal/`.
    const CATALOG: &str = include_str!("../../../packaging/journal/xfs_healer.catalog");

    /// The catalog's entries: (id, header lines, body).
    fn catalog_entries() -> Vec<(&'static str, Vec<&'static str>, String)> {
        let mut entries = Vec::new();
        let mut lines = CATALOG.lines().peekable();
        // Comments and blank lines before the first entry.
        while lines.next_if(|l| !l.starts_with("-- ")).is_some() {}
        while let Some(start) = lines.next() {
            let id = start
                .strip_prefix("-- ")
                .expect("an entry starts with -- <id>");
            let mut headers = Vec::new();
            while let Some(line) = lines.next_if(|l| !l.is_empty()) {
                headers.push(line);
            }
            let mut body = String::new();
            while let Some(line) = lines.next_if(|l| !l.starts_with("-- ")) {
                body.push_str(line);
                body.push('\n');
            }
            entries.push((id, headers, body.trim().to_string()));
        }
        entries
    }

    /// The fields every record of a `MESSAGE_ID` carries, so its catalog
    /// text may name them as `@FIELD@` (journalctl puts a missing
    /// field's name in its place).
    fn fields_of(id: &str) -> Vec<&'static str> {
        let mut fields = vec!["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"];
        if id == ERROR_MESSAGE_ID {
            return fields;
        }
        // What every report's record has.
        fields.extend([
            "XFS_SEQ",
            "XFS_TIME_USEC",
            "XFS_MOUNTPOINT",
            "XFS_UUID",
            "XFS_DEVICE",
            "XFS_KIND",
            "XFS_CLASS",
            "XFS_EVENT",
        ]);
        if id == TEST_MESSAGE_ID {
            fields.push("XFS_TEST");
            return fields;
        }
        let kind = Kind::ALL
            .into_iter()
            .find(|k| message_id(*k) == id)
            .expect("a kind's id");
        match kind {
            Kind::Sick | Kind::Corrupt | Kind::Healthy => {
                fields.extend(["XFS_OBJECT", "XFS_STRUCTURES"])
            }
            Kind::FileIo => fields.push("XFS_OBJECT"),
            _ => {}
        }
        fields
    }

    #[test]
    fn the_catalog_has_one_entry_per_message_id() {
        let entries = catalog_entries();
        let mut wanted: Vec<&str> = Kind::ALL.map(message_id).to_vec();
        wanted.extend([ERROR_MESSAGE_ID, TEST_MESSAGE_ID]);
        for id in &wanted {
            let n = entries.iter().filter(|(e, ..)| e == id).count();
            assert_eq!(n, 1, "{id} has {n} catalog entries");
        }
        for (id, headers, body) in &entries {
            assert!(wanted.contains(id), "catalog entry for unknown id {id:?}");
            assert!(
                headers.iter().any(|h| h.starts_with("Subject: ")),
                "{id}: no Subject"
            );
            assert!(
                headers.contains(&"Defined-By: xfs-healer"),
                "{id}: no Defined-By"
            );
            assert!(
                headers.iter().all(|h| h.contains(": ")),
                "{id}: a header line without a key: {headers:?}"
            );
            assert!(!body.is_empty(), "{id}: no text");
            let allowed = fields_of(id);
            let text = headers.join("\n") + "\n" + body;
            for (n, part) in text.split('@').enumerate() {
                // Odd parts are between a pair of @s.
                if n % 2 == 1 {
                    assert!(
                        allowed.contains(&part),
                        "{id}: @{part}@ is not a field all its records carry"
                    );
                }
            }
        }
    }
}
