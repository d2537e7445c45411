//! The varlink status API (`io.xfs.Healer`, see `crates/varlink`): one
//! thread serving `/run/xfs_healer/<uuid>-<major>-<minor>.varlink`, so no client can slow
//! the event loop, and no client can silence another. The thread starts
//! when the first client connects (the event loop polls the socket until
//! then, [`Api::listener_until_served`]): a healer nobody asks runs
//! without it, and the events it would have held wait, bounded alike, in
//! [`Api`] itself.
//! - status, full-scan and test-event calls (a test event's class checked
//!   here first) are passed to the loop and answered when
//!   it gets to them, while the thread goes on serving everyone else; a
//!   client's next request is read only once its call is answered and its
//!   replies mostly read (backpressure, not disconnection);
//! - a client idle for [`IDLE_TIMEOUT`] is closed, and when all
//!   [`MAX_CLIENTS`] places are taken the one idle longest makes room;
//! - events reach streaming clients through a queue bounded by count and
//!   by bytes; whoever falls behind (the queue, or a client that does not
//!   read) is told how many events it lost, in a `lost` event;
//! - the latest events are held ([`HISTORY_EVENTS`], [`HISTORY_BYTES`]), so
//!   a client that calls `Events` with `since` gets those it has not seen
//!   first, and a gap told as a `lost` event.

use crate::output::err;
use crate::pending::RUN_DIR_MODE;
use crate::statedir::StateDir;
use crate::wake::Wake;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{AtFlags, Mode, chmodat, mkdirat, renameat, unlinkat};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};
use xfs_healer::core::Identity;
use xfs_healer::core::TestEventSent;
use xfs_healer::kinds::HookClass;
use xfs_varlink::{Call, Framer, Status};

/// Most clients at once; when full, the one idle longest is closed.
const MAX_CLIENTS: usize = 16;
/// A client with no call in flight and no stream is closed after this.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Events waiting for the API thread: at most this many bytes, struct and
/// text (an event with long escaped paths is ~40 KB). The channel grows
/// as it fills: a bounded one allocates and touches every slot at once,
/// which was 1.2 MB of an idle healer's memory.
const EVENT_QUEUE_BYTES: usize = 4 << 20;
/// Bytes queued for a streaming client before it loses events.
const CLIENT_BACKLOG: usize = 1 << 20;
/// A client's requests are read only while less than this waits for it.
const READ_PAUSE: usize = 64 * 1024;
/// How long a call waits for the event loop's answer.
const LOOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Events held for `Events(since:)`: at most this many ...
pub const HISTORY_EVENTS: usize = 256;
/// ... and this many bytes, encoded.
pub const HISTORY_BYTES: usize = 256 << 10;

/// What a call gets back from the event loop.
#[derive(Debug)]
enum Answer {
    Status(Box<Status>),
    FullScan(Result<(bool, bool), String>),
    TestEvent(TestEventSent),
}

/// Where the loop sends one call's answer: back to the API thread, which
/// is woken to pass it on.
#[derive(Debug)]
pub struct Reply<T> {
    call: u64,
    answers: Sender<(u64, Answer)>,
    wake: Arc<Wake>,
    wrap: fn(T) -> Answer,
}

impl<T> Reply<T> {
    pub fn send(self, value: T) {
        if self.answers.send((self.call, (self.wrap)(value))).is_ok() {
            self.wake.wake();
        }
    }
}

/// What the API asks of the event loop.
#[derive(Debug)]
pub enum LoopCall {
    Status(Reply<Status>),
    /// Ok((started, deferred)) or the reason repairs are off.
    FullScan(Reply<Result<(bool, bool), String>>),
    /// A test event of this class, answered once it went to the sinks.
    TestEvent(HookClass, Reply<TestEventSent>),
}

/// Events handed from the loop to the API thread, bounded by bytes.
#[derive(Debug)]
struct EventQueue {
    bytes: AtomicUsize,
    /// The highest seq refused because the queue was full (the loop
    /// publishes in seq order, so every lower one was refused too or is
    /// in the queue).
    dropped_through: AtomicU64,
}

/// The event loop's end.
pub struct Api {
    pub calls: Receiver<LoopCall>,
    events: Sender<(xfs_varlink::Event, usize)>,
    queue: Arc<EventQueue>,
    wake: Arc<Wake>,
    /// Set, with a wake-up, to end the thread.
    stopping: Arc<AtomicBool>,
    serving: Serving,
    dir: StateDir,
    name: String,
}

/// Whether the thread runs yet.
enum Serving {
    /// No client came yet: the server, and the latest events for its
    /// history (bounded as it bounds that), with their sizes.
    NotYet {
        server: Box<Server>,
        held: VecDeque<(xfs_varlink::Event, usize)>,
        held_bytes: usize,
    },
    Running(std::thread::JoinHandle<()>),
    /// It could not start, or has been joined.
    Ended,
}

