//! The event loop. One thread reads the monitor fd and decides; one worker
//! thread runs repairs (a repair can take seconds, and the kernel queue
//! holds only ~585 events, so reading must never wait for it). The loop
//! sleeps in `poll` on the monitor fd and a wake-up socket: no timer runs
//! unless a retry or a deferred full scan is due.

use crate::autofsck::Mode;
use crate::config::Settings;
use crate::output::{display, err, out};
use crate::media;
use crate::paths;
use crate::pending::{self, PendingMarker};
use crate::repair::{self, Attempt, FullScan, RepairText};
use crate::startup::Healer;
use rustix::event::{PollFd, PollFlags, poll};
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;
use xfs_abi::Errno;
use xfs_abi::handle::XfsHandle;
use xfs_events::{Device, Event, HealthObject, RECORD_LEN, Record, RecordAssembler, Verdict};
use xfs_policy::media::{Damage, MediaRepair};
use xfs_policy::{Action, Config, Engine, FullScanReason, Input, LineLimiter, Object, Target};

/// Bytes per read: whole records only, and enough to drain the kernel's
/// whole queue (585 records) in one or two calls.
const READ_BUF: usize = 1024 * RECORD_LEN;
/// Identical event lines within this many ms are counted, not printed.
const REPEAT_INTERVAL_MS: u64 = 10_000;
/// Distinct event lines remembered for that.
const REPEAT_KEYS: usize = 4096;
/// Unknown event kinds remembered (each is reported once).
const UNKNOWN_KINDS: usize = 64;

/// Messages from the worker and full-scan threads to the loop.
enum Done {
    /// The target, how it went, and when the read that asked for it
    /// returned (if it was dispatched right after that read).
    Repair(Target, Attempt, Option<Instant>),
    FullScan,
}

/// Most latency samples kept for `--debug` (then the first ones stand).
const LATENCY_SAMPLES: usize = 65_536;
/// Most lines held back while a batch is read (a longer batch prints as
/// it goes, giving up only the early dispatch).
const HELD_LINES: usize = 1024;

/// A line of the current batch, printed once its repairs are dispatched:
/// resolving a path takes milliseconds, which the repair need not wait for.
enum Held {
    Event(Record, u64),
    Lost(u64),
    /// What a media error's range holds (after the event's own line).
    MediaOwners((Device, u64, u64), Result<media::Owners, Errno>),
}

struct Loop {
    healer: Healer,
    monitor: Arc<OwnedFd>,
    /// The `<mnt>` message prefix (the argument as given, escaped).
    mnt: String,
    engine: Engine,
    limiter: LineLimiter<[u8; RECORD_LEN]>,
    unknown_seen: HashSet<(u32, u32)>,
    clock: Instant,
    /// Lost events already reported, from LOST records or fdinfo.
    lost_known: u64,
    /// Sum of the kernel's LOST records.
    lost_records: u64,
    jobs: mpsc::SyncSender<(Target, Option<Instant>)>,
    /// Longest a supervised `xfs_scrub` child may run (no systemd).
    full_scan_timeout: std::time::Duration,
    worker_busy: bool,
    done_tx: mpsc::Sender<Done>,
    wake_tx: Arc<UnixStream>,
    pending: PendingMarker,
    /// When this wake-up's read returned events (`--debug` timing).
    read_at: Option<Instant>,
    /// `--debug`: microseconds from an event read to its repair ioctl.
    latencies: Option<Vec<u32>>,
    /// This batch's lines, in order (at most [`HELD_LINES`]).
    held: Vec<Held>,
    /// This batch's full-scan starts, run after its lines are printed.
    held_actions: Vec<Action>,
}

