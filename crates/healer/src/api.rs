//! The varlink status API (`io.xfs.Healer`, see `crates/varlink`): one
//! thread serving `/run/xfs_healer/<uuid>.varlink`, so no client can slow
//! the event loop. Status and full-scan requests are passed to the loop,
//! which answers between batches; events reach streaming clients through a
//! bounded channel, and a client that falls behind loses events (counted),
//! never the loop's time.

use crate::output::err;
use rustix::event::{PollFd, PollFlags, poll};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::time::Duration;
use xfs_varlink::{Call, Framer, Status};

/// Most clients at once; more are turned away.
const MAX_CLIENTS: usize = 16;
/// Events waiting for the API thread.
const EVENT_QUEUE: usize = 4096;
/// Bytes queued for one client before it loses events.
const CLIENT_BACKLOG: usize = 1 << 20;
/// How long a call waits for the event loop's answer.
const LOOP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the API asks of the event loop.
#[derive(Debug)]
pub enum LoopCall {
    Status(Sender<Status>),
    /// Ok((started, deferred)) or the reason repairs are off.
    FullScan(Sender<Result<(bool, bool), String>>),
}

/// The event loop's end.
#[derive(Debug)]
pub struct Api {
    pub calls: Receiver<LoopCall>,
    events: SyncSender<xfs_varlink::Event>,
    wake: UnixStream,
    streaming: Arc<AtomicUsize>,
    path: PathBuf,
}

impl Api {
    /// Whether anyone is listening for events (build them only then).
    pub fn streaming(&self) -> bool {
        self.streaming.load(Ordering::Relaxed) > 0
    }

    /// Hands an event to the streaming clients; never blocks.
    pub fn publish(&self, event: xfs_varlink::Event) {
        match self.events.try_send(event) {
            Ok(()) | Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => return,
        }
        let _ = (&self.wake).write(&[1]);
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The socket of the filesystem with this UUID.
pub fn socket_path(dir: &Path, uuid: &[u8; 16]) -> PathBuf {
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.varlink"))
}

/// Binds the socket (root only, or group `gid` too) and starts the
/// thread. `loop_wake` wakes the event loop when a call is waiting.
pub fn start(path: PathBuf, gid: Option<u32>, loop_wake: Arc<UnixStream>) -> std::io::Result<Api> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Only one healer per filesystem exists (the kernel refuses a second
    // monitor), so a socket left here is a dead healer's.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    let mode = if gid.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    if let Some(gid) = gid {
        std::os::unix::fs::chown(&path, None, Some(gid))?;
    }
    listener.set_nonblocking(true)?;
    let (wake, wake_rx) = UnixStream::pair()?;
    wake.set_nonblocking(true)?;
    wake_rx.set_nonblocking(true)?;
    let (calls_tx, calls) = mpsc::channel();
    let (events, events_rx) = mpsc::sync_channel(EVENT_QUEUE);
    let streaming = Arc::new(AtomicUsize::new(0));
    let server = Server { listener, wake_rx, events: events_rx, calls: calls_tx, loop_wake, streaming: Arc::clone(&streaming), clients: Vec::new() };
    std::thread::Builder::new().name("varlink".into()).stack_size(256 * 1024).spawn(move || server.run())?;
    Ok(Api { calls, events, wake, streaming, path })
}

struct Client {
    stream: UnixStream,
    framer: Framer,
    out: Vec<u8>,
    streaming: bool,
    /// Events this client missed because it did not read.
    missed: u64,
}

struct Server {
    listener: UnixListener,
    wake_rx: UnixStream,
    events: Receiver<xfs_varlink::Event>,
    calls: Sender<LoopCall>,
    loop_wake: Arc<UnixStream>,
    streaming: Arc<AtomicUsize>,
    clients: Vec<Client>,
}

impl Server {
    fn run(mut self) {
        loop {
            let (ready_listener, ready_wake, ready): (bool, bool, Vec<(bool, bool, bool)>) = {
                let mut fds = vec![PollFd::new(&self.listener, PollFlags::IN), PollFd::new(&self.wake_rx, PollFlags::IN)];
                for c in &self.clients {
                    let mut flags = PollFlags::IN;
                    if !c.out.is_empty() {
                        flags |= PollFlags::OUT;
                    }
                    fds.push(PollFd::new(&c.stream, flags));
                }
                if poll(&mut fds, None).is_err() {
                    continue;
                }
                let r = |f: &PollFd<'_>, flag| f.revents().contains(flag);
                let ready = fds[2..].iter().map(|f| (r(f, PollFlags::IN), r(f, PollFlags::OUT), r(f, PollFlags::HUP) || r(f, PollFlags::ERR))).collect();
                (r(&fds[0], PollFlags::IN), r(&fds[1], PollFlags::IN), ready)
            };
            if ready_wake {
                let mut drain = [0u8; 256];
                while matches!((&self.wake_rx).read(&mut drain), Ok(n) if n > 0) {}
                self.fan_out();
            }
            let mut gone = vec![false; self.clients.len()];
            for (i, &(readable, writable, hangup)) in ready.iter().enumerate() {
                if readable && !self.read_client(i) {
                    gone[i] = true;
                }
                if (writable || readable) && !gone[i] && !flush(&mut self.clients[i]) {
                    gone[i] = true;
                }
                if hangup && !readable {
                    gone[i] = true;
                }
            }
            let mut i = 0;
            self.clients.retain(|_| {
                i += 1;
                !gone[i - 1]
            });
            self.streaming.store(self.clients.iter().filter(|c| c.streaming).count(), Ordering::Relaxed);
            if ready_listener {
                self.accept();
            }
        }
    }

    fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            if self.clients.len() >= MAX_CLIENTS || stream.set_nonblocking(true).is_err() {
                continue; // dropped: closed
            }
            self.clients.push(Client { stream, framer: Framer::default(), out: Vec::new(), streaming: false, missed: 0 });
        }
    }

    /// Queues every waiting event for each streaming client.
    fn fan_out(&mut self) {
        for event in self.events.try_iter() {
            let bytes = xfs_varlink::reply(serde_json::json!({ "event": event }), true);
            for c in self.clients.iter_mut().filter(|c| c.streaming) {
                if c.out.len() + bytes.len() > CLIENT_BACKLOG {
                    c.missed += 1;
                    continue;
                }
                if c.missed > 0 {
                    let lost = xfs_varlink::Event {
                        time_usec: event.time_usec,
                        kind: "lost".into(),
                        message: format!("{} events were not delivered to this client", c.missed),
                        object: None,
                        structures: None,
                        path: None,
                        outcome: None,
                    };
                    c.out.extend_from_slice(&xfs_varlink::reply(serde_json::json!({ "event": lost }), true));
                    c.missed = 0;
                }
                c.out.extend_from_slice(&bytes);
            }
        }
        for c in &mut self.clients {
            let _ = flush(c);
        }
    }

    /// Reads and answers a client's requests; false: drop it.
    fn read_client(&mut self, i: usize) -> bool {
        let mut buf = [0u8; 4096];
        let messages = loop {
            match (&self.clients[i].stream).read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => match self.clients[i].framer.feed(&buf[..n]) {
                    Ok(m) if m.is_empty() => continue,
                    Ok(m) => break m,
                    Err(_) => return false,
                },
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        };
        for message in messages {
            let Ok(request) = xfs_varlink::parse_request(&message) else { return false };
            let reply = match xfs_varlink::dispatch(&request) {
                Call::Answered(bytes) => bytes,
                Call::Silent => continue,
                Call::GetStatus => match self.ask(LoopCall::Status) {
                    Some(status) => xfs_varlink::reply(serde_json::json!({ "status": status }), false),
                    None => return false,
                },
                Call::Events { more: true } => {
                    self.clients[i].streaming = true;
                    continue;
                }
                Call::Events { more: false } => xfs_varlink::error("org.varlink.service.InvalidParameter", serde_json::json!({ "parameter": "more" })),
                Call::RequestFullScan => match self.ask(LoopCall::FullScan) {
                    Some(Ok((started, deferred))) => xfs_varlink::reply(serde_json::json!({ "started": started, "deferred": deferred }), false),
                    Some(Err(reason)) => xfs_varlink::error("io.xfs.Healer.RepairsDisabled", serde_json::json!({ "reason": reason })),
                    None => return false,
                },
            };
            if !request.oneway {
                self.clients[i].out.extend_from_slice(&reply);
            }
            // A client that sends calls without reading the answers is
            // dropped before its answers grow without bound.
            if self.clients[i].out.len() > CLIENT_BACKLOG {
                return false;
            }
        }
        true
    }

    /// Passes a call to the event loop and waits for its answer.
    fn ask<T>(&self, make: impl FnOnce(Sender<T>) -> LoopCall) -> Option<T> {
        let (tx, rx) = mpsc::channel();
        self.calls.send(make(tx)).ok()?;
        let _ = (&*self.loop_wake).write(&[1]);
        rx.recv_timeout(LOOP_TIMEOUT).ok()
    }
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