/// About what an event takes, queued and encoded.
fn event_bytes(event: &xfs_varlink::Event) -> usize {
    let field = |f: Option<&str>| f.map_or(0, str::len);
    let structures = event
        .structures
        .as_ref()
        .map_or(0, |s| s.iter().map(|n| n.len() + 3).sum());
    std::mem::size_of::<(xfs_varlink::Event, usize)>()
        + event.mountpoint.len()
        + event.uuid.len()
        + event.device.len()
        + event.kind.len()
        + event.class.len()
        + event.message.len()
        + field(event.object.as_deref())
        + field(event.path.as_deref())
        + field(event.outcome.as_deref())
        + structures
}

impl Api {
    /// Hands an event to the history and the streaming clients; never
    /// blocks. An event that does not fit is counted, and the clients
    /// are told.
    pub fn publish(&mut self, event: xfs_varlink::Event) {
        let (size, seq) = (event_bytes(&event), event.seq);
        if let Serving::NotYet {
            held, held_bytes, ..
        } = &mut self.serving
        {
            // The history's bounds, by the estimate (it counts encoded
            // bytes): what falls out is a gap a later `since` is told of.
            *held_bytes += size;
            held.push_back((event, size));
            keep_latest(held, held_bytes, |(_, size)| *size);
            return;
        }
        if self.queue.bytes.fetch_add(size, Ordering::Relaxed) + size > EVENT_QUEUE_BYTES {
            self.queue.bytes.fetch_sub(size, Ordering::Relaxed);
            self.queue.dropped_through.fetch_max(seq, Ordering::Relaxed);
        } else if self.events.send((event, size)).is_err() {
            return; // the thread has gone
        }
        self.wake.wake();
    }

    /// The socket, for the event loop to poll while no client has come.
    pub fn listener_until_served(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        match &self.serving {
            Serving::NotYet { server, .. } => Some(std::os::fd::AsFd::as_fd(&server.listener)),
            _ => None,
        }
    }

    /// A client is at the socket: starts the thread, which gets the held
    /// events first. If it cannot start (the unit's task limit, memory),
    /// that is said and the API ends: the socket is removed, so clients
    /// are refused rather than left waiting.
    pub fn serve(&mut self, mnt: &str) {
        let Serving::NotYet { server, held, .. } =
            std::mem::replace(&mut self.serving, Serving::Ended)
        else {
            return;
        };
        for (event, size) in held {
            self.queue.bytes.fetch_add(size, Ordering::Relaxed);
            let _ = self.events.send((event, size));
        }
        self.wake.wake();
        let spawned = std::thread::Builder::new()
            .name("varlink".into())
            .stack_size(256 * 1024)
            .spawn(move || server.run());
        match spawned {
            Ok(thread) => self.serving = Serving::Running(thread),
            Err(e) => {
                let _ = self.dir.remove(&self.name);
                start_failed(mnt, &self.dir.path().join(&self.name), &e);
            }
        }
    }
}

impl Drop for Api {
    /// Ends the thread (it only ever waits in `poll`, so at once) and
    /// removes the socket.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.wake.wake();
        if let Serving::Running(thread) = std::mem::replace(&mut self.serving, Serving::Ended) {
            let _ = thread.join();
        }
        let _ = self.dir.remove(&self.name);
    }
}

/// The socket's file name for the filesystem with this file key
/// ([`crate::statedir::FsId::file_key`]).
pub fn socket_name(key: &str) -> String {
    format!("{key}.varlink")
}

/// Binds the socket in `dir` (root only, or group `gid` too); the thread
/// starts at the first client ([`Api::serve`]). `loop_wake` wakes the
/// event loop when a call is waiting.
pub fn start(
    dir: &Path,
    key: &str,
    gid: Option<u32>,
    fs: &Identity,
    loop_wake: Arc<Wake>,
) -> std::io::Result<Api> {
    let dir = StateDir::open(dir, Some(RUN_DIR_MODE)).map_err(std::io::Error::other)?;
    let name = socket_name(key);
    // A socket that still answers is a live healer's: never take its
    // place (a stale one, whose healer died, refuses the connection).
    if dir.exists(&name) && UnixStream::connect(dir.path().join(&name)).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "another healer answers on this socket",
        ));
    }
    let mode = if gid.is_some() { 0o660 } else { 0o600 };
    let listener = match bind_private(&dir, &name, mode, gid) {
        // Giving the socket to the group is a chown, which the unit's
        // sandbox denies unless the optional 60-api-group.conf drop-in is
        // in place: said, and the API serves root only.
        Err(e)
            if gid.is_some()
                && e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) =>
        {
            crate::output::err(&format!(
                "{}: status API group: the socket could not be given to it ({e}); \
                 under systemd add the 60-api-group.conf drop-in (see xfs_healer(8)); root only",
                dir.path().join(&name).display()
            ));
            bind_private(&dir, &name, 0o600, None)?
        }
        bound => bound?,
    };
    listener.set_nonblocking(true)?;
    let wake = Arc::new(Wake::new()?);
    let (calls_tx, calls) = mpsc::channel();
    let (answers_tx, answers) = mpsc::channel();
    let (events, events_rx) = mpsc::channel();
    let queue = Arc::new(EventQueue {
        bytes: AtomicUsize::new(0),
        dropped_through: AtomicU64::new(0),
    });
    let stopping = Arc::new(AtomicBool::new(false));
    let server = Server {
        stopping: Arc::clone(&stopping),
        listener,
        wake: Arc::clone(&wake),
        events: events_rx,
        queue: Arc::clone(&queue),
        calls: calls_tx,
        answers,
        answers_tx,
        loop_wake,
        fs: fs.clone(),
        clients: Vec::new(),
        history: VecDeque::new(),
        history_bytes: 0,
        last_seq: 0,
        next_call: 0,
    };
    Ok(Api {
        calls,
        events,
        queue,
        wake,
        stopping,
        serving: Serving::NotYet {
            server: Box::new(server),
            held: VecDeque::new(),
            held_bytes: 0,
        },
        dir,
        name,
    })
}

