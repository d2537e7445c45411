//! The event loop. One thread reads the monitor fd and decides; one worker
//! thread runs repairs (a repair can take seconds, and the kernel queue
//! holds only ~585 events, so reading must never wait for it). The loop
//! sleeps in `poll` on the monitor fd and a wake-up socket: no timer runs
//! unless a retry or a deferred full scan is due.

use crate::api;
use crate::autofsck::Mode;
use crate::hooks::Hooks;
use crate::media;
use crate::output::{self, display, err, out};
use crate::paths;
use crate::pending::{self, PendingMarker};
use crate::repair::{self, Attempt, FullScan, RepairText};
use crate::startup::Healer;
use crate::statedir::StateDir;
use crate::status::{self, StatusBook};
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
use xfs_abi::signals::StopSignals;
use xfs_events::{Device, Event, HealthObject, RECORD_LEN, Record, RecordAssembler, Verdict};
use xfs_healer::config::Settings;
use xfs_policy::media::MediaRepair;
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
/// Reasons for missing paths remembered (each is said once).
const SAID_NO_PATH: usize = 16;

/// Messages from the worker and full-scan threads to the loop.
enum Done {
    /// The target, how it went, and when the read that asked for it
    /// returned (if it was dispatched right after that read).
    Repair(Target, Attempt, Option<Instant>),
    /// The full scan started (with the pidfd of the process that ends
    /// with it: our `xfs_scrub`, or the `systemctl start` following the
    /// unit), or could not (the message).
    ScanStarted(Result<Option<OwnedFd>, String>),
    /// The full scan ended.
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
    /// Lost events told, from LOST records or fdinfo, each once.
    lost: status::LostEvents,
    /// The repair worker's queue (None once stopping: the worker ends).
    jobs: Option<mpsc::SyncSender<(Target, Option<Instant>)>>,
    /// The process that ends with the full scan (our `xfs_scrub`, or the
    /// `systemctl start` following the unit), signalled at an orderly stop.
    full_scan_child: Option<OwnedFd>,
    /// Why the running full scan was started.
    full_scan_reason: Option<FullScanReason>,
    /// After a stop signal: nothing new is started.
    stopping: bool,
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
    /// Reasons for a missing path already given.
    said_no_path: Vec<paths::NoPath>,
    /// Dropped to stop the media patrol (at shutdown; at exit), and the
    /// thread, joined at exit so its cursor is saved.
    patrol_stop: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
    /// The status API (None: disabled or unavailable).
    api: Option<api::Api>,
    book: StatusBook,
    started_usec: u64,
    metrics: Option<Metrics>,
    hooks: Option<Hooks>,
}

/// The Prometheus textfile: rewritten (atomically) when something changed,
/// at most once per interval; removed at exit.
#[derive(Debug)]
struct Metrics {
    dir: StateDir,
    name: String,
    interval_ms: u64,
    written_at: Option<u64>,
    dirty: bool,
}

/// How the healer's work ended, when it ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The filesystem was unmounted (the monitor's end of file).
    Unmounted,
    /// SIGTERM or SIGINT: stopped in order; the caller dies by it.
    Signal(i32),
}

/// How long an orderly stop waits for a running repair ioctl and for a
/// signalled `xfs_scrub` child (systemd's stop timeout is 90 s).
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