pub fn run(healer: Healer, settings: &Settings, debug: bool) -> Result<(), ()> {
    let monitor = Arc::new(healer.monitor.try_clone().map_err(|e| err(&format!("monitor fd: {e}")))?);
    let mnt = display(healer.mount_arg.as_bytes()).into_owned();
    let (wake_rx, wake_tx) = UnixStream::pair().map_err(|e| err(&format!("{mnt}: worker threadpool setup: {e}")))?;
    wake_rx.set_nonblocking(true).map_err(|_| ())?;
    let wake_tx = Arc::new(wake_tx);
    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<(Target, Option<Instant>)>(1);
    let (done_tx, done_rx) = mpsc::channel::<Done>();

    // The repair worker.
    {
        let monitor = Arc::clone(&monitor);
        let mount_path = healer.mount_path.clone();
        let root = healer.root_handle;
        let done_tx = done_tx.clone();
        let wake_tx = Arc::clone(&wake_tx);
        std::thread::Builder::new()
            .name("repair".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                for (target, read_at) in jobs_rx {
                    let attempt = repair::repair(&mount_path, monitor.as_fd(), root.as_ref(), &target);
                    if done_tx.send(Done::Repair(target, attempt, read_at)).is_err() {
                        break;
                    }
                    let _ = (&*wake_tx).write_all(&[1]);
                }
            })
            .map_err(|e| err(&format!("{mnt}: worker threadpool setup: {e}")))?;
    }

    let config = Config { repair: healer.mode == Mode::Repair, ..settings.policy.clone() };
    let (pending, interrupted) = PendingMarker::open(std::path::Path::new(pending::RUN_DIR), &healer.uuid);
    let mut state = Loop {
        monitor,
        mnt,
        engine: Engine::new(config),
        limiter: LineLimiter::new(REPEAT_INTERVAL_MS, REPEAT_KEYS),
        unknown_seen: HashSet::new(),
        clock: Instant::now(),
        lost_known: 0,
        lost_records: 0,
        jobs: jobs_tx,
        full_scan_timeout: settings.full_scan_timeout,
        worker_busy: false,
        done_tx,
        wake_tx,
        pending,
        read_at: None,
        latencies: debug.then(Vec::new),
        held: Vec::new(),
        held_actions: Vec::new(),
        healer,
    };
    if interrupted && state.healer.mode == Mode::Repair {
        out(&format!("{}: The previous healer stopped with repairs pending.", state.mnt));
        let actions = state.engine.handle(0, Input::PreviousRunInterrupted);
        state.run_actions(actions);
    }
    let result = state.event_loop(&wake_rx, &done_rx);
    state.flush_suppressed();
    if let Some(samples) = state.latencies.as_mut() {
        err(&format!("{}: debug: {}", state.mnt, latency_summary(samples)));
    }
    result
}

impl Loop {
    fn now(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn event_loop(&mut self, wake_rx: &UnixStream, done_rx: &mpsc::Receiver<Done>) -> Result<(), ()> {
        let flags = fcntl_getfl(&*self.monitor).map_err(|e| self.read_error(e))?;
        fcntl_setfl(&*self.monitor, flags | OFlags::NONBLOCK).map_err(|e| self.read_error(e))?;
        let mut assembler = RecordAssembler::default();
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let timeout = self.engine.next_deadline().map(|due| {
                let ms = due.saturating_sub(self.now());
                rustix::event::Timespec { tv_sec: i64::try_from(ms / 1000).unwrap_or(i64::MAX), tv_nsec: i64::try_from(ms % 1000).unwrap_or(0) * 1_000_000 }
            });
            let mut fds = [
                PollFd::new(&*self.monitor, PollFlags::IN),
                PollFd::new(wake_rx, PollFlags::IN),
            ];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    self.read_error(e);
                    return Err(());
                }
            }

            // Results first: they may change what new events mean.
            let mut drain = [0u8; 64];
            while matches!((&*wake_rx).read(&mut drain), Ok(n) if n > 0) {}
            while let Ok(done) = done_rx.try_recv() {
                self.on_done(done);
            }

