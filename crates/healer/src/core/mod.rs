//! The healer's decisions, with no I/O: [`Core::step`] takes what happened
//! (records read, a worker's answer, an API call, a signal, the clock) and
//! returns what to do ([`Effect`]s), which the reactor carries out. The
//! core owns the repair engine, the status book, the line limiter, the
//! lost-event accounting, the hook rate limit and the order of the lines:
//! everything that decides. Time is an argument.
//!
//! Lines keep the order of what they tell even though some wait for a
//! worker (an inode's path, a media range's owners): each waits in a slot
//! of an ordered queue, and the queue is flushed from its head up to the
//! first slot still waiting. Repairs never wait for lines.

mod answers;
mod recent_paths;
mod report;
#[cfg(test)]
mod tests;

pub use answers::{MAX_LINKS, NoPath, Owners, RepairText};
pub use report::{Identity, JSON_SCHEMA, Report, Structures, json_line, variables};

use crate::kinds::{HookClass, Kind};
use crate::status::{self, Gauges, LostEvents, RepairTally, StatusBook};
use recent_paths::RecentPaths;
use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use xfs_abi::Errno;
use xfs_events::{Device, Event, HealthObject, RECORD_LEN, Record, Verdict};
use xfs_policy::media::MediaRepair;
use xfs_policy::{Action, Admit, Engine, FullScanReason, LineLimiter, Object, Outcome, Target};

/// Bytes per read of the monitor: whole records only, two pages as the
/// reference's stdio buffer. The loop reads until the kernel has no more,
/// so this sets the number of calls (five for the kernel's whole queue of
/// 585 records), not the batch; a larger buffer is resident memory once a
/// storm fills it.
pub const READ_BUF: usize = 128 * RECORD_LEN;

/// Identical event lines within this many ms are counted, not printed.
const REPEAT_INTERVAL_MS: u64 = 10_000;
/// Distinct event lines remembered for that.
const REPEAT_KEYS: usize = 4096;
/// Unknown event kinds remembered (each is printed once).
const UNKNOWN_KINDS: usize = 64;
/// Reasons for missing paths remembered (each is said once).
const SAID_NO_PATH: usize = 16;
/// Lookups handed out and not answered yet; beyond this, paths are not
/// looked up and unlooked media ranges ask for a full scan.
pub const MAX_LOOKUPS: usize = 256;
/// Lines queued; beyond this the oldest waiting one goes without its
/// answer (which is ignored when it comes).
const MAX_QUEUED: usize = 4096;
/// (class, object) pairs remembered for the hook rate limit.
const HOOK_KEYS: usize = 4096;
/// How long an orderly stop waits for a running repair, a signalled full
/// scan and outstanding lookups (systemd's stop timeout is 90 s).
pub const STOP_WAIT_MS: u64 = 20_000;
/// How long the end of the event stream waits for outstanding lookups.
const UNMOUNT_WAIT_MS: u64 = 5_000;

/// The two clocks: monotonic ms for decisions, realtime µs for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub ms: u64,
    pub usec: u64,
}

/// What the core is told.
#[derive(Debug)]
pub enum Input {
    /// The healer starts; whether its predecessor left repairs pending.
    Start {
        interrupted: bool,
    },
    /// Records of one read.
    Records(Vec<Record>),
    /// The kernel has nothing more for now; fdinfo's lost-event total.
    BatchEnd {
        fdinfo_lost: Option<u64>,
    },
    RepairDone {
        target: Target,
        outcome: Outcome,
        text: RepairText,
    },
    Paths {
        token: u64,
        paths: Result<Vec<Vec<u8>>, NoPath>,
    },
    Owners {
        token: u64,
        owners: Result<Owners, Errno>,
    },
    /// The full scan started, or why it could not.
    ScanStarted(Result<(), String>),
    ScanEnded(ScanEnd),
    /// An operator asked for a full scan; answered with
    /// [`Effect::FullScanAnswer`].
    FullScanRequested,
    /// An operator asked for a test event of this class; answered with
    /// [`Effect::TestEventAnswer`] after its [`Effect::Emit`].
    TestEvent {
        class: HookClass,
    },
    MetricsWritten(Result<(), String>),
    /// The settings were read again (SIGHUP): what of them the core uses.
    Reload(Box<Reload>),
    /// SIGTERM or SIGINT.
    Signal(i32),
    /// The monitor's end of file; bytes of a record cut short before it.
    Eof {
        truncated: usize,
    },
    /// The next deadline came.
    Tick,
}

/// How a full scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEnd {
    /// Under systemd the `xfs_scrub@` unit reports for itself.
    UnitEnded,
    /// Our `xfs_scrub` child exited (None: killed by a signal).
    Exited(Option<i32>),
    /// Our child ran past the limit and was stopped.
    TimedOut { hours: u64 },
}

/// What the core asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Repair(Target),
    /// A repair waits for its inode's path walk: the worker that will
    /// run it can get ready meanwhile (said once per held repair).
    RepairAhead,
    LookupPaths {
        token: u64,
        ino: u64,
        generation: u32,
        max_links: usize,
    },
    LookupOwners {
        token: u64,
        range: (Device, u64, u64),
    },
    StartFullScan(FullScanReason),
    /// Stop the running full scan (an orderly stop).
    StopFullScan,
    /// Nothing can be read any more: the media patrol ends.
    StopPatrol,
    /// A report for every sink: the line only if `log`, hooks only if
    /// `hook` (their rate limit's suppressed count).
    Emit {
        report: Report,
        log: bool,
        hook: Option<u64>,
    },
    /// An informational line (stdout).
    Say(String),
    /// An error line (stderr).
    Warn(String),
    /// Whether repairs are queued or running (the pending-work marker).
    SetPending(bool),
    WriteMetrics(String),
    FullScanAnswer(Result<FullScanStarted, String>),
    TestEventAnswer(TestEventSent),
    /// Work is over; the reactor joins its threads and exits.
    Exit(Stopped),
}