pub fn run(healer: Healer, settings: &Settings, debug: bool) -> Result<Stopped, ()> {
    // Before any thread exists, so that all of them inherit the mask.
    let signals = StopSignals::block().map_err(|e| err(&format!("signal setup: {e}")))?;
    let monitor = Arc::new(
        healer
            .monitor
            .try_clone()
            .map_err(|e| err(&format!("monitor fd: {e}")))?,
    );
    let mnt = display(healer.mount_arg.as_bytes()).into_owned();
    let (wake_rx, wake_tx) =
        UnixStream::pair().map_err(|e| err(&format!("{mnt}: worker threadpool setup: {e}")))?;
    wake_rx.set_nonblocking(true).map_err(|_| ())?;
    let wake_tx = Arc::new(wake_tx);
    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<(Target, Option<Instant>)>(1);
    let (done_tx, done_rx) = mpsc::channel::<Done>();

    // The repair worker.
    let worker = {
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
                    let attempt =
                        repair::repair(&mount_path, monitor.as_fd(), root.as_ref(), &target);
                    if done_tx
                        .send(Done::Repair(target, attempt, read_at))
                        .is_err()
                    {
                        break;
                    }
                    let _ = (&*wake_tx).write_all(&[1]);
                }
            })
            .map_err(|e| err(&format!("{mnt}: worker threadpool setup: {e}")))?
    };

    let config = Config {
        repair: healer.mode == Mode::Repair,
        ..settings.policy.clone()
    };
    let key = healer.id.file_key();
    // Held for the whole run: whatever else races for this filesystem's
    // files (a healer started twice at once) is turned away here.
    let run_dir = StateDir::open(
        std::path::Path::new(pending::RUN_DIR),
        Some(pending::RUN_DIR_MODE),
    );
    let _lock = match run_dir.as_ref().map(|dir| dir.lock(&format!("{key}.lock"))) {
        Ok(Ok(Some(lock))) => Some(lock),
        Ok(Ok(None)) => {
            err(&format!(
                "{mnt}: XFS health monitoring already running (lock held)."
            ));
            return Err(());
        }
        Ok(Err(e)) => {
            err(&format!("{mnt}: {}/{key}.lock: {e}", pending::RUN_DIR));
            None
        }
        // Said with the pending marker's directory below.
        Err(_) => None,
    };
    let (pending, interrupted, refused) =
        PendingMarker::open(std::path::Path::new(pending::RUN_DIR), &key);
    if let Some(e) = refused {
        err(&format!("{mnt}: pending-work marker: {e}"));
    }
    // Refused once, here: a directory others can write is never written.
    let metrics =
        settings
            .metrics
            .textfile_dir
            .as_deref()
            .and_then(|dir| match StateDir::open(dir, None) {
                Ok(dir) => Some(Metrics {
                    dir,
                    name: format!("xfs_healer_{key}.prom"),
                    interval_ms: u64::try_from(settings.metrics.interval.as_millis())
                        .unwrap_or(u64::MAX),
                    written_at: None,
                    dirty: true,
                }),
                Err(e) => {
                    err(&format!("{mnt}: metrics: {e}"));
                    None
                }
            });
    let mut state = Loop {
        monitor,
        mnt,
        engine: Engine::new(config),
        limiter: LineLimiter::new(REPEAT_INTERVAL_MS, REPEAT_KEYS),
        unknown_seen: HashSet::new(),
        clock: Instant::now(),
        lost: status::LostEvents::default(),
        jobs: Some(jobs_tx),
        full_scan_timeout: settings.full_scan_timeout,
        worker_busy: false,
        done_tx,
        wake_tx,
        pending,
        read_at: None,
        latencies: debug.then(Vec::new),
        held: Vec::new(),
        held_actions: Vec::new(),
        said_no_path: Vec::new(),
        patrol_stop: None,
        full_scan_child: None,
        full_scan_reason: None,
        stopping: false,
        api: None,
        book: StatusBook::default(),
        started_usec: realtime_usec(),
        metrics,
        hooks: None,
        healer,
    };
    state.hooks = Hooks::start(&settings.hooks, &state.mnt);
    if settings.api.enabled {
        let gid = settings.api.group.as_deref().and_then(api::group_id);
        if settings.api.group.is_some() && gid.is_none() {
            err(&format!(
                "{}: status API group {:?} not found; root only",
                state.mnt,
                settings.api.group.as_deref().unwrap_or_default()
            ));
        }
        match api::start(&settings.api.dir, &key, gid, Arc::clone(&state.wake_tx)) {
            Ok(api) => state.api = Some(api),
            Err(e) => api::start_failed(
                &state.mnt,
                &settings.api.dir.join(api::socket_name(&key)),
                &e,
            ),
        }
    }
    if settings.patrol.enabled {
        state.patrol_stop = start_patrol(&state, settings);
    }
    if interrupted && state.healer.mode == Mode::Repair {
        out(&format!(
            "{}: The previous healer stopped with repairs pending.",
            state.mnt
        ));
        let actions = state.engine.handle(0, Input::PreviousRunInterrupted);
        state.run_actions(actions);
    }
    let result = state.event_loop(&wake_rx, &done_rx, &signals);
    state.flush_suppressed();
    if matches!(result, Ok(Stopped::Signal(_))) {
        state.stop_in_order(&done_rx, worker);
    }
    if let Some(metrics) = &state.metrics {
        let _ = metrics.dir.remove(&metrics.name);
    }
    if let Some(samples) = state.latencies.as_mut() {
        err(&format!(
            "{}: debug: {}",
            state.mnt,
            latency_summary(samples)
        ));
    }
    result
}