            // Then everything the kernel has for us.
            let mut eof = false;
            let mut got_events = false;
            loop {
                match rustix::io::read(&*self.monitor, &mut buf) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => {
                        got_events = true;
                        let mut records = Vec::new();
                        assembler.feed(&buf[..n], |r| records.push(r));
                        for record in records {
                            self.on_record(&record);
                        }
                    }
                    Err(Errno::AGAIN) => break,
                    Err(Errno::INTR) => continue,
                    Err(e) => {
                        self.print_held();
                        self.read_error(e);
                        return Err(());
                    }
                }
            }
            if got_events {
                self.check_fdinfo_lost();
                self.read_at = Some(Instant::now());
            }
            let now = self.now();
            let actions = self.engine.tick(now);
            self.held_actions.extend(actions);
            self.dispatch();
            self.print_held();
            let actions = std::mem::take(&mut self.held_actions);
            self.run_actions(actions);
            let evicted = self.limiter.take_evicted();
            self.print_suppressed(evicted);
            self.pending.set(self.worker_busy || self.engine.pending() > 0);
            if eof {
                if assembler.pending() != 0 {
                    err(&format!("{}: truncated event record ({} bytes) at end of stream", self.mnt, assembler.pending()));
                }
                return Ok(());
            }
        }
    }

    fn read_error(&self, e: Errno) {
        err(&format!("{}: error reading event file: {}", self.mnt, xfs_abi::strerror(e)));
    }

    /// Hands the next ready target to the worker when it is idle.
    fn dispatch(&mut self) {
        if self.worker_busy {
            return;
        }
        let now = self.now();
        // Only a dispatch right after a read measures read-to-ioctl time.
        let read_at = self.read_at.take();
        if let Some(target) = self.engine.next_repair(now)
            && self.jobs.send((target, read_at)).is_ok()
        {
            self.worker_busy = true;
        }
    }

    fn on_done(&mut self, done: Done) {
        let now = self.now();
        let actions = match done {
            Done::Repair(target, attempt, read_at) => {
                self.worker_busy = false;
                if let (Some(samples), Some(read), Some(issued)) = (self.latencies.as_mut(), read_at, attempt.issued)
                    && samples.len() < LATENCY_SAMPLES
                {
                    samples.push(u32::try_from(issued.saturating_duration_since(read).as_micros()).unwrap_or(u32::MAX));
                }
                self.print_repair(&target, &attempt);
                self.engine.handle(now, Input::RepairDone { target, outcome: attempt.outcome })
            }
            Done::FullScan => self.engine.handle(now, Input::FullScanDone),
        };
        self.run_actions(actions);
    }

    fn run_actions(&mut self, actions: Vec<Action>) {
        for Action::StartFullScan(reason) in actions {
            self.start_full_scan(reason);
        }
    }

    fn start_full_scan(&mut self, _reason: FullScanReason) {
        let mnt = &self.mnt;
        match repair::start_full_scan(&self.healer.mount_path) {
            FullScan::UnitStarted => {
                out(&format!("{mnt}: Full repairs in progress."));
                // systemd runs it; we know no more about it.
                let now = self.now();
                self.engine.handle(now, Input::FullScanDone);
            }
            FullScan::Child(child) => {
                out(&format!("{mnt}: Full repairs in progress."));
                let done_tx = self.done_tx.clone();
                let wake_tx = Arc::clone(&self.wake_tx);
                let mnt = mnt.clone();
                let limit = self.full_scan_timeout;
                let spawned = std::thread::Builder::new().stack_size(64 * 1024).spawn(move || {
                    match xfs_abi::process::wait_with_timeout(child, limit) {
                        // 4 = "errors were fixed" (xfs_scrub(8) exit status bits).
                        xfs_abi::process::ChildEnd::Exited(Some(0 | 4)) => out(&format!("{mnt}: Full repairs complete.")),
                        xfs_abi::process::ChildEnd::Exited(Some(code)) => err(&format!("{mnt}: xfs_scrub exited with status {code}.")),
                        xfs_abi::process::ChildEnd::Exited(None) => err(&format!("{mnt}: xfs_scrub was killed by a signal.")),
                        xfs_abi::process::ChildEnd::TimedOut => err(&format!(
                            "{mnt}: xfs_scrub still running after {} hours; stopped.",
                            limit.as_secs() / 3600
                        )),
                    }
                    let _ = done_tx.send(Done::FullScan);
                    let _ = (&*wake_tx).write_all(&[1]);
                });
                if spawned.is_err() {
                    let now = self.now();
                    self.engine.handle(now, Input::FullScanDone);
                }
            }
            FullScan::NoUnitName => {
                err(&format!("{mnt}: Could not determine xfs_scrub unit name."));
                let now = self.now();
                self.engine.handle(now, Input::FullScanDone);
            }
            FullScan::UnitFailed(unit) => {
                err(&format!("{mnt}: Could not start xfs_scrub service unit: {unit}"));
                let now = self.now();
                self.engine.handle(now, Input::FullScanDone);
            }
            FullScan::SpawnFailed(why) => {
                err(&format!("{mnt}: Could not start xfs_scrub: {why}"));
                let now = self.now();
                self.engine.handle(now, Input::FullScanDone);
            }
        }
    }

    fn on_record(&mut self, record: &Record) {
        let now = self.now();
        let event = &record.event;
        let input = match *event {
            Event::Lost { count } => {
                // fdinfo may have told of these already: say only the rest.
                self.lost_records = self.lost_records.saturating_add(count);
                let new = self.lost_records.saturating_sub(self.lost_known);
                self.lost_known = self.lost_known.max(self.lost_records);
                if new > 0 {
                    self.hold(Held::Lost(new));
                }
                (new > 0).then_some(Input::Lost { count: new })
            }
            Event::Shutdown { .. } => Some(Input::Shutdown),
            Event::Media { device, daddr, bbcount } => {
                self.on_media((device, daddr, bbcount), record, now);
                None
            }
            Event::Health { verdict, object } => {
                let (object, mask) = policy_object(object);
                match verdict {
                    Verdict::Sick => Some(Input::Sick { object, mask }),
                    Verdict::Healthy => Some(Input::Healthy { object, mask }),
                    // Found by xfs_scrub, which repairs what it finds.
                    Verdict::Corrupt => None,
                }
            }
            _ => None,
        };
        if !matches!(event, Event::Lost { .. } | Event::Media { .. }) {
            self.hold(Held::Event(*record, now));
        }
        if let Event::Health { verdict: Verdict::Healthy, .. } = event {
            self.limiter.rearm(&record.key_as(Verdict::Sick));
            self.limiter.rearm(&record.key_as(Verdict::Corrupt));
        }
        if let Some(input) = input {
            let actions = self.engine.handle(now, input);
            self.held_actions.extend(actions);
        }
        // No dispatch here: the loop dispatches once the whole batch is
        // read, so a shutdown or HEALTHY later in it cancels work first.
    }

    /// Looks up what the failed range holds now (its owners may change
    /// before the line is printed), rebuilds the metadata on it, and holds
    /// the owner lines to follow the event's own.
    fn on_media(&mut self, range: (Device, u64, u64), record: &Record, now: u64) {
        self.hold(Held::Event(*record, now));
        let owners = media::owners(&self.healer.mount_path, self.monitor.as_fd(), self.healer.root_handle.as_ref(), &self.healer.layout, range);
        for damage in owners.iter().flat_map(|o| &o.damages) {
            let input = match damage.repair() {
                Some(MediaRepair::Rebuild { object, mask }) => Input::BadMedia { object, mask },
                Some(MediaRepair::FullScan) => Input::BadMediaUnknownOwner,
                None => continue,
            };
            let actions = self.engine.handle(now, input);
            self.held_actions.extend(actions);
        }
        self.hold(Held::MediaOwners(range, owners));
    }

    fn print_media_owners(&self, range: (Device, u64, u64), owners: Result<media::Owners, Errno>) {
        if self.healer.quiet {
            return;
        }
        let mount = self.healer.mount_arg.as_bytes();
        let owners = match owners {
            Ok(owners) => owners,
            Err(e) => {
                let (device, daddr, bbcount) = range;
                return out(&format!(
                    "{} {} daddr {daddr:#x} bbcount {bbcount:#x}: owners not looked up: {}",
                    self.mnt,
                    device.word(),
                    xfs_abi::strerror(e)
                ));
            }
        };
        for damage in &owners.damages {
            let file = match *damage {
                Damage::FileData { ino, .. } | Damage::FileMap { ino, .. } => media::file_name(
                    &self.healer.mount_path,
                    self.monitor.as_fd(),
                    self.healer.root_handle.as_ref(),
                    mount,
                    ino,
                    self.healer.has_parent_pointers,
                ),
                _ => String::new(),
            };
            out(&xfs_report::media_damage_line(mount, range, damage, &file));
        }
        if owners.more > 0 {
            let (device, daddr, bbcount) = range;
            out(&format!("{} {} daddr {daddr:#x} bbcount {bbcount:#x}: {} more owners not listed", self.mnt, device.word(), owners.more));
        }
    }

    fn hold(&mut self, line: Held) {
        if self.held.len() >= HELD_LINES {
            self.print_held();
        }
        self.held.push(line);
    }

    fn print_held(&mut self) {
        for line in std::mem::take(&mut self.held) {
            match line {
                Held::Event(record, now) => self.print_event(&record, now),
                Held::Lost(count) => self.print_lost(count),
                Held::MediaOwners(range, owners) => self.print_media_owners(range, owners),
            }
        }
    }

    /// Prints an event the way the reference does, except that repeats of
    /// an identical report within the interval are counted, and unknown
    /// kinds are reported once.
    fn print_event(&mut self, record: &Record, now: u64) {
        let event = &record.event;
        let actionable = !matches!(event, Event::Running | Event::Lost { .. } | Event::Unmount | Event::Shutdown { .. });
        if actionable && self.healer.quiet {
            return;
        }
        if let Event::Unknown { domain, kind } = *event
            && (self.unknown_seen.len() >= UNKNOWN_KINDS || !self.unknown_seen.insert((domain, kind)))
        {
            return;
        }
        let mut suppressed = 0;
        if actionable {
            match self.limiter.admit(&record.raw_key(), now) {
                xfs_policy::Admit::Print { suppressed: n } => suppressed = n,
                xfs_policy::Admit::Suppress => return,
            }
        }
        let path = self.path_of(event);
        if let Some(line) = xfs_report::event_line(self.healer.mount_arg.as_bytes(), event, path.as_deref(), strerror_u32) {
            if suppressed > 0 {
                out(&format!("{}: {suppressed} more reports like \"{line}\" were suppressed", self.mnt));
            }
            out(&line);
        }
    }

    fn path_of(&self, event: &Event) -> Option<Vec<u8>> {
        let (ino, generation) = match *event {
            Event::Health { object: HealthObject::Inode { ino, generation, .. }, .. } => (ino, generation),
            Event::FileIo { ino, generation, .. } => (ino, generation),
            _ => return None,
        };
        if !self.healer.has_parent_pointers {
            return None;
        }
        let root: &XfsHandle = self.healer.root_handle.as_ref()?;
        paths::lookup(&self.healer.mount_path, self.monitor.as_fd(), root, self.healer.mount_arg.as_bytes(), ino, generation)
    }

    fn print_repair(&self, target: &Target, attempt: &Attempt) {
        if let RepairText::Filesystem(text) = &attempt.text {
            return out(&format!("{}: {text}", self.mnt));
        }
        let path = match target.object {
            Object::Inode { ino, generation } if self.healer.has_parent_pointers => self
                .healer
                .root_handle
                .as_ref()
                .and_then(|root| paths::lookup(&self.healer.mount_path, self.monitor.as_fd(), root, self.healer.mount_arg.as_bytes(), ino, generation)),
            _ => None,
        };
        let object = report_object(target);
        let text = match &attempt.text {
            RepairText::Reference(words) => words.message().to_string(),
            RepairText::Other(text) => text.clone(),
            RepairText::Filesystem(_) => return, // printed above
        };
        out(&xfs_report::repair_line(self.healer.mount_arg.as_bytes(), &object, target.bit, path.as_deref(), &text));
    }

    /// The kernel reports lost events only when a later event fits in its
    /// queue; its fdinfo counter shows them at once.
    fn check_fdinfo_lost(&mut self) {
        let Ok(info) = xfs_abi::healthmon::read_monitor_fdinfo(self.monitor.as_fd()) else { return };
        if info.lost > self.lost_known {
            let new = info.lost - self.lost_known;
            self.lost_known = info.lost;
            self.hold(Held::Lost(new));
            let now = self.now();
            let actions = self.engine.handle(now, Input::Lost { count: new });
            self.held_actions.extend(actions);
        }
    }

    /// The reference's LOST line, for losses not reported before.
    fn print_lost(&self, count: u64) {
        let lost = Event::Lost { count };
        if let Some(line) = xfs_report::event_line(self.healer.mount_arg.as_bytes(), &lost, None, strerror_u32) {
            out(&line);
        }
    }

    /// Says what was held back, naming the report (without resolving its
    /// path again: that would make the kernel re-read the object).
    fn print_suppressed(&self, counts: Vec<([u8; RECORD_LEN], u64)>) {
        for (key, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
            let record = xfs_events::decode(&key);
            if let Some(line) = xfs_report::event_line(self.healer.mount_arg.as_bytes(), &record.event, None, strerror_u32) {
                out(&format!("{}: {n} more reports like \"{line}\" were suppressed", self.mnt));
            }
        }
    }

    fn flush_suppressed(&mut self) {
        let counts = self.limiter.take_suppressed();
        self.print_suppressed(counts);
    }
}