/// The group allowed to use the API, by name or number, from `/etc/group`.
pub fn group_id(group: &str) -> Option<u32> {
    if let Ok(gid) = group.parse() {
        return Some(gid);
    }
    let text = std::fs::read_to_string("/etc/group").ok()?;
    gid_in(&text, group)
}

fn gid_in(etc_group: &str, group: &str) -> Option<u32> {
    etc_group.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == group).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

/// Reports a socket that could not be set up (the healer goes on without).
pub fn start_failed(mnt: &str, path: &Path, e: &std::io::Error) {
    err(&format!("{mnt}: status API not available: {}: {e}", path.display()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_name_or_number() {
        let etc = "root:x:0:\nadm:x:4:syslog\nbroken\nwheel:x:notanumber:\n";
        assert_eq!(gid_in(etc, "adm"), Some(4));
        assert_eq!(gid_in(etc, "root"), Some(0));
        assert_eq!(gid_in(etc, "wheel"), None);
        assert_eq!(gid_in(etc, "nobody"), None);
        assert_eq!(group_id("27"), Some(27));
    }

    #[test]
    fn sockets_are_named_by_uuid() {
        assert_eq!(socket_path(Path::new("/run/xfs_healer"), &[0x01; 16]), Path::new("/run/xfs_healer/01010101010101010101010101010101.varlink"));
    }

    /// A real socket: introspection, a status call answered by a stand-in
    /// loop, and an event stream.
    #[test]
    fn serves_calls_and_streams_events() {
        let dir = std::env::temp_dir().join(format!("xfs-healer-api-test-{}", std::process::id()));
        let path = socket_path(&dir, &[7; 16]);
        let (loop_wake, _loop_wake_rx) = UnixStream::pair().unwrap();
        let api = start(path.clone(), None, Arc::new(loop_wake)).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let mut client = UnixStream::connect(&path).unwrap();
        let send = |client: &mut UnixStream, text: &str| {
            client.write_all(text.as_bytes()).unwrap();
            client.write_all(&[0]).unwrap();
        };
        let receive = |client: &mut UnixStream| -> serde_json::Value {
            let mut reply = Vec::new();
            let mut byte = [0u8];
            while client.read(&mut byte).unwrap() == 1 && byte[0] != 0 {
                reply.push(byte[0]);
            }
            serde_json::from_slice(&reply).unwrap()
        };
        send(&mut client, r#"{"method":"org.varlink.service.GetInfo"}"#);
        assert_eq!(receive(&mut client)["parameters"]["product"], "xfs_healer");
        send(&mut client, r#"{"method":"io.xfs.Healer.GetStatus"}"#);
        let Ok(LoopCall::Status(answer)) = api.calls.recv_timeout(Duration::from_secs(5)) else { panic!("no status call") };
        answer.send(Status { mountpoint: "/mnt".into(), ..Status::default() }).unwrap();
        assert_eq!(receive(&mut client)["parameters"]["status"]["mountpoint"], "/mnt");
        send(&mut client, r#"{"method":"io.xfs.Healer.Events","more":true}"#);
        for _ in 0..500 {
            if api.streaming() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(api.streaming());
        api.publish(xfs_varlink::Event { time_usec: 1, kind: "sick".into(), message: "/mnt/a directory: sick".into(), object: None, structures: None, path: None, outcome: None });
        let event = receive(&mut client);
        assert_eq!((event["continues"].as_bool(), event["parameters"]["event"]["kind"].as_str()), (Some(true), Some("sick")));
        drop(api);
        assert!(!path.exists(), "the socket outlived the healer");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