/// Binds in a fresh directory of mode 0700, gives the socket its mode and
/// group there, then moves it into place: nobody can connect before the
/// mode holds, whatever the umask (bind(2) applies it to the socket).
fn bind_private(
    dir: &StateDir,
    name: &str,
    mode: u32,
    gid: Option<u32>,
) -> std::io::Result<UnixListener> {
    let private = format!(".{name}.{}", std::process::id());
    let _ = unlinkat(dir.fd(), format!("{private}/s"), AtFlags::empty());
    let _ = unlinkat(dir.fd(), &private, AtFlags::REMOVEDIR);
    mkdirat(dir.fd(), &private, Mode::from_raw_mode(0o700))?;
    let bound = (|| {
        // The unit's UMask=7777 made it 0000: without CAP_DAC_OVERRIDE we
        // could not bind in it.
        chmodat(
            dir.fd(),
            &private,
            Mode::from_raw_mode(0o700),
            AtFlags::empty(),
        )?;
        let path = dir.path().join(&private).join("s");
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        if let Some(gid) = gid {
            std::os::unix::fs::chown(&path, None, Some(gid))?;
        }
        renameat(dir.fd(), format!("{private}/s"), dir.fd(), name)?;
        Ok(listener)
    })();
    if bound.is_err() {
        let _ = unlinkat(dir.fd(), format!("{private}/s"), AtFlags::empty());
    }
    let _ = unlinkat(dir.fd(), &private, AtFlags::REMOVEDIR);
    bound
}

struct Client {
    stream: UnixStream,
    framer: Framer,
    /// Requests read but not yet handled (one call at a time).
    requests: VecDeque<Vec<u8>>,
    out: Vec<u8>,
    streaming: bool,
    /// The call waiting for the loop: its number, whether it is oneway,
    /// and until when it waits.
    waiting: Option<(u64, bool, Instant)>,
    last_active: Instant,
    /// Events this client missed (it did not read, or they never reached
    /// this thread), not yet told.
    missed: u64,
    /// The seq of the next event it is to get: every event from here on
    /// is delivered or counted in `missed`.
    next: u64,
}

impl Client {
    /// Whether to read its next requests now.
    fn wants_input(&self) -> bool {
        self.waiting.is_none() && self.requests.is_empty() && self.out.len() < READ_PAUSE
    }

    /// Closable to make room or for idleness: nothing under way.
    fn idle(&self) -> bool {
        !self.streaming && self.waiting.is_none() && self.requests.is_empty() && self.out.is_empty()
    }

    /// Moves its stream on to after `seq`: those between the last it got
    /// and `seq` are counted as missed. False: it had `seq` already.
    fn move_past(&mut self, seq: u64) -> bool {
        if seq < self.next {
            return false;
        }
        self.missed += seq - self.next;
        self.next = seq + 1;
        true
    }

    /// A `lost` event (seq 0: the stream's own) for what it missed.
    fn lost_notice(&mut self, fs: &Identity, time_usec: u64) {
        let mut lost = xfs_varlink::Event::new(
            time_usec,
            "lost",
            format!("{} events were not delivered to this client", self.missed),
        );
        lost.mountpoint = fs.mountpoint.clone();
        lost.uuid = fs.uuid.clone();
        lost.device = fs.device.clone();
        self.out.extend_from_slice(&xfs_varlink::reply(
            serde_json::json!({ "event": lost }),
            true,
        ));
        self.missed = 0;
    }
}

struct Server {
    stopping: Arc<AtomicBool>,
    listener: UnixListener,
    /// Our own wake-up: the loop's answers and events, and the stop.
    wake: Arc<Wake>,
    events: Receiver<(xfs_varlink::Event, usize)>,
    queue: Arc<EventQueue>,
    calls: Sender<LoopCall>,
    answers: Receiver<(u64, Answer)>,
    answers_tx: Sender<(u64, Answer)>,
    loop_wake: Arc<Wake>,
    fs: Identity,
    clients: Vec<Client>,
    /// The latest events: (seq, time, encoded reply), oldest first.
    history: VecDeque<(u64, u64, Vec<u8>)>,
    history_bytes: usize,
    /// The highest seq passed on or known refused.
    last_seq: u64,
    next_call: u64,
}