/// `N repairs timed: read to ioctl p50 X us, p99 Y us, max Z us`.
fn latency_summary(samples: &mut [u32]) -> String {
    if samples.is_empty() {
        return "no repair was timed from its event read".to_string();
    }
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() - 1) * q / 100];
    format!(
        "{} repairs timed from event read to repair ioctl: p50 {} us, p99 {} us, max {} us",
        samples.len(),
        at(50),
        at(99),
        samples[samples.len() - 1]
    )
}

fn strerror_u32(errno: u32) -> String {
    xfs_abi::strerror(Errno::from_raw_os_error(i32::try_from(errno).unwrap_or(i32::MAX)))
}

fn policy_object(object: HealthObject) -> (Object, u32) {
    match object {
        HealthObject::Fs { mask } => (Object::Fs, mask.0),
        HealthObject::Ag { agno, mask } => (Object::Ag(agno), mask.0),
        HealthObject::RtGroup { rgno, mask } => (Object::RtGroup(rgno), mask.0),
        HealthObject::Inode { ino, generation, mask } => (Object::Inode { ino, generation }, mask.0),
    }
}

fn report_object(target: &Target) -> xfs_report::ObjectRef {
    match target.object {
        Object::Fs => xfs_report::ObjectRef::Fs,
        Object::Ag(agno) => xfs_report::ObjectRef::Ag(agno),
        Object::RtGroup(rgno) => xfs_report::ObjectRef::RtGroup(rgno),
        Object::Inode { ino, generation } => xfs_report::ObjectRef::Inode { ino, generation },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles() {
        let mut samples: Vec<u32> = (1..=100).rev().collect();
        assert_eq!(
            latency_summary(&mut samples),
            "100 repairs timed from event read to repair ioctl: p50 50 us, p99 99 us, max 100 us"
        );
        assert_eq!(latency_summary(&mut []), "no repair was timed from its event read");
        assert!(latency_summary(&mut [7]).contains("p50 7 us, p99 7 us, max 7 us"));
    }
}