/// A full-scan request's answer: started now, and whether one is due
/// after the running one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullScanStarted {
    pub started: bool,
    pub deferred: bool,
}

/// A test event's answer: the line it printed, and whether it went to
/// the hooks (its class is one they run on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEventSent {
    pub message: String,
    pub hooks: bool,
}

/// How the healer's work ended, when it ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The filesystem was unmounted (the monitor's end of file).
    Unmounted,
    /// SIGTERM or SIGINT: stopped in order; the caller dies by it.
    Signal(i32),
}

/// How long an inode's repair waits for the path lookup of the report
/// that asked for it. The walk reads the inode's parent pointers under
/// its lock, which the repair holds for its whole run: started together,
/// the report's line would wait for the repair. A lookup that takes
/// longer than this (a slow disk) no longer holds the repair back.
pub const PATH_FIRST_MS: u64 = 100;

/// The settings a reload may change while counters, the sick set, the
/// repair queue and the rate limits' history stay as they are.
#[derive(Debug, Clone)]
pub struct Reload {
    /// Thresholds; whether to repair at all is not a setting (the mode
    /// stays).
    pub policy: xfs_policy::Config,
    pub hook_classes: Vec<HookClass>,
    pub hook_interval_ms: u64,
    /// Only the interval: whether there is a metrics file is fixed.
    pub metrics_interval_ms: u64,
}

/// What the core needs to know of the healer, fixed at start (but for
/// what a [`Reload`] changes).
#[derive(Debug, Clone)]
pub struct Setup {
    /// The mount point as given (lines start with it, escaped).
    pub mount_arg: Vec<u8>,
    pub uuid: String,
    /// The data device as /dev names it, or `major:minor`.
    pub device: String,
    pub repair: bool,
    /// `--quiet`: no lines for actionable reports.
    pub quiet: bool,
    /// Paths can be looked up (parent pointers and a root handle).
    pub paths: bool,
    pub policy: xfs_policy::Config,
    /// Hook classes on (empty: hooks off), and their rate-limit interval.
    pub hook_classes: Vec<HookClass>,
    pub hook_interval_ms: u64,
    /// Metrics rewrite interval (None: no metrics file).
    pub metrics_interval_ms: Option<u64>,
    pub started_usec: u64,
}

/// A line of the ordered queue.
#[derive(Debug)]
enum Slot {
    Ready(Effect),
    /// A report waiting for its object's paths.
    Event {
        token: u64,
        record: Record,
        suppressed: u64,
        log: bool,
        time_usec: u64,
        /// Until when the repair of the report's inode waits for this
        /// lookup ([`PATH_FIRST_MS`]).
        repair_waits_until_ms: u64,
    },
    /// A repair's outcome waiting for its inode's path.
    Repair {
        token: u64,
        target: Target,
        text: Cow<'static, str>,
        succeeded: bool,
        time_usec: u64,
    },
    /// A media error's owner lines, waiting for the lookup.
    Owners {
        token: u64,
        range: (Device, u64, u64),
    },
}

impl Slot {
    /// The inode whose repair this slot holds back, and until when.
    fn repair_wait(&self) -> Option<((u64, u32), u64)> {
        match self {
            Slot::Event {
                record,
                repair_waits_until_ms,
                ..
            } => inode_of(&record.event).map(|inode| (inode, *repair_waits_until_ms)),
            _ => None,
        }
    }

    fn token(&self) -> Option<u64> {
        match *self {
            Slot::Ready(_) => None,
            Slot::Event { token, .. } | Slot::Repair { token, .. } | Slot::Owners { token, .. } => {
                Some(token)
            }
        }
    }
}

#[derive(Debug)]
struct MetricsClock {
    interval_ms: u64,
    written_at: Option<u64>,
    dirty: bool,
    /// A failed write was said (said again only after one succeeded).
    failing: bool,
}

/// The metrics file is rewritten at least this often, changed or not, so
/// that its timestamp shows a healer that stopped working.
pub const METRICS_REFRESH_MS: u64 = 60_000;

impl MetricsClock {
    /// When the file is next due (None: now, it was never written).
    fn due(&self) -> Option<u64> {
        let written = self.written_at?;
        let wait = if self.dirty {
            self.interval_ms
        } else {
            self.interval_ms.max(METRICS_REFRESH_MS)
        };
        Some(written.saturating_add(wait))
    }
}

#[derive(Debug)]
pub struct Core {
    setup: Setup,
    /// The `<mnt>` message prefix.
    mnt: String,
    /// The filesystem, as every report names it.
    fs: Identity,
    /// The last report's `seq`.
    seq: u64,
    engine: Engine,
    book: StatusBook,
    lost: LostEvents,
    limiter: LineLimiter<[u8; RECORD_LEN]>,
    hook_limiter: LineLimiter<(HookClass, Option<Object>)>,
    unknown_seen: HashSet<(u32, u32)>,
    said_no_path: Vec<NoPath>,
    /// What the latest inode reports were printed with, for their repairs'
    /// outcome lines.
    recent_paths: RecentPaths,
    queue: VecDeque<Slot>,
    next_token: u64,
    /// Lookups handed out and not answered.
    lookups: usize,
    /// Engine actions of the batch being read, run once it is read.
    held_actions: Vec<Action>,
    /// [`Effect::RepairAhead`] was given for the repair held back now.
    repair_ahead_said: bool,
    scan_reason: Option<FullScanReason>,
    /// After a signal or the end of the stream: how it ends, and by when.
    ending: Option<(Stopped, u64)>,
    /// [`Effect::Exit`] was given.
    exited: bool,
    /// The current step's monotonic time.
    now_ms: u64,
    pending_said: Option<bool>,
    metrics: Option<MetricsClock>,
    effects: Vec<Effect>,
}