impl Server {
    fn run(mut self) {
        loop {
            let timeout = self.next_deadline().map(|at| {
                let left = at.saturating_duration_since(Instant::now());
                Timespec {
                    tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                    tv_nsec: i64::from(left.subsec_nanos()),
                }
            });
            let (ready_listener, ready_wake, ready): (bool, bool, Vec<(bool, bool)>) = {
                let mut fds = vec![
                    PollFd::new(&self.listener, PollFlags::IN),
                    PollFd::new(&*self.wake, PollFlags::IN),
                ];
                for c in &self.clients {
                    let mut flags = PollFlags::empty();
                    if c.wants_input() {
                        flags |= PollFlags::IN;
                    }
                    if !c.out.is_empty() {
                        flags |= PollFlags::OUT;
                    }
                    fds.push(PollFd::new(&c.stream, flags));
                }
                if poll(&mut fds, timeout.as_ref()).is_err() {
                    continue;
                }
                let r = |f: &PollFd<'_>, flag| f.revents().intersects(flag);
                let ready = fds[2..]
                    .iter()
                    .map(|f| {
                        (
                            r(f, PollFlags::IN),
                            r(f, PollFlags::OUT | PollFlags::HUP | PollFlags::ERR),
                        )
                    })
                    .collect();
                (r(&fds[0], PollFlags::IN), r(&fds[1], PollFlags::IN), ready)
            };
            if ready_wake {
                self.wake.clear();
                if self.stopping.load(Ordering::Relaxed) {
                    return;
                }
                self.take_answers();
                self.fan_out();
            }
            let now = Instant::now();
            let mut gone = vec![false; self.clients.len()];
            for (i, &(readable, writable)) in ready.iter().enumerate() {
                if readable && !self.read_client(i, now) {
                    gone[i] = true;
                    continue;
                }
                if !self.handle_requests(i, now)
                    || ((writable || readable) && !flush(&mut self.clients[i]))
                {
                    gone[i] = true;
                }
            }
            for (i, c) in self.clients.iter_mut().enumerate() {
                if let Some((_, oneway, until)) = c.waiting
                    && until <= now
                {
                    c.waiting = None;
                    if !oneway {
                        c.out.extend_from_slice(&xfs_varlink::error(
                            "io.xfs.Healer.Busy",
                            serde_json::json!({}),
                        ));
                    }
                    gone[i] |= !flush(c);
                }
                gone[i] |= c.idle() && now.duration_since(c.last_active) >= IDLE_TIMEOUT;
            }
            let mut i = 0;
            self.clients.retain(|_| {
                i += 1;
                !gone[i - 1]
            });
            if ready_listener {
                self.accept(now);
            }
        }
    }

    /// When a call's wait or an idle client's time runs out.
    fn next_deadline(&self) -> Option<Instant> {
        self.clients
            .iter()
            .filter_map(|c| {
                c.waiting
                    .map(|(_, _, until)| until)
                    .or_else(|| c.idle().then(|| c.last_active + IDLE_TIMEOUT))
            })
            .min()
    }