impl Loop {
    fn now(&self) -> u64 {
        u64::try_from(self.clock.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn event_loop(
        &mut self,
        wake_rx: &UnixStream,
        done_rx: &mpsc::Receiver<Done>,
        signals: &StopSignals,
    ) -> Result<Stopped, ()> {
        let flags = fcntl_getfl(&*self.monitor).map_err(|e| self.read_error(e))?;
        fcntl_setfl(&*self.monitor, flags | OFlags::NONBLOCK).map_err(|e| self.read_error(e))?;
        let mut assembler = RecordAssembler::default();
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let metrics_due = self
                .metrics
                .as_ref()
                .filter(|m| m.dirty)
                .map(|m| m.written_at.map_or(0, |t| t.saturating_add(m.interval_ms)));
            let now = self.now();
            let due = self
                .engine
                .next_deadline(now)
                .into_iter()
                .chain(metrics_due)
                .min();
            let timeout = due.map(|due| {
                let ms = due.saturating_sub(self.now());
                rustix::event::Timespec {
                    tv_sec: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
                    tv_nsec: i64::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
                }
            });
            let mut fds = [
                PollFd::new(&*self.monitor, PollFlags::IN),
                PollFd::new(wake_rx, PollFlags::IN),
                PollFd::new(signals, PollFlags::IN),
            ];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    self.read_error(e);
                    return Err(());
                }
            }
            if let Some(signo) = signals.take() {
                return Ok(Stopped::Signal(signo));
            }

            // Results first: they may change what new events mean.
            let mut drain = [0u8; 64];
            while matches!((&*wake_rx).read(&mut drain), Ok(n) if n > 0) {}
            let mut finished = false;
            while let Ok(done) = done_rx.try_recv() {
                self.on_done(done);
                finished = true;
            }
            self.answer_api();

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
            self.pending
                .set(self.worker_busy || self.engine.pending() > 0);
            self.write_metrics(got_events || finished);
            if eof {
                if assembler.pending() != 0 {
                    err(&format!(
                        "{}: truncated event record ({} bytes) at end of stream",
                        self.mnt,
                        assembler.pending()
                    ));
                }
                return Ok(Stopped::Unmounted);
            }
        }
    }

    /// After SIGTERM/SIGINT: no new work; the repair ioctl in flight ends
    /// (its outcome said) and the worker with it, a supervised `xfs_scrub`
    /// is stopped and reaped, the patrol saves its cursor, the API thread
    /// ends and its socket goes; each wait bounded by [`STOP_WAIT`].
    fn stop_in_order(
        &mut self,
        done_rx: &mpsc::Receiver<Done>,
        worker: std::thread::JoinHandle<()>,
    ) {
        self.jobs = None;
        self.stopping = true;
        let deadline = Instant::now() + STOP_WAIT;
        while self.worker_busy || self.engine.full_scan_running() {
            // A scan that has just started reports its process first.
            if let Some(child) = self.full_scan_child.take() {
                let _ = rustix::process::pidfd_send_signal(&child, rustix::process::Signal::TERM);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match done_rx.recv_timeout(left) {
                Ok(done) => self.on_done(done),
                Err(_) => break,
            }
        }
        if !self.worker_busy {
            let _ = worker.join();
        }
        if let Some((stop, patrol)) = self.patrol_stop.take() {
            drop(stop);
            let _ = patrol.join();
        }
        // Its drop ends the thread and removes the socket.
        self.api = None;
        self.hooks = None;
    }

    fn read_error(&self, e: Errno) {
        err(&format!(
            "{}: error reading event file: {}",
            self.mnt,
            xfs_abi::strerror(e)
        ));
    }

    /// Hands the next ready target to the worker when it is idle.
    fn dispatch(&mut self) {
        if self.worker_busy {
            return;
        }
        let now = self.now();
        // Only a dispatch right after a read measures read-to-ioctl time.
        let read_at = self.read_at.take();
        let Some(jobs) = &self.jobs else { return };
        if let Some(target) = self.engine.next_repair(now)
            && jobs.send((target, read_at)).is_ok()
        {
            self.worker_busy = true;
        }
    }

    fn on_done(&mut self, done: Done) {
        let now = self.now();
        let actions = match done {
            Done::Repair(target, attempt, read_at) => {
                self.worker_busy = false;
                if let (Some(samples), Some(read), Some(issued)) =
                    (self.latencies.as_mut(), read_at, attempt.issued)
                    && samples.len() < LATENCY_SAMPLES
                {
                    samples.push(
                        u32::try_from(issued.saturating_duration_since(read).as_micros())
                            .unwrap_or(u32::MAX),
                    );
                }
                self.print_repair(&target, &attempt);
                let retried = self.engine.will_retry(&target, attempt.outcome);
                let tally = status::RepairTally::of(attempt.outcome, retried);
                self.book.on_repair(target.object, target.bit, tally);
                self.engine.handle(
                    now,
                    Input::RepairDone {
                        target,
                        outcome: attempt.outcome,
                    },
                )
            }
            Done::ScanStarted(started) => self.on_scan_started(started),
            Done::FullScan => {
                self.full_scan_child = None;
                self.engine.handle(now, Input::FullScanDone)
            }
        };
        self.run_actions(actions);
    }

    fn run_actions(&mut self, actions: Vec<Action>) {
        if self.stopping {
            return;
        }
        for Action::StartFullScan(reason) in actions {
            self.start_full_scan(reason);
        }
    }

    /// Starts a full scan on its own thread, which reports back twice:
    /// whether it started ([`Done::ScanStarted`]), then when it ended
    /// ([`Done::FullScan`]). Nothing here waits on `systemctl`.
    fn start_full_scan(&mut self, reason: FullScanReason) {
        self.book.on_full_scan(reason);
        self.full_scan_reason = Some(reason);
        let mount_path = self.healer.mount_path.clone();
        let mnt = self.mnt.clone();
        let limit = self.full_scan_timeout;
        let done_tx = self.done_tx.clone();
        let wake_tx = Arc::clone(&self.wake_tx);
        let send = move |done: Done| {
            let _ = done_tx.send(done);
            let _ = (&*wake_tx).write_all(&[1]);
        };
        let spawned = std::thread::Builder::new()
            .name("full-scan".into())
            .stack_size(64 * 1024)
            .spawn(move || run_full_scan(&mount_path, &mnt, limit, send));
        if let Err(e) = spawned {
            err(&format!("{}: Could not start xfs_scrub: {e}", self.mnt));
            let now = self.now();
            let actions = self.engine.handle(now, Input::FullScanDone);
            self.held_actions.extend(actions);
        }
    }

    /// The scan thread's first word: say it started, or why not.
    fn on_scan_started(&mut self, started: Result<Option<OwnedFd>, String>) -> Vec<Action> {
        match started {
            Ok(follower) => {
                self.full_scan_child = follower;
                let line = format!("{}: Full repairs in progress.", self.mnt);
                let detail = Detail {
                    reason: self.full_scan_reason.map(FullScanReason::name),
                    ..Detail::default()
                };
                self.emit("full_scan", &line, detail);
                Vec::new()
            }
            Err(why) => {
                err(&format!("{}: {why}", self.mnt));
                let now = self.now();
                self.engine.handle(now, Input::FullScanDone)
            }
        }
    }

    fn on_record(&mut self, record: &Record) {
        let now = self.now();
        let event = &record.event;
        self.book.on_event(event, realtime_usec());
        let input = match *event {
            Event::Lost { count } => {
                // fdinfo may have told of these already: say only the rest.
                let new = self.lost.record(count);
                if new > 0 {
                    self.book.on_lost(new);
                    self.hold(Held::Lost(new));
                }
                (new > 0).then_some(Input::Lost { count: new })
            }
            Event::Shutdown { .. } => {
                // Nothing can be read from a shut-down filesystem.
                self.patrol_stop = None;
                Some(Input::Shutdown)
            }
            Event::Media {
                device,
                daddr,
                bbcount,
            } => {
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
        if let Event::Health {
            verdict: Verdict::Healthy,
            ..
        } = event
        {
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
        let owners = media::owners(
            &self.healer.mount_path,
            self.monitor.as_fd(),
            self.healer.root_handle.as_ref(),
            &self.healer.layout,
            range,
        );
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
        match owners {
            Ok(owners) => {
                for line in xfs_report::media_lines(
                    self.healer.mount_arg.as_bytes(),
                    range,
                    &owners.damages,
                    owners.more,
                ) {
                    out(&line);
                }
            }
            Err(e) => {
                let (device, daddr, bbcount) = range;
                out(&format!(
                    "{} {} daddr {daddr:#x} bbcount {bbcount:#x}: owners not looked up: {}",
                    self.mnt,
                    device.word(),
                    xfs_abi::strerror(e)
                ));
            }
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
        let actionable = !matches!(
            event,
            Event::Running | Event::Lost { .. } | Event::Unmount | Event::Shutdown { .. }
        );
        // --quiet silences the lines, not the other sinks (hooks, API,
        // status): they still get the event.
        let quiet = actionable && self.healer.quiet;
        if let Event::Unknown { domain, kind } = *event
            && (self.unknown_seen.len() >= UNKNOWN_KINDS
                || !self.unknown_seen.insert((domain, kind)))
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
        let paths = self.paths_of(event);
        let (first, others) = match &paths {
            Some(Ok(paths)) => (
                paths.first().map(Vec::as_slice),
                paths.get(1..).unwrap_or_default(),
            ),
            _ => (None, &[][..]),
        };
        if let Some(line) =
            xfs_report::event_line(self.healer.mount_arg.as_bytes(), event, first, strerror_u32)
        {
            if suppressed > 0 && !quiet {
                out(&format!(
                    "{}: {suppressed} more reports like \"{line}\" were suppressed",
                    self.mnt
                ));
            }
            self.emit_event(event, &line, first, quiet);
            if let Some(first) = first.filter(|_| !quiet) {
                for other in others {
                    out(&format!(
                        "{}: also linked as {}",
                        display(first),
                        display(other)
                    ));
                }
            }
        }
        if let Some(Err(why)) = paths
            && !quiet
        {
            self.say_why_no_path(why);
        }
    }

    /// The paths of the inode an event is about (None: not about one).
    fn paths_of(&self, event: &Event) -> Option<Result<Vec<Vec<u8>>, paths::NoPath>> {
        let (ino, generation) = match *event {
            Event::Health {
                object:
                    HealthObject::Inode {
                        ino, generation, ..
                    },
                ..
            } => (ino, generation),
            Event::FileIo {
                ino, generation, ..
            } => (ino, generation),
            _ => return None,
        };
        Some(self.lookup(ino, generation, paths::MAX_LINKS))
    }

    fn lookup(
        &self,
        ino: u64,
        generation: u32,
        max_links: usize,
    ) -> Result<Vec<Vec<u8>>, paths::NoPath> {
        match self.healer.root_handle.as_ref() {
            Some(root) if self.healer.has_parent_pointers => paths::lookup(
                &self.healer.mount_path,
                self.monitor.as_fd(),
                root,
                self.healer.mount_arg.as_bytes(),
                ino,
                generation,
                max_links,
            ),
            _ => Err(paths::NoPath::NoParentPointers),
        }
    }

    /// The first time an inode has no path for a reason, says why.
    fn say_why_no_path(&mut self, why: paths::NoPath) {
        if self.said_no_path.contains(&why) || self.said_no_path.len() >= SAID_NO_PATH {
            return;
        }
        self.said_no_path.push(why);
        out(&format!(
            "{}: inodes are named by number when they have no path: {} (said once).",
            self.mnt,
            why.why()
        ));
    }

    fn print_repair(&mut self, target: &Target, attempt: &Attempt) {
        if let RepairText::Filesystem(text) = &attempt.text {
            let line = format!("{}: {text}", self.mnt);
            return self.emit("repair", &line, Detail::default());
        }
        let path = match target.object {
            Object::Inode { ino, generation } => self
                .lookup(ino, generation, 1)
                .ok()
                .and_then(|paths| paths.into_iter().next()),
            _ => None,
        };
        let object = report_object(target);
        let text = match &attempt.text {
            RepairText::Reference(words) => words.message().to_string(),
            RepairText::Other(text) => text.clone(),
            RepairText::Filesystem(_) => return, // printed above
        };
        let line = xfs_report::repair_line(
            self.healer.mount_arg.as_bytes(),
            &object,
            target.bit,
            path.as_deref(),
            &text,
        );
        let names = match target.object {
            Object::Fs => xfs_events::FS_NAMES,
            Object::Ag(_) => xfs_events::AG_NAMES,
            Object::RtGroup(_) => xfs_events::RTGROUP_NAMES,
            Object::Inode { .. } => xfs_events::INODE_NAMES,
        };
        self.emit(
            "repair",
            &line,
            Detail {
                target: Some(target.object),
                scrub_type: Some(target.scrub.0),
                structures: Some(status::structure_names(target.bit, names)),
                path: path.as_deref().map(|p| display(p).into_owned()),
                outcome: Some(text),
                ..Detail::default()
            },
        );
    }

    /// The kernel reports lost events only when a later event fits in its
    /// queue; its fdinfo counter shows them at once.
    fn check_fdinfo_lost(&mut self) {
        let Ok(info) = xfs_abi::healthmon::read_monitor_fdinfo(self.monitor.as_fd()) else {
            return;
        };
        let new = self.lost.fdinfo(info.lost);
        if new > 0 {
            self.book.on_lost(new);
            self.hold(Held::Lost(new));
            let now = self.now();
            let actions = self.engine.handle(now, Input::Lost { count: new });
            self.held_actions.extend(actions);
        }
    }

    /// The reference's LOST line, for losses not reported before.
    fn print_lost(&mut self, count: u64) {
        let lost = Event::Lost { count };
        if let Some(line) =
            xfs_report::event_line(self.healer.mount_arg.as_bytes(), &lost, None, strerror_u32)
        {
            self.emit("lost", &line, Detail::default());
        }
    }

    /// Writes a report or outcome (text, JSON or journal record), keeps it
    /// for the status API and streams it to its clients.
    fn emit(&mut self, kind: &str, line: &str, detail: Detail) {
        let event = xfs_varlink::Event {
            time_usec: realtime_usec(),
            kind: kind.to_string(),
            message: line.to_string(),
            object: detail.target.map(status::object_text),
            structures: detail.structures,
            path: detail.path,
            outcome: detail.outcome,
            reason: detail.reason.map(String::from),
        };
        let mut fields: Vec<(&str, String)> = Vec::new();
        match detail.target {
            Some(Object::Fs) => fields.push(("XFS_DOMAIN", "fs".into())),
            Some(Object::Ag(agno)) => {
                fields.extend([("XFS_DOMAIN", "ag".into()), ("XFS_AGNO", agno.to_string())])
            }
            Some(Object::RtGroup(rgno)) => fields.extend([
                ("XFS_DOMAIN", "rtgroup".into()),
                ("XFS_RGNO", rgno.to_string()),
            ]),
            Some(Object::Inode { ino, generation }) => {
                fields.extend([
                    ("XFS_DOMAIN", "inode".into()),
                    ("XFS_INO", ino.to_string()),
                    ("XFS_GEN", generation.to_string()),
                ]);
            }
            None => {}
        }
        fields.extend(detail.scrub_type.map(|t| ("XFS_SCRUB_TYPE", t.to_string())));
        fields.extend(detail.reason.map(|r| ("XFS_REASON", r.to_string())));
        if !detail.quiet {
            output::event(&self.mnt, &event, &fields);
        }
        let now = self.now();
        if let Some(hooks) = self.hooks.as_mut() {
            hooks.on_event(&event, now);
        }
        if let Some(api) = self.api.as_ref().filter(|api| api.streaming()) {
            api.publish(event.clone());
        }
        self.book.record(event);
    }

    /// [`emit`] for a kernel report.
    fn emit_event(&mut self, event: &Event, line: &str, path: Option<&[u8]>, quiet: bool) {
        let path = path.map(|p| display(p).into_owned());
        let (kind, detail) = match *event {
            Event::Health { verdict, object } => {
                let names = object.names();
                let (object, mask) = status::health_object(object);
                let detail = Detail {
                    target: Some(object),
                    structures: Some(status::structure_names(mask, names)),
                    path,
                    ..Detail::default()
                };
                (verdict.word(), detail)
            }
            Event::FileIo {
                ino, generation, ..
            } => (
                "file_io",
                Detail {
                    target: Some(Object::Inode { ino, generation }),
                    path,
                    ..Detail::default()
                },
            ),
            Event::Media { .. } => ("media_error", Detail::default()),
            Event::Running => ("running", Detail::default()),
            Event::Lost { .. } => ("lost", Detail::default()),
            Event::Shutdown { .. } => ("shutdown", Detail::default()),
            Event::Unmount => ("unmount", Detail::default()),
            Event::Unknown { .. } => ("unknown", Detail::default()),
        };
        self.emit(kind, line, Detail { quiet, ..detail });
    }

    /// Rewrites the metrics file if something changed and the interval
    /// has passed (else the loop's poll timeout brings us back).
    fn write_metrics(&mut self, changed: bool) {
        let now = self.now();
        let gauges = status::Gauges {
            repairs_pending: self.engine.pending(),
            repairs_running: usize::from(self.worker_busy),
            shut_down: self.engine.is_shut_down(),
            full_scan_running: self.engine.full_scan_running(),
        };
        let Some(metrics) = self.metrics.as_mut() else {
            return;
        };
        metrics.dirty |= changed;
        if !metrics.dirty
            || metrics
                .written_at
                .is_some_and(|t| now < t.saturating_add(metrics.interval_ms))
        {
            return;
        }
        let text = self
            .book
            .prometheus(&self.mnt, &uuid_text(&self.healer.id.uuid), gauges);
        // Readable by the node exporter, which runs as its own user.
        if let Err(e) = metrics.dir.replace(&metrics.name, text.as_bytes(), 0o644) {
            err(&format!(
                "{}: metrics: {}: {e}",
                self.mnt,
                metrics.dir.path().join(&metrics.name).display()
            ));
            // Said once: no more attempts.
            self.metrics = None;
            return;
        }
        metrics.written_at = Some(now);
        metrics.dirty = false;
    }

    /// Answers the status API's waiting calls.
    fn answer_api(&mut self) {
        let Some(api) = self.api.as_ref() else { return };
        let calls: Vec<api::LoopCall> = api.calls.try_iter().collect();
        for call in calls {
            match call {
                api::LoopCall::Status(reply) => {
                    reply.send(self.status());
                }
                api::LoopCall::FullScan(reply) => {
                    let answer = if self.healer.mode != Mode::Repair {
                        Err("the healer only reports (log-only mode)".to_string())
                    } else if self.engine.is_shut_down() {
                        Err("the filesystem has shut down".to_string())
                    } else {
                        let now = self.now();
                        let actions = self.engine.handle(now, Input::FullScanRequested);
                        let started = !actions.is_empty();
                        self.run_actions(actions);
                        Ok((started, self.engine.full_scan_deferred()))
                    };
                    reply.send(answer);
                }
            }
        }
    }

    fn status(&self) -> xfs_varlink::Status {
        let (sick, sick_truncated) = self.book.sick_objects();
        let (last_events, last_events_shortened) = self.book.last_events();
        xfs_varlink::Status {
            mountpoint: self.mnt.clone(),
            uuid: uuid_text(&self.healer.id.uuid),
            mode: if self.healer.mode == Mode::Repair {
                "repair"
            } else {
                "log-only"
            }
            .into(),
            monitoring_since_usec: self.started_usec,
            shut_down: self.engine.is_shut_down(),
            repairs_pending: self.engine.pending() as u64,
            repairs_running: u64::from(self.worker_busy),
            full_scan_running: self.engine.full_scan_running(),
            sick,
            sick_truncated,
            last_events,
            last_events_shortened,
            counters: self.book.counters.clone(),
        }
    }

    /// Says what was held back, naming the report (without resolving its
    /// path again: that would make the kernel re-read the object).
    fn print_suppressed(&self, counts: Vec<([u8; RECORD_LEN], u64)>) {
        for (key, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
            let record = xfs_events::decode(&key);
            if let Some(line) = xfs_report::event_line(
                self.healer.mount_arg.as_bytes(),
                &record.event,
                None,
                strerror_u32,
            ) {
                out(&format!(
                    "{}: {n} more reports like \"{line}\" were suppressed",
                    self.mnt
                ));
            }
        }
    }

    fn flush_suppressed(&mut self) {
        let counts = self.limiter.take_suppressed();
        self.print_suppressed(counts);
    }
}

/// The parts of an emitted event beyond its kind and line.
#[derive(Debug, Default)]
struct Detail {
    target: Option<Object>,
    /// The scrub type a repair ran.
    scrub_type: Option<u32>,
    structures: Option<Vec<String>>,
    path: Option<String>,
    outcome: Option<String>,
    /// For full scans: why.
    reason: Option<&'static str>,
    /// Not printed (`--quiet`); every other sink still gets it.
    quiet: bool,
}

fn realtime_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The canonical 8-4-4-4-12 form.
fn uuid_text(u: &[u8; 16]) -> String {
    let hex: Vec<String> = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        hex[..4].concat(),
        hex[4..6].concat(),
        hex[6..8].concat(),
        hex[8..10].concat(),
        hex[10..].concat()
    )
}

/// Starts the media patrol thread; its stop handle, or None if it could
/// not start (said).
fn start_patrol(
    state: &Loop,
    settings: &Settings,
) -> Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)> {
    let (stop_tx, stop_rx) = mpsc::channel();
    let target = crate::patrol::Target {
        mnt: state.mnt.clone(),
        mount_path: state.healer.mount_path.clone(),
        monitor: Arc::clone(&state.monitor),
        root: state.healer.root_handle,
        file_key: state.healer.id.file_key(),
        data_sectors: state.healer.data_sectors,
        block_sectors: u64::from(state.healer.layout.blocksize / 512),
    };
    let patrol = settings.patrol.clone();
    let spawned = std::thread::Builder::new()
        .name("patrol".into())
        .stack_size(256 * 1024)
        .spawn(move || crate::patrol::run(&target, &patrol, &stop_rx));
    match spawned {
        Ok(thread) => Some((stop_tx, thread)),
        Err(e) => {
            err(&format!("{}: media patrol not started: {e}", state.mnt));
            None
        }
    }
}

/// The full scan's thread: starts it as the reference does, says so, and
/// follows it to its end. Without systemd `xfs_scrub` is our child; under
/// systemd the `xfs_scrub@` unit (a oneshot) runs it, and a second,
/// blocking `systemctl start` of it returns when the running job ends, so
/// "while a scan runs, reports queue nothing" holds there too.
fn run_full_scan(
    mount_path: &std::path::Path,
    mnt: &str,
    limit: std::time::Duration,
    send: impl Fn(Done),
) {
    use xfs_abi::process::{ChildEnd, wait_with_timeout};
    let (child, under_systemd) = match repair::start_full_scan(mount_path) {
        FullScan::UnitStarted(unit) => match repair::follow_unit(&unit) {
            Ok(follower) => (follower, true),
            // Started, but cannot be followed: as the reference, done.
            Err(_) => {
                send(Done::ScanStarted(Ok(None)));
                return send(Done::FullScan);
            }
        },
        FullScan::Child(child) => (child, false),
        FullScan::NoUnitName => {
            return send(Done::ScanStarted(Err(
                "Could not determine xfs_scrub unit name.".into(),
            )));
        }
        FullScan::UnitFailed(unit) => {
            return send(Done::ScanStarted(Err(format!(
                "Could not start xfs_scrub service unit: {unit}"
            ))));
        }
        FullScan::SpawnFailed(why) => {
            return send(Done::ScanStarted(Err(format!(
                "Could not start xfs_scrub: {why}"
            ))));
        }
    };
    send(Done::ScanStarted(Ok(xfs_abi::process::pidfd(&child))));
    let end = wait_with_timeout(child, limit);
    // Under systemd the unit reports for itself (as with the reference).
    if !under_systemd {
        match end {
            // 4 = "errors were fixed" (xfs_scrub(8) exit status bits).
            ChildEnd::Exited(Some(0 | 4)) => out(&format!("{mnt}: Full repairs complete.")),
            ChildEnd::Exited(Some(code)) => {
                err(&format!("{mnt}: xfs_scrub exited with status {code}."))
            }
            ChildEnd::Exited(None) => err(&format!("{mnt}: xfs_scrub was killed by a signal.")),
            ChildEnd::TimedOut => err(&format!(
                "{mnt}: xfs_scrub still running after {} hours; stopped.",
                limit.as_secs() / 3600
            )),
        }
    }
    send(Done::FullScan);
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
    xfs_abi::strerror(Errno::from_raw_os_error(
        i32::try_from(errno).unwrap_or(i32::MAX),
    ))
}

fn policy_object(object: HealthObject) -> (Object, u32) {
    match object {
        HealthObject::Fs { mask } => (Object::Fs, mask.0),
        HealthObject::Ag { agno, mask } => (Object::Ag(agno), mask.0),
        HealthObject::RtGroup { rgno, mask } => (Object::RtGroup(rgno), mask.0),
        HealthObject::Inode {
            ino,
            generation,
            mask,
        } => (Object::Inode { ino, generation }, mask.0),
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
        assert_eq!(
            latency_summary(&mut []),
            "no repair was timed from its event read"
        );
        assert!(latency_summary(&mut [7]).contains("p50 7 us, p99 7 us, max 7 us"));
    }
}