impl Core {
    pub fn new(setup: Setup) -> Core {
        let mnt = xfs_report::escape_name(&setup.mount_arg).into_owned();
        Core {
            fs: Identity {
                mountpoint: mnt.as_str().into(),
                uuid: setup.uuid.as_str().into(),
                device: setup.device.as_str().into(),
            },
            seq: 0,
            mnt,
            engine: Engine::new(xfs_policy::Config {
                repair: setup.repair,
                ..setup.policy.clone()
            }),
            book: StatusBook::default(),
            lost: LostEvents::default(),
            limiter: LineLimiter::new(REPEAT_INTERVAL_MS, REPEAT_KEYS),
            hook_limiter: LineLimiter::new(setup.hook_interval_ms, HOOK_KEYS),
            unknown_seen: HashSet::new(),
            said_no_path: Vec::new(),
            recent_paths: RecentPaths::default(),
            queue: VecDeque::new(),
            next_token: 0,
            lookups: 0,
            held_actions: Vec::new(),
            repair_ahead_said: false,
            scan_reason: None,
            ending: None,
            exited: false,
            now_ms: 0,
            pending_said: None,
            metrics: setup.metrics_interval_ms.map(|interval_ms| MetricsClock {
                interval_ms,
                written_at: None,
                dirty: true,
                failing: false,
            }),
            effects: Vec::new(),
            setup,
        }
    }

    /// Takes one input; returns what to do, in order.
    pub fn step(&mut self, now: Now, input: Input) -> Vec<Effect> {
        if self.exited {
            return Vec::new();
        }
        self.now_ms = now.ms;
        let reading = matches!(input, Input::Records(_));
        let changes = !matches!(
            input,
            Input::Tick | Input::Paths { .. } | Input::MetricsWritten(_)
        );
        match input {
            Input::Start { interrupted } => self.on_start(now, interrupted),
            Input::Records(records) => {
                for record in &records {
                    self.on_record(now, record);
                }
            }
            Input::BatchEnd { fdinfo_lost } => self.on_batch_end(now, fdinfo_lost),
            Input::RepairDone {
                target,
                outcome,
                text,
            } => self.on_repair_done(now, target, outcome, text),
            Input::Paths { token, paths } => self.on_paths(now, token, paths),
            Input::Owners { token, owners } => self.on_owners(now, token, owners),
            Input::ScanStarted(started) => self.on_scan_started(now, started),
            Input::ScanEnded(end) => self.on_scan_ended(now, end),
            Input::FullScanRequested => {
                let answer = self.on_full_scan_requested(now);
                self.effects.push(Effect::FullScanAnswer(answer));
            }
            Input::TestEvent { class } => {
                let sent = self.on_test_event(now, class);
                self.effects.push(Effect::TestEventAnswer(sent));
            }
            Input::MetricsWritten(result) => self.on_metrics_written(result),
            Input::Reload(reload) => self.on_reload(*reload),
            Input::Signal(signo) => self.on_stop(now, Stopped::Signal(signo), STOP_WAIT_MS),
            Input::Eof { truncated } => {
                if truncated != 0 {
                    self.warn(format!(
                        "truncated event record ({truncated} bytes) at end of stream"
                    ));
                }
                self.on_stop(now, Stopped::Unmounted, UNMOUNT_WAIT_MS);
            }
            Input::Tick => self.on_tick(now),
        }
        // While a batch is read nothing is handed out: a shutdown or
        // HEALTHY later in it cancels work first.
        if !reading {
            self.dispatch(now);
            self.flush_queue();
            let actions = std::mem::take(&mut self.held_actions);
            self.run_actions(now, actions);
            self.set_pending();
            if let Some(m) = self.metrics.as_mut() {
                m.dirty |= changes;
            }
            self.write_metrics(now);
            self.check_end(now);
        }
        std::mem::take(&mut self.effects)
    }