    fn accept(&mut self, now: Instant) {
        while let Ok((stream, _)) = self.listener.accept() {
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            if self.clients.len() >= MAX_CLIENTS {
                // Room is made by closing the client idle longest; with
                // every one busy, the newcomer is turned away.
                let Some(oldest) = self
                    .clients
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.idle())
                    .min_by_key(|(_, c)| c.last_active)
                    .map(|(i, _)| i)
                else {
                    continue;
                };
                self.clients.swap_remove(oldest);
            }
            self.clients.push(Client {
                stream,
                framer: Framer::default(),
                requests: VecDeque::new(),
                out: Vec::new(),
                streaming: false,
                waiting: None,
                last_active: now,
                missed: 0,
                next: 0,
            });
        }
    }

    /// Passes the loop's answers to the clients that asked.
    fn take_answers(&mut self) {
        for (call, answer) in self.answers.try_iter() {
            let Some(c) = self
                .clients
                .iter_mut()
                .find(|c| c.waiting.is_some_and(|(n, _, _)| n == call))
            else {
                continue;
            };
            let Some((_, oneway, _)) = c.waiting.take() else {
                continue;
            };
            let reply = match answer {
                Answer::Status(status) => {
                    xfs_varlink::reply(serde_json::json!({ "status": status }), false)
                }
                Answer::FullScan(Ok((started, deferred))) => xfs_varlink::reply(
                    serde_json::json!({ "started": started, "deferred": deferred }),
                    false,
                ),
                Answer::FullScan(Err(reason)) => xfs_varlink::error(
                    "io.xfs.Healer.RepairsDisabled",
                    serde_json::json!({ "reason": reason }),
                ),
                Answer::TestEvent(sent) => xfs_varlink::reply(
                    serde_json::json!({ "message": sent.message, "hooks": sent.hooks }),
                    false,
                ),
            };
            if !oneway {
                c.out.extend_from_slice(&reply);
            }
        }
    }

    /// Queues every waiting event for each streaming client, and tells
    /// each what it lost; keeps the latest in the history.
    fn fan_out(&mut self) {
        // Read before the queue: every lower seq not refused is in it now.
        let dropped_through = self.queue.dropped_through.load(Ordering::Relaxed);
        let mut time_usec = 0;
        for (event, size) in self.events.try_iter() {
            self.queue.bytes.fetch_sub(size, Ordering::Relaxed);
            time_usec = event.time_usec;
            let bytes = xfs_varlink::reply(serde_json::json!({ "event": event }), true);
            for c in self.clients.iter_mut().filter(|c| c.streaming) {
                // Already replayed to it from the history.
                if !c.move_past(event.seq) {
                    continue;
                }
                if c.out.len() + bytes.len() > CLIENT_BACKLOG {
                    c.missed += 1;
                    continue;
                }
                if c.missed > 0 {
                    c.lost_notice(&self.fs, event.time_usec);
                }
                c.out.extend_from_slice(&bytes);
            }
            self.last_seq = self.last_seq.max(event.seq);
            self.history_bytes += bytes.len();
            self.history.push_back((event.seq, event.time_usec, bytes));
            keep_latest(&mut self.history, &mut self.history_bytes, |(.., b)| {
                b.len()
            });
        }
        // Refused after the last one passed on: lost to everyone streaming.
        self.last_seq = self.last_seq.max(dropped_through);
        let time_usec = if time_usec > 0 {
            time_usec
        } else {
            realtime_usec()
        };
        for c in self.clients.iter_mut().filter(|c| c.streaming) {
            // Refused ones count as missed; the last one too.
            if c.move_past(self.last_seq) {
                c.missed += 1;
            }
            if c.missed > 0 && c.out.len() < CLIENT_BACKLOG {
                c.lost_notice(&self.fs, time_usec);
            }
        }
        for c in &mut self.clients {
            let _ = flush(c);
        }
    }

    /// Starts client `i`'s stream: with `since`, first the held events
    /// after it, a gap in them (events no longer held, or never passed
    /// on) told as a `lost` event; a `since` beyond the latest (a client
    /// of an earlier healer) gets what comes next.
    fn subscribe(&mut self, i: usize, since: Option<u64>) {
        let c = &mut self.clients[i];
        c.streaming = true;
        c.next = since.unwrap_or(u64::MAX).min(self.last_seq) + 1;
        for (seq, time_usec, bytes) in &self.history {
            if !c.move_past(*seq) {
                continue;
            }
            if c.missed > 0 {
                c.lost_notice(&self.fs, *time_usec);
            }
            c.out.extend_from_slice(bytes);
        }
        // Refused after the latest held one.
        if c.move_past(self.last_seq) {
            c.missed += 1;
        }
        if c.missed > 0 {
            c.lost_notice(&self.fs, realtime_usec());
        }
    }

    /// Reads what a client sent; false: drop it (gone, or not speaking
    /// varlink).
    fn read_client(&mut self, i: usize, now: Instant) -> bool {
        let c = &mut self.clients[i];
        let mut buf = [0u8; 4096];
        loop {
            match (&c.stream).read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => {
                    c.last_active = now;
                    match c.framer.feed(&buf[..n]) {
                        Ok(m) => c.requests.extend(m),
                        Err(_) => return false,
                    }
                    if !c.requests.is_empty() {
                        return true;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Answers a client's requests until one waits for the loop or its
    /// unread replies pile up; false: drop it.
    fn handle_requests(&mut self, i: usize, now: Instant) -> bool {
        while self.clients[i].waiting.is_none() && self.clients[i].out.len() < READ_PAUSE {
            let Some(message) = self.clients[i].requests.pop_front() else {
                break;
            };
            let Ok(request) = xfs_varlink::parse_request(&message) else {
                return false;
            };
            let c = &mut self.clients[i];
            let reply = match xfs_varlink::dispatch(&request) {
                Call::Answered(bytes) => bytes,
                Call::Silent => continue,
                Call::Events { since } => {
                    self.subscribe(i, since);
                    continue;
                }
                Call::GetStatus => {
                    let reply = self.reply_to(|s| Answer::Status(Box::new(s)));
                    self.ask(i, request.oneway, now, LoopCall::Status(reply));
                    continue;
                }
                Call::RequestFullScan => {
                    let reply = self.reply_to(Answer::FullScan);
                    self.ask(i, request.oneway, now, LoopCall::FullScan(reply));
                    continue;
                }
                Call::TestEvent { class } => {
                    let class = match class.as_deref() {
                        None => Some(HookClass::TEST_DEFAULT),
                        Some(name) => HookClass::from_name(name),
                    };
                    let Some(class) = class else {
                        if !request.oneway {
                            c.out
                                .extend_from_slice(&xfs_varlink::invalid_parameter("class"));
                        }
                        continue;
                    };
                    let reply = self.reply_to(Answer::TestEvent);
                    self.ask(i, request.oneway, now, LoopCall::TestEvent(class, reply));
                    continue;
                }
            };
            if !request.oneway {
                c.out.extend_from_slice(&reply);
            }
        }
        true
    }

    fn reply_to<T>(&mut self, wrap: fn(T) -> Answer) -> Reply<T> {
        self.next_call += 1;
        Reply {
            call: self.next_call,
            answers: self.answers_tx.clone(),
            wake: Arc::clone(&self.wake),
            wrap,
        }
    }

    /// Passes a call to the event loop; the client waits for its answer.
    fn ask(&mut self, i: usize, oneway: bool, now: Instant, call: LoopCall) {
        let until = now + LOOP_TIMEOUT;
        // A loop that has gone answers nothing: the wait runs out (Busy).
        if self.calls.send(call).is_ok() {
            self.loop_wake.wake();
        }
        self.clients[i].waiting = Some((self.next_call, oneway, until));
    }
}

/// Drops the oldest of `held` (`bytes` in all, `size` each) until the
/// history's bounds hold.
fn keep_latest<T>(held: &mut VecDeque<T>, bytes: &mut usize, size: impl Fn(&T) -> usize) {
    while held.len() > HISTORY_EVENTS || *bytes > HISTORY_BYTES {
        let Some(old) = held.pop_front() else {
            break;
        };
        *bytes -= size(&old);
    }
}

fn realtime_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Writes what a client can take now; false: drop it.
fn flush(c: &mut Client) -> bool {
    while !c.out.is_empty() {
        match (&c.stream).write(&c.out) {
            Ok(0) => return false,
            Ok(n) => {
                c.out.drain(..n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// Reports a socket that could not be set up (the healer goes on without).
pub fn start_failed(mnt: &str, path: &Path, e: &std::io::Error) {
    err(&format!(
        "{mnt}: status API not available: {}: {e}",
        path.display()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_are_named_by_file_key() {
        assert_eq!(socket_name("0101-254-0"), "0101-254-0.varlink");
    }

    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xfs-healer-api-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn send(client: &mut UnixStream, text: &str) {
        client.write_all(text.as_bytes()).unwrap();
        client.write_all(&[0]).unwrap();
    }

    /// The next reply; panics if the server closed the connection.
    fn receive(client: &mut UnixStream) -> serde_json::Value {
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut reply = Vec::new();
        let mut byte = [0u8];
        loop {
            match client.read(&mut byte) {
                Ok(1) if byte[0] != 0 => reply.push(byte[0]),
                Ok(1) => break,
                other => panic!("connection ended ({other:?}) after {} bytes", reply.len()),
            }
        }
        serde_json::from_slice(&reply).unwrap()
    }

    /// Bound, and served at once (as the loop does at the first client).
    fn started(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, Api) {
        let (dir, path, mut api) = bound(tag);
        api.serve("/mnt");
        (dir, path, api)
    }

    fn bound(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, Api) {
        let dir = scratch(tag);
        let loop_wake = Wake::new().unwrap();
        let api = start(
            &dir,
            "fs-7-0",
            None,
            &Identity::default(),
            Arc::new(loop_wake),
        )
        .unwrap();
        let path = dir.join(socket_name("fs-7-0"));
        (dir, path, api)
    }

    /// Starts a stream of every event published (`since` 0: the held
    /// ones first), so it does not matter whether the API thread has
    /// seen the call when the test publishes.
    fn stream_events(client: &mut UnixStream) {
        send(
            client,
            r#"{"method":"io.xfs.Healer.Events","more":true,"parameters":{"since":0}}"#,
        );
    }

    fn event(seq: u64, message: String) -> xfs_varlink::Event {
        let mut event = xfs_varlink::Event::new(1, "sick", message);
        event.seq = seq;
        event
    }

    /// Until a client comes there is no thread: the socket is the loop's
    /// to poll, and the events wait, bounded as the history is; the
    /// first client starts the thread and can ask for them.
    #[test]
    fn the_thread_starts_at_the_first_client_with_the_events_before_it() {
        let (dir, path, mut api) = bound("lazy");
        assert!(matches!(api.serving, Serving::NotYet { .. }));
        let extra = 10;
        let total = HISTORY_EVENTS as u64 + extra;
        for seq in 1..=total {
            api.publish(event(seq, format!("e{seq}")));
        }
        let Serving::NotYet { held, .. } = &api.serving else {
            panic!("started without a client")
        };
        assert_eq!(held.len(), HISTORY_EVENTS, "held like the history");
        assert_eq!(held.front().map(|(e, _)| e.seq), Some(extra + 1));
        let mut client = UnixStream::connect(&path).unwrap();
        let socket = api.listener_until_served().expect("polled until served");
        let mut fds = [PollFd::new(&socket, PollFlags::IN)];
        poll(&mut fds, None).unwrap();
        assert!(
            fds[0].revents().contains(PollFlags::IN),
            "the loop sees the client"
        );
        api.serve("/mnt");
        assert!(api.listener_until_served().is_none());
        assert!(matches!(api.serving, Serving::Running(_)), "started now");
        send(
            &mut client,
            r#"{"method":"io.xfs.Healer.Events","more":true,"parameters":{"since":0}}"#,
        );
        let first = receive(&mut client);
        assert_eq!(first["parameters"]["event"]["kind"], "lost", "{first}");
        let told = first["parameters"]["event"]["message"].as_str().unwrap();
        assert!(told.starts_with(&format!("{extra} events")), "{told}");
        let seqs: Vec<u64> = (0..HISTORY_EVENTS)
            .map(|_| {
                receive(&mut client)["parameters"]["event"]["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, ((extra + 1)..=total).collect::<Vec<_>>());
        api.publish(event(total + 1, "after".into()));
        assert_eq!(
            receive(&mut client)["parameters"]["event"]["seq"].as_u64(),
            Some(total + 1)
        );
        drop(api);
        assert!(!path.exists(), "the socket outlived the healer");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A real socket: introspection, a status call answered by a stand-in
    /// loop, and an event stream.
    #[test]
    fn serves_calls_and_streams_events() {
        let (dir, path, mut api) = started("serve");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "the private bind directory was left"
        );
        let mut client = UnixStream::connect(&path).unwrap();
        send(&mut client, r#"{"method":"org.varlink.service.GetInfo"}"#);
        assert_eq!(receive(&mut client)["parameters"]["product"], "xfs_healer");
        send(&mut client, r#"{"method":"io.xfs.Healer.GetStatus"}"#);
        let Ok(LoopCall::Status(answer)) = api.calls.recv_timeout(Duration::from_secs(5)) else {
            panic!("no status call")
        };
        answer.send(Status {
            mountpoint: "/mnt".into(),
            ..Status::default()
        });
        assert_eq!(
            receive(&mut client)["parameters"]["status"]["mountpoint"],
            "/mnt"
        );
        stream_events(&mut client);
        api.publish(event(1, "/mnt/a directory: sick".into()));
        let got = receive(&mut client);
        assert_eq!(
            (
                got["continues"].as_bool(),
                got["parameters"]["event"]["kind"].as_str()
            ),
            (Some(true), Some("sick"))
        );
        drop(api);
        assert!(!path.exists(), "the socket outlived the healer");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A test event's class is checked here: an unknown one is refused
    /// without troubling the loop; a known one, or none (sick), goes to
    /// the loop and its answer back to the caller.
    #[test]
    fn test_events_are_checked_then_passed_to_the_loop() {
        let (dir, path, api) = started("test");
        let mut client = UnixStream::connect(&path).unwrap();
        send(
            &mut client,
            r#"{"method":"io.xfs.Healer.TestEvent","parameters":{"class":"sik"}}"#,
        );
        let refused = receive(&mut client);
        assert_eq!(refused["error"], "org.varlink.service.InvalidParameter");
        assert_eq!(refused["parameters"]["parameter"], "class");
        assert!(
            api.calls.try_recv().is_err(),
            "a bad class reached the loop"
        );
        for (params, class) in [
            ("{}", HookClass::TEST_DEFAULT),
            (r#"{"class":"repair_failed"}"#, HookClass::RepairFailed),
        ] {
            send(
                &mut client,
                &format!(r#"{{"method":"io.xfs.Healer.TestEvent","parameters":{params}}}"#),
            );
            let Ok(LoopCall::TestEvent(asked, answer)) =
                api.calls.recv_timeout(Duration::from_secs(5))
            else {
                panic!("no test event call")
            };
            assert_eq!(asked, class);
            answer.send(TestEventSent {
                message: "/mnt: test".into(),
                hooks: true,
            });
            let got = receive(&mut client);
            assert_eq!(
                (
                    got["parameters"]["message"].as_str(),
                    got["parameters"]["hooks"].as_bool()
                ),
                (Some("/mnt: test"), Some(true))
            );
        }
        drop(api);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// One client's status call, not yet answered by the loop, holds up
    /// no one else; and the waiting client still gets its answer.
    #[test]
    fn a_call_waiting_for_the_loop_stalls_no_other_client() {
        let (dir, path, api) = started("fair");
        let mut asker = UnixStream::connect(&path).unwrap();
        send(&mut asker, r#"{"method":"io.xfs.Healer.GetStatus"}"#);
        let Ok(LoopCall::Status(answer)) = api.calls.recv_timeout(Duration::from_secs(5)) else {
            panic!("no status call")
        };
        let mut other = UnixStream::connect(&path).unwrap();
        send(&mut other, r#"{"method":"org.varlink.service.GetInfo"}"#);
        assert_eq!(receive(&mut other)["parameters"]["product"], "xfs_healer");
        answer.send(Status {
            mountpoint: "/late".into(),
            ..Status::default()
        });
        assert_eq!(
            receive(&mut asker)["parameters"]["status"]["mountpoint"],
            "/late"
        );
        drop(api);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A reply larger than any backlog limit is delivered, not a reason
    /// to drop the client that asked.
    #[test]
    fn a_large_status_reply_is_delivered() {
        let (dir, path, api) = started("large");
        let mut asker = UnixStream::connect(&path).unwrap();
        send(&mut asker, r#"{"method":"io.xfs.Healer.GetStatus"}"#);
        let Ok(LoopCall::Status(answer)) = api.calls.recv_timeout(Duration::from_secs(5)) else {
            panic!("no status call")
        };
        let last_events = (0..32).map(|n| event(n, "\\x01".repeat(10_000))).collect();
        answer.send(Status {
            mountpoint: "/big".into(),
            last_events,
            ..Status::default()
        });
        let got = receive(&mut asker);
        assert_eq!(
            got["parameters"]["status"]["last_events"]
                .as_array()
                .map(Vec::len),
            Some(32)
        );
        drop(api);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Idle connections filling every place do not lock a new client out.
    #[test]
    fn idle_clients_make_room_for_new_ones() {
        let (dir, path, api) = started("idle");
        let idle: Vec<UnixStream> = (0..MAX_CLIENTS)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        // Each is accepted before the next client connects.
        std::thread::sleep(Duration::from_millis(200));
        let mut late = UnixStream::connect(&path).unwrap();
        send(&mut late, r#"{"method":"org.varlink.service.GetInfo"}"#);
        assert_eq!(receive(&mut late)["parameters"]["product"], "xfs_healer");
        drop((idle, api));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every event published is either delivered or counted in a `lost`
    /// event, including the ones lost last.
    #[test]
    fn lost_events_are_always_told() {
        let (dir, path, mut api) = started("lost");
        let mut follower = UnixStream::connect(&path).unwrap();
        stream_events(&mut follower);
        // ~40 KB each, as with long escaped paths: far beyond the bounds.
        const PUBLISHED: u64 = 400;
        for n in 0..PUBLISHED {
            api.publish(event(n + 1, format!("{n} {}", "x".repeat(40_000))));
        }
        let (mut delivered, mut lost) = (0u64, 0u64);
        while delivered + lost < PUBLISHED {
            let got = receive(&mut follower);
            let event = &got["parameters"]["event"];
            if event["kind"] == "lost" {
                let text = event["message"].as_str().unwrap();
                lost += text.split(' ').next().unwrap().parse::<u64>().unwrap();
            } else {
                delivered += 1;
            }
        }
        assert_eq!(delivered + lost, PUBLISHED);
        assert!(
            lost > 0,
            "nothing was lost: the test did not overflow anything"
        );
        drop(api);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A follower that comes back with the last seq it saw gets every
    /// later event once, in order, whether the API thread had them
    /// before its call or not; one from too far back is told the gap.
    #[test]
    fn a_follower_resumes_after_since() {
        let (dir, path, mut api) = started("since");
        for seq in 1..=5 {
            api.publish(event(seq, format!("e{seq}")));
        }
        let mut follower = UnixStream::connect(&path).unwrap();
        send(
            &mut follower,
            r#"{"method":"io.xfs.Healer.Events","more":true,"parameters":{"since":3}}"#,
        );
        for seq in 6..=8 {
            api.publish(event(seq, format!("e{seq}")));
        }
        let seqs: Vec<u64> = (0..5)
            .map(|_| {
                receive(&mut follower)["parameters"]["event"]["seq"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(seqs, [4, 5, 6, 7, 8]);
        // Beyond the history's bound: the oldest are gone, and said to be.
        let big = "x".repeat(HISTORY_BYTES / 16);
        for seq in 9..=40 {
            api.publish(event(seq, big.clone()));
        }
        for _ in 9..=40 {
            receive(&mut follower);
        }
        let mut late = UnixStream::connect(&path).unwrap();
        send(
            &mut late,
            r#"{"method":"io.xfs.Healer.Events","more":true,"parameters":{"since":2}}"#,
        );
        let first = receive(&mut late);
        let lost = &first["parameters"]["event"];
        assert_eq!(
            (lost["kind"].as_str(), lost["seq"].as_u64()),
            (Some("lost"), Some(0))
        );
        let missed: u64 = lost["message"]
            .as_str()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let next = receive(&mut late)["parameters"]["event"]["seq"]
            .as_u64()
            .unwrap();
        assert_eq!(2 + missed + 1, next, "the gap is told exactly");
        assert!(next > 9, "nothing was evicted: the test tests nothing");
        drop(api);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The socket never exists under its name with a mode other than its
    /// own, so no one connects in a window between bind and chmod.
    #[test]
    fn the_socket_appears_only_with_its_mode() {
        let dir = scratch("window");
        let path = dir.join(socket_name("fs-7-0"));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let (path, stop) = (path.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut wrong = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(m) = std::fs::symlink_metadata(&path)
                        && m.permissions().mode() & 0o777 != 0o600
                    {
                        wrong += 1;
                    }
                }
                wrong
            })
        };
        for _ in 0..200 {
            let loop_wake = Wake::new().unwrap();
            drop(
                start(
                    &dir,
                    "fs-7-0",
                    None,
                    &Identity::default(),
                    Arc::new(loop_wake),
                )
                .unwrap(),
            );
        }
        stop.store(true, Ordering::Relaxed);
        assert_eq!(
            watcher.join().unwrap(),
            0,
            "the socket was seen with another mode"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A live healer's socket is never taken over.
    #[test]
    fn a_socket_that_answers_is_not_replaced() {
        let (dir, _path, api) = started("live");
        let loop_wake = Wake::new().unwrap();
        let second = start(
            &dir,
            "fs-7-0",
            None,
            &Identity::default(),
            Arc::new(loop_wake),
        );
        assert_eq!(
            second.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::AddrInUse)
        );
        drop(api);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