    /// When the core must next be woken with [`Input::Tick`] (never
    /// before `now`; None: only by input).
    pub fn next_deadline(&mut self, now: u64) -> Option<u64> {
        let engine = if self.ending.is_none() {
            self.engine.next_deadline(now)
        } else {
            None
        };
        let metrics = self
            .metrics
            .as_ref()
            .map(|m| m.due())
            .map(|due| due.unwrap_or(now));
        let end = self.ending.filter(|_| !self.exited).map(|(_, by)| by);
        let path_wait = self
            .queue
            .iter()
            .filter_map(Slot::repair_wait)
            .map(|(_, until)| until)
            .filter(|&until| until > now)
            .min();
        [engine, metrics, end, path_wait]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.max(now))
    }

    /// The filesystem as every report names it (for the sinks' wire forms).
    pub fn identity(&self) -> &Identity {
        &self.fs
    }

    /// The status API's answer.
    pub fn status(&self) -> xfs_varlink::Status {
        let (sick, sick_truncated) = self.book.sick_objects();
        let (last_events, last_events_shortened) = self.book.last_events(&self.fs);
        let gauges = self.gauges();
        xfs_varlink::Status {
            mountpoint: self.mnt.clone(),
            uuid: self.setup.uuid.clone(),
            device: self.setup.device.clone(),
            mode: gauges.mode.into(),
            monitoring_since_usec: self.setup.started_usec,
            shut_down: gauges.shut_down,
            repairs_pending: gauges.repairs_pending as u64,
            repairs_running: gauges.repairs_running as u64,
            full_scan_running: gauges.full_scan_running,
            sick,
            sick_truncated,
            last_events,
            last_events_shortened,
            counters: self.book.counters.clone(),
        }
    }

    /// Whether a repair is handed out and not answered (the engine marks
    /// it running; the core hands out one at a time).
    pub fn repairing(&self) -> bool {
        self.engine.running() > 0
    }

    fn gauges(&self) -> Gauges {
        Gauges {
            up: true,
            mode: if self.setup.repair {
                "repair"
            } else {
                "log_only"
            },
            now_usec: 0,
            repairs_pending: self.engine.pending(),
            repairs_running: usize::from(self.repairing()),
            shut_down: self.engine.is_shut_down(),
            full_scan_running: self.engine.full_scan_running(),
        }
    }

    fn say(&mut self, text: String) {
        self.queue.push_back(Slot::Ready(Effect::Say(text)));
    }

    fn warn(&mut self, text: String) {
        let line = format!("{}: {text}", self.mnt);
        self.queue.push_back(Slot::Ready(Effect::Warn(line)));
    }

    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.lookups += 1;
        self.next_token
    }

    fn on_start(&mut self, now: Now, interrupted: bool) {
        if interrupted && self.setup.repair {
            let line = format!(
                "{}: The previous healer stopped with repairs pending.",
                self.mnt
            );
            self.say(line);
            let actions = self
                .engine
                .handle(now.ms, xfs_policy::Input::PreviousRunInterrupted);
            self.held_actions.extend(actions);
        }
    }

    fn engine_input(&mut self, now: Now, input: xfs_policy::Input) {
        let actions = self.engine.handle(now.ms, input);
        self.held_actions.extend(actions);
    }

    fn on_record(&mut self, now: Now, record: &Record) {
        let event = &record.event;
        self.book.on_event(event, now.usec);
        let mut echo = false;
        match *event {
            Event::Lost { count } => {
                // fdinfo may have told of these already: only the rest.
                let new = self.lost.record(count);
                self.on_lost(now, new);
                return;
            }
            Event::Shutdown { .. } => {
                self.effects.push(Effect::StopPatrol);
                self.engine_input(now, xfs_policy::Input::Shutdown);
            }
            Event::Health { verdict, object } => {
                let (object, mask) = status::health_object(object);
                // Asked before the engine hears of it, which queues (or
                // drops) the work.
                echo = match verdict {
                    Verdict::Healthy => self.engine.healed_here(now.ms, object, mask),
                    _ => self.engine.in_hand(now.ms, object, mask),
                };
                match verdict {
                    Verdict::Sick => {
                        self.engine_input(now, xfs_policy::Input::Sick { object, mask })
                    }
                    Verdict::Healthy => {
                        self.engine_input(now, xfs_policy::Input::Healthy { object, mask });
                        self.limiter.rearm(&record.key_as(Verdict::Sick));
                        self.limiter.rearm(&record.key_as(Verdict::Corrupt));
                    }
                    // Found by xfs_scrub, which repairs what it finds.
                    Verdict::Corrupt => {}
                }
            }
            _ => {}
        }
        self.queue_event(now, record, echo);
        if let Event::Media {
            device,
            daddr,
            bbcount,
        } = *event
        {
            self.queue_owners(now, (device, daddr, bbcount));
        }
    }

    fn on_lost(&mut self, now: Now, new: u64) {
        if new == 0 {
            return;
        }
        self.book.on_lost(new);
        let lost = Event::Lost { count: new };
        if let Some(line) = xfs_report::event_line(&self.setup.mount_arg, &lost, None, strerror) {
            let report = Report::new(now.usec, Kind::Lost, line);
            self.queue_report(report, true);
        }
        self.engine_input(now, xfs_policy::Input::Lost { count: new });
    }

    /// Queues an event's report: its line now, or once its paths are in.
    /// An `echo` (sick again while its repair is queued or running, or
    /// just after it succeeded: the repair's own scrub reads it, or a
    /// reader meets it meanwhile; or the HEALTHY the repair itself
    /// causes) gets no line and is not counted as held back: the repair's
    /// outcome line answers it. Every other sink still has it.
    fn queue_event(&mut self, now: Now, record: &Record, echo: bool) {
        let event = &record.event;
        let actionable = !matches!(
            event,
            Event::Running | Event::Lost { .. } | Event::Unmount | Event::Shutdown { .. }
        );
        let mut log = !(actionable && self.setup.quiet);
        if let Event::Unknown { domain, kind } = *event
            && (self.unknown_seen.len() >= UNKNOWN_KINDS
                || !self.unknown_seen.insert((domain, kind)))
        {
            log = false;
        }
        let mut suppressed = 0;
        let mut admitted = !echo;
        if actionable && !echo {
            match self.limiter.admit(&record.raw_key(), now.ms) {
                Admit::Print { suppressed: n } => suppressed = n,
                Admit::Suppress => admitted = false,
            }
        }
        log &= admitted;
        match inode_of(event) {
            // A held-back report is not worth a lookup: the kernel
            // re-reads the object for it.
            Some((ino, generation)) if admitted && self.setup.paths => {
                if self.lookups >= MAX_LOOKUPS {
                    return self.finish_event(record, suppressed, log, now.usec, None);
                }
                let token = self.token();
                self.effects.push(Effect::LookupPaths {
                    token,
                    ino,
                    generation,
                    max_links: MAX_LINKS,
                });
                self.queue.push_back(Slot::Event {
                    token,
                    record: *record,
                    suppressed,
                    log,
                    time_usec: now.usec,
                    repair_waits_until_ms: now.ms.saturating_add(PATH_FIRST_MS),
                });
                self.bound_queue();
            }
            Some(_) if admitted => self.finish_event(
                record,
                suppressed,
                log,
                now.usec,
                Some(Err(NoPath::NoParentPointers)),
            ),
            _ => self.finish_event(record, suppressed, log, now.usec, None),
        }
    }

    /// The lines of an event whose paths are known (or not needed).
    fn finish_event(
        &mut self,
        record: &Record,
        suppressed: u64,
        log: bool,
        time_usec: u64,
        paths: Option<Result<Vec<Vec<u8>>, NoPath>>,
    ) {
        let event = &record.event;
        let (first, others) = match &paths {
            Some(Ok(paths)) => (
                paths.first().map(Vec::as_slice),
                paths.get(1..).unwrap_or_default(),
            ),
            _ => (None, &[][..]),
        };
        let Some(line) = xfs_report::event_line(&self.setup.mount_arg, event, first, strerror)
        else {
            return;
        };
        if suppressed > 0 && log {
            let summary = format!(
                "{}: {suppressed} more reports like \"{line}\" were suppressed",
                self.mnt
            );
            self.say(summary);
        }
        let mut report = Report::new(time_usec, kind_of(event), line);
        report.path = first.map(|p| xfs_report::escape_name(p).into_owned());
        match *event {
            Event::Health { object, .. } => {
                if self.setup.repair
                    && let (Some(path), Some(inode)) = (first, inode_of(event))
                {
                    self.recent_paths.remember(inode, self.now_ms, path);
                }
                let names = object.names();
                let (object, mask) = status::health_object(object);
                report.object = Some(object);
                report.structures = Some(Structures { mask, names });
            }
            Event::FileIo {
                ino, generation, ..
            } => report.object = Some(Object::Inode { ino, generation }),
            _ => {}
        }
        self.queue_report(report, log);
        if let Some(first) = first.filter(|_| log) {
            for other in others {
                let line = format!(
                    "{}: also linked as {}",
                    xfs_report::escape_name(first),
                    xfs_report::escape_name(other)
                );
                self.say(line);
            }
        }
        if let Some(Err(why)) = paths
            && log
        {
            self.say_why_no_path(why);
        }
    }

    /// Queues a report for every sink.
    fn queue_report(&mut self, report: Report, log: bool) {
        self.queue.push_back(Slot::Ready(Effect::Emit {
            report,
            log,
            hook: None,
        }));
    }

    /// Whether `report` runs hooks (and how many of its kind were held
    /// back), decided as it leaves the queue: in the order told.
    fn hook_for(&mut self, report: &Report) -> Option<u64> {
        let class = report.hook_class();
        if !self.setup.hook_classes.contains(&class) {
            return None;
        }
        let admitted = self
            .hook_limiter
            .admit(&(class, report.object), self.now_ms);
        // Counts of forgotten keys are not reported for hooks.
        drop(self.hook_limiter.take_evicted());
        match admitted {
            Admit::Print { suppressed } => Some(suppressed),
            Admit::Suppress => None,
        }
    }

    /// The first time an inode has no path for a reason, says why.
    fn say_why_no_path(&mut self, why: NoPath) {
        if self.said_no_path.contains(&why) || self.said_no_path.len() >= SAID_NO_PATH {
            return;
        }
        self.said_no_path.push(why);
        let line = format!(
            "{}: inodes are named by number when they have no path: {} (said once).",
            self.mnt,
            why.why()
        );
        self.say(line);
    }

    fn queue_owners(&mut self, now: Now, range: (Device, u64, u64)) {
        if self.lookups >= MAX_LOOKUPS {
            self.owner_lines(range, Err(None));
            self.engine_input(now, xfs_policy::Input::BadMediaUnknownOwner);
            return;
        }
        let token = self.token();
        self.effects.push(Effect::LookupOwners { token, range });
        self.queue.push_back(Slot::Owners { token, range });
        self.bound_queue();
    }

    /// Rebuilds the metadata on a failed range; says what it holds.
    fn on_owners(&mut self, now: Now, token: u64, owners: Result<Owners, Errno>) {
        self.lookups = self.lookups.saturating_sub(1);
        for damage in owners.iter().flat_map(|o| &o.damages) {
            let input = match damage.repair() {
                Some(MediaRepair::Rebuild { object, mask }) => {
                    xfs_policy::Input::BadMedia { object, mask }
                }
                Some(MediaRepair::FullScan) => xfs_policy::Input::BadMediaUnknownOwner,
                None => continue,
            };
            self.engine_input(now, input);
        }
        let Some(at) = self.slot_of(token) else {
            return;
        };
        let Some(Slot::Owners { range, .. }) = self.queue.remove(at) else {
            return;
        };
        let tail = self.queue.split_off(at);
        self.owner_lines(range, owners.map_err(Some));
        self.queue.extend(tail);
    }

    /// The owner lines of a media error (`Err(None)`: not looked up).
    fn owner_lines(&mut self, range: (Device, u64, u64), owners: Result<Owners, Option<Errno>>) {
        if self.setup.quiet {
            return;
        }
        match owners {
            Ok(owners) => {
                for line in xfs_report::media_lines(
                    &self.setup.mount_arg,
                    range,
                    &owners.damages,
                    owners.more,
                ) {
                    self.say(line);
                }
            }
            Err(e) => {
                let (device, daddr, bbcount) = range;
                let why = e.map_or_else(|| "too many lookups waiting".into(), xfs_abi::strerror);
                let line = format!(
                    "{} {} daddr {daddr:#x} bbcount {bbcount:#x}: owners not looked up: {why}",
                    self.mnt,
                    device.word(),
                );
                self.say(line);
            }
        }
    }

    fn slot_of(&self, token: u64) -> Option<usize> {
        self.queue.iter().position(|s| s.token() == Some(token))
    }

    fn on_paths(&mut self, _now: Now, token: u64, paths: Result<Vec<Vec<u8>>, NoPath>) {
        self.lookups = self.lookups.saturating_sub(1);
        let Some(at) = self.slot_of(token) else {
            return;
        };
        let Some(slot) = self.queue.remove(at) else {
            return;
        };
        let tail = self.queue.split_off(at);
        self.complete(slot, Some(paths));
        self.queue.extend(tail);
    }

    /// Turns a waiting slot into its lines (None: it waited too long).
    fn complete(&mut self, slot: Slot, paths: Option<Result<Vec<Vec<u8>>, NoPath>>) {
        match slot {
            Slot::Ready(effect) => self.queue.push_back(Slot::Ready(effect)),
            Slot::Event {
                record,
                suppressed,
                log,
                time_usec,
                ..
            } => self.finish_event(&record, suppressed, log, time_usec, paths),
            Slot::Repair {
                target,
                text,
                succeeded,
                time_usec,
                ..
            } => {
                let path = paths
                    .and_then(Result::ok)
                    .and_then(|p| p.into_iter().next());
                self.finish_repair(target, text, succeeded, time_usec, path);
            }
            Slot::Owners { range, .. } => self.owner_lines(range, Err(Some(Errno::TIMEDOUT))),
        }
    }

    /// Keeps the queue bounded: its oldest waiting slot goes as it is.
    fn bound_queue(&mut self) {
        while self.queue.len() > MAX_QUEUED {
            let Some(at) = self.queue.iter().position(|s| s.token().is_some()) else {
                return;
            };
            self.force(at);
        }
    }

    fn force(&mut self, at: usize) {
        if let Some(slot) = self.queue.remove(at) {
            let tail = self.queue.split_off(at);
            self.complete(slot, None);
            self.queue.extend(tail);
        }
    }

    /// Hands out the lines from the head up to the first waiting slot.
    fn flush_queue(&mut self) {
        while let Some(Slot::Ready(_)) = self.queue.front() {
            let Some(Slot::Ready(mut effect)) = self.queue.pop_front() else {
                break;
            };
            if let Effect::Emit { report, hook, .. } = &mut effect {
                *hook = self.hook_for(report);
                self.seq += 1;
                report.seq = self.seq;
                self.book.record(report);
            }
            self.effects.push(effect);
        }
    }

    fn on_batch_end(&mut self, now: Now, fdinfo_lost: Option<u64>) {
        // The kernel reports lost events only when a later event fits in
        // its queue; its fdinfo counter shows them at once.
        if let Some(total) = fdinfo_lost {
            let new = self.lost.fdinfo(total);
            self.on_lost(now, new);
        }
        self.on_tick(now);
    }

    fn on_tick(&mut self, now: Now) {
        let actions = self.engine.tick(now.ms);
        self.held_actions.extend(actions);
        let evicted = self.limiter.take_evicted();
        self.say_suppressed(evicted);
    }

    /// Says what was held back, naming the report (without its path:
    /// looking it up would make the kernel re-read the object).
    fn say_suppressed(&mut self, counts: Vec<([u8; RECORD_LEN], u64)>) {
        for (key, n) in counts.into_iter().filter(|(_, n)| *n > 0) {
            let record = xfs_events::decode(&key);
            if let Some(line) =
                xfs_report::event_line(&self.setup.mount_arg, &record.event, None, strerror)
            {
                let summary = format!(
                    "{}: {n} more reports like \"{line}\" were suppressed",
                    self.mnt
                );
                self.say(summary);
            }
        }
    }

    fn dispatch(&mut self, now: Now) {
        if self.repairing() || self.ending.is_some() {
            return;
        }
        // The path first: the repair would lock the inode the walk reads.
        if let Some(Target {
            object: Object::Inode { ino, generation },
            ..
        }) = self.engine.peek_repair(now.ms)
            && self
                .queue
                .iter()
                .filter_map(Slot::repair_wait)
                .any(|(inode, until)| inode == (ino, generation) && until > now.ms)
        {
            if !self.repair_ahead_said {
                self.repair_ahead_said = true;
                self.effects.push(Effect::RepairAhead);
            }
            return;
        }
        if let Some(target) = self.engine.next_repair(now.ms) {
            self.repair_ahead_said = false;
            self.effects.push(Effect::Repair(target));
        }
    }

    fn on_repair_done(&mut self, now: Now, target: Target, outcome: Outcome, text: RepairText) {
        let retried = self.engine.will_retry(&target, outcome);
        self.book
            .on_repair(target.object, target.bit, RepairTally::of(outcome, retried));
        let succeeded = matches!(outcome, Outcome::Repaired | Outcome::NotNeeded);
        match text {
            RepairText::Filesystem(text) => {
                let line = format!("{}: {text}", self.mnt);
                let mut report = Report::new(now.usec, Kind::Repair, line);
                report.succeeded = Some(succeeded);
                self.queue_report(report, true);
            }
            RepairText::Reference(words) => {
                self.queue_repair(now, target, words.message().into(), succeeded)
            }
            RepairText::Other(text) => self.queue_repair(now, target, text.into(), succeeded),
        }
        self.engine_input(now, xfs_policy::Input::RepairDone { target, outcome });
    }

    fn queue_repair(&mut self, now: Now, target: Target, text: Cow<'static, str>, succeeded: bool) {
        let Object::Inode { ino, generation } = target.object else {
            return self.finish_repair(target, text, succeeded, now.usec, None);
        };
        // The path its report was printed with, unless the repair may
        // have moved the inode.
        let known = self
            .recent_paths
            .get((ino, generation), now.ms)
            .filter(|_| !target.scrub.may_relink())
            .map(<[u8]>::to_vec);
        if known.is_some() || !self.setup.paths || self.lookups >= MAX_LOOKUPS {
            return self.finish_repair(target, text, succeeded, now.usec, known);
        }
        let token = self.token();
        self.effects.push(Effect::LookupPaths {
            token,
            ino,
            generation,
            max_links: 1,
        });
        self.queue.push_back(Slot::Repair {
            token,
            target,
            text,
            succeeded,
            time_usec: now.usec,
        });
        self.bound_queue();
    }

    fn finish_repair(
        &mut self,
        target: Target,
        text: Cow<'static, str>,
        succeeded: bool,
        time_usec: u64,
        path: Option<Vec<u8>>,
    ) {
        let line = xfs_report::repair_line(
            &self.setup.mount_arg,
            &target.object,
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
        let mut report = Report::new(time_usec, Kind::Repair, line);
        report.object = Some(target.object);
        report.scrub_type = Some(target.scrub.0);
        report.structures = Some(Structures {
            mask: target.bit,
            names,
        });
        report.path = path.map(|p| xfs_report::escape_name(&p).into_owned());
        report.outcome = Some(text);
        report.succeeded = Some(succeeded);
        self.queue_report(report, true);
    }

    fn run_actions(&mut self, now: Now, actions: Vec<Action>) {
        for Action::StartFullScan(reason) in actions {
            if self.ending.is_some() {
                // Nothing new once stopping; the engine's scan is over.
                let _ = self.engine.handle(now.ms, xfs_policy::Input::FullScanDone);
                continue;
            }
            self.book.on_full_scan(reason);
            self.scan_reason = Some(reason);
            self.effects.push(Effect::StartFullScan(reason));
        }
    }

    fn on_scan_started(&mut self, now: Now, started: Result<(), String>) {
        match started {
            Ok(()) => {
                let line = format!("{}: Full repairs in progress.", self.mnt);
                let mut report = Report::new(now.usec, Kind::FullScan, line);
                report.reason = self.scan_reason;
                self.queue_report(report, true);
            }
            Err(why) => {
                self.warn(why);
                self.engine_input(now, xfs_policy::Input::FullScanDone);
            }
        }
    }

    fn on_scan_ended(&mut self, now: Now, end: ScanEnd) {
        let said = match end {
            ScanEnd::UnitEnded => None,
            // 4 = "errors were fixed" (xfs_scrub(8) exit status bits).
            ScanEnd::Exited(Some(0 | 4)) => Some((true, "Full repairs complete.".to_string())),
            ScanEnd::Exited(Some(code)) => {
                Some((false, format!("xfs_scrub exited with status {code}.")))
            }
            ScanEnd::Exited(None) => Some((false, "xfs_scrub was killed by a signal.".into())),
            ScanEnd::TimedOut { hours } => Some((
                false,
                format!("xfs_scrub still running after {hours} hours; stopped."),
            )),
        };
        if let Some((succeeded, text)) = said {
            let line = format!("{}: {text}", self.mnt);
            let mut report = Report::new(now.usec, Kind::FullScan, line.clone());
            report.reason = self.scan_reason;
            report.outcome = Some(text.into());
            report.succeeded = Some(succeeded);
            // Failures are error lines, as before; every other sink
            // gets the report.
            if succeeded {
                self.queue_report(report, true);
            } else {
                self.queue.push_back(Slot::Ready(Effect::Warn(line)));
                self.queue_report(report, false);
            }
        }
        self.scan_reason = None;
        self.engine_input(now, xfs_policy::Input::FullScanDone);
    }

    fn on_full_scan_requested(&mut self, now: Now) -> Result<FullScanStarted, String> {
        if !self.setup.repair {
            return Err("the healer only reports (log-only mode)".to_string());
        }
        if self.engine.is_shut_down() {
            return Err("the filesystem has shut down".to_string());
        }
        if self.ending.is_some() {
            return Err("the healer is stopping".to_string());
        }
        let actions = self
            .engine
            .handle(now.ms, xfs_policy::Input::FullScanRequested);
        let started = !actions.is_empty();
        self.held_actions.extend(actions);
        Ok(FullScanStarted {
            started,
            deferred: self.engine.full_scan_deferred(),
        })
    }

    /// A test event, as smartd's `-M test`: a report of `class` marked
    /// as a test for every sink, at once. Its line is printed even with
    /// `--quiet` and whatever the repeat limiter holds; the hooks of its
    /// class run if the class is enabled, past their rate limit, which it
    /// neither consults nor uses up (a test must show the hooks work, and
    /// must not hold back the next real event's). It goes round the
    /// ordered queue: it tells nothing of the kernel's, so it need not
    /// wait for a line still waiting for a path. The engine, the sick set
    /// and every counter of real events never hear of it; the book keeps
    /// it among the latest events and counts it in `test_events`.
    fn on_test_event(&mut self, now: Now, class: HookClass) -> TestEventSent {
        let message = format!(
            "{}: test event ({}) from the status API; this is only a test",
            self.mnt,
            class.name()
        );
        let mut report = Report::test(now.usec, class, message.clone());
        self.seq += 1;
        report.seq = self.seq;
        let hooks = self.setup.hook_classes.contains(&class);
        self.book.on_test_event(&report);
        self.effects.push(Effect::Emit {
            report,
            log: true,
            hook: hooks.then_some(0),
        });
        TestEventSent { message, hooks }
    }

    fn on_reload(&mut self, reload: Reload) {
        let policy = xfs_policy::Config {
            repair: self.setup.repair,
            ..reload.policy
        };
        self.engine.reconfigure(policy.clone());
        self.setup.policy = policy;
        self.setup.hook_classes = reload.hook_classes;
        self.setup.hook_interval_ms = reload.hook_interval_ms;
        self.hook_limiter.set_interval(reload.hook_interval_ms);
        if self.setup.metrics_interval_ms.is_some() {
            self.setup.metrics_interval_ms = Some(reload.metrics_interval_ms);
        }
    }

    fn on_metrics_written(&mut self, result: Result<(), String>) {
        let Some(m) = self.metrics.as_mut() else {
            return;
        };
        match result {
            Ok(()) => m.failing = false,
            Err(why) => {
                // Tried again at the next interval; said once a failure.
                m.dirty = true;
                if !std::mem::replace(&mut m.failing, true) {
                    self.warn(format!("metrics: {why}"));
                }
            }
        }
    }

    fn write_metrics(&mut self, now: Now) {
        let gauges = self.gauges();
        let Some(m) = self.metrics.as_mut() else {
            return;
        };
        if m.due().is_some_and(|due| now.ms < due) {
            return;
        }
        m.written_at = Some(now.ms);
        m.dirty = false;
        let gauges = Gauges {
            now_usec: now.usec,
            ..gauges
        };
        let text = self.book.prometheus(&self.mnt, &self.setup.uuid, gauges);
        self.effects.push(Effect::WriteMetrics(text));
    }

    /// The metrics file a healer leaves when it stops with an error:
    /// `xfs_healer_up` 0 (None: no metrics file).
    pub fn last_metrics(&self, now: Now) -> Option<String> {
        self.metrics.as_ref()?;
        let gauges = Gauges {
            up: false,
            now_usec: now.usec,
            ..self.gauges()
        };
        Some(self.book.prometheus(&self.mnt, &self.setup.uuid, gauges))
    }

    fn set_pending(&mut self) {
        let busy = self.repairing() || self.engine.pending() > 0;
        if self.pending_said != Some(busy) {
            self.pending_said = Some(busy);
            self.effects.push(Effect::SetPending(busy));
        }
    }

    fn on_stop(&mut self, now: Now, how: Stopped, wait_ms: u64) {
        if self.ending.is_some() {
            return;
        }
        self.ending = Some((how, now.ms.saturating_add(wait_ms)));
        if matches!(how, Stopped::Signal(_)) {
            self.effects.push(Effect::StopPatrol);
            if self.engine.full_scan_running() {
                self.effects.push(Effect::StopFullScan);
            }
        }
    }

    /// Once stopping: exits when what it waits for is done, or its time
    /// is up (what still waits then goes as it is).
    fn check_end(&mut self, now: Now) {
        let Some((how, by)) = self.ending.filter(|_| !self.exited) else {
            return;
        };
        let waiting = self.queue.iter().any(|s| s.token().is_some());
        let working = matches!(how, Stopped::Signal(_))
            && (self.repairing() || self.engine.full_scan_running());
        if (waiting || working) && now.ms < by {
            return;
        }
        while let Some(at) = self.queue.iter().position(|s| s.token().is_some()) {
            self.force(at);
        }
        let held = self.limiter.take_suppressed();
        self.say_suppressed(held);
        self.flush_queue();
        self.effects.push(Effect::Exit(how));
        self.exited = true;
    }
}

/// The kind of a kernel report.
/// The inode a report is about, if it is about one.
fn inode_of(event: &Event) -> Option<(u64, u32)> {
    match *event {
        Event::Health {
            object: HealthObject::Inode {
                ino, generation, ..
            },
            ..
        }
        | Event::FileIo {
            ino, generation, ..
        } => Some((ino, generation)),
        _ => None,
    }
}

fn kind_of(event: &Event) -> Kind {
    match event {
        Event::Health { verdict, .. } => match verdict {
            Verdict::Sick => Kind::Sick,
            Verdict::Corrupt => Kind::Corrupt,
            Verdict::Healthy => Kind::Healthy,
        },
        Event::Media { .. } => Kind::MediaError,
        Event::FileIo { .. } => Kind::FileIo,
        Event::Running => Kind::Running,
        Event::Lost { .. } => Kind::Lost,
        Event::Shutdown { .. } => Kind::Shutdown,
        Event::Unmount => Kind::Unmount,
        Event::Unknown { .. } => Kind::Unknown,
    }
}

/// A record's error field as text. The kernel writes a positive errno, but
/// the field is not checked, so any number is taken (the C healer passes it
/// to `strerror` as an `int`, so one above `i32::MAX` prints as negative).
fn strerror(errno: u32) -> String {
    xfs_abi::strerror_raw(i32::from_ne_bytes(errno.to_ne_bytes()))
}
