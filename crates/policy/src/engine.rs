//! The repair scheduler's decisions: what to queue, what a report is
//! already covered by, when a full scan replaces targeted work, and what
//! stops at shutdown.
//!
//! Rules (each pinned by a test below):
//! - a report becomes one [`Target`] per mapped sick bit; a target already
//!   queued or running absorbs new reports of it (no N repairs for N
//!   reports);
//! - after a target's repair finishes, reports of it within `cooldown_ms` are
//!   its own echo: the kernel re-reads the damage while scrubbing and emits
//!   SICK again, so they must not start another repair (no feedback loop);
//! - after a repair fails, reports of it are absorbed for `failed_hold_ms`
//!   or until HEALTHY says it is fine: retrying would fail the same way,
//!   and a full scan has been asked for;
//! - while a full scan runs, reports queue nothing: the scan covers them,
//!   and its own reads of the damage are what is being reported;
//! - HEALTHY drops queued work for the bits it names;
//! - a full scan is asked for when a repair fails, when sick bits have no
//!   targeted repair, when events were lost, when the queue is full, or when
//!   more than `storm_targets` new targets arrive within `storm_window_ms`;
//!   starting one drops the queued targets (the scan covers them); at most
//!   one is started per `full_scan_interval_ms` — a request inside the
//!   interval, or while a scan runs, is deferred, not lost (but events
//!   lost while a scan runs are the scan's own flood and are covered by it);
//! - the shell's wake-up time ([`Engine::next_deadline`]) is never in the
//!   past, whether or not the worker can take work (no busy loop);
//! - transient kernel errors (busy, deadlock, out of memory) are retried
//!   with exponential backoff up to `retry_limit` times;
//! - metadata on failed media ([`Input::BadMedia`]) is rebuilt, not just
//!   checked; no echo window absorbs it (it is news, not our echo), and a
//!   queued check of the same structure becomes a rebuild; media under
//!   owners nobody can name asks for a full scan;
//! - after shutdown nothing new is queued or started.

use crate::plan::{Object, Target, targets, unmapped};
use rustc_hash::{FxHashMap as FastMap, FxHashSet as FastSet};
use std::collections::{BTreeMap, VecDeque};

/// Tunables; [`Config::default`] are the daemon's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Repair at all (false = log only: the engine never asks for work).
    pub repair: bool,
    /// Most targets waiting; beyond that a full scan is cheaper.
    pub max_pending: usize,
    pub cooldown_ms: u64,
    pub failed_hold_ms: u64,
    pub storm_targets: usize,
    pub storm_window_ms: u64,
    pub retry_limit: u32,
    pub retry_backoff_ms: u64,
    pub full_scan_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            repair: true,
            max_pending: 4096,
            cooldown_ms: 5_000,
            failed_hold_ms: 600_000,
            storm_targets: 1_000,
            storm_window_ms: 10_000,
            retry_limit: 3,
            retry_backoff_ms: 100,
            full_scan_interval_ms: 600_000,
        }
    }
}

/// What happened, as far as the scheduler cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Runtime code found damage (the kernel's SICK).
    Sick {
        object: Object,
        mask: u32,
    },
    /// Scrub or repair found these bits fine.
    Healthy {
        object: Object,
        mask: u32,
    },
    /// These structures sit on media that failed verification.
    BadMedia {
        object: Object,
        mask: u32,
    },
    /// Failed media under space whose owner is unknown (no reverse map).
    BadMediaUnknownOwner,
    /// An operator asked for a full scan (status API).
    FullScanRequested,
    /// The kernel dropped events (a LOST record, or fdinfo's counter rose).
    Lost {
        count: u64,
    },
    /// A previous healer of this filesystem died with repairs pending.
    PreviousRunInterrupted,
    Shutdown,
    RepairDone {
        target: Target,
        outcome: Outcome,
    },
    FullScanDone,
}

/// How one targeted repair went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Repaired,
    NotNeeded,
    /// Looks right but cross-referencing failed.
    XrefFailed,
    /// Still corrupt, incomplete, or the kernel cannot repair it.
    Failed,
    /// Busy / deadlock / no memory: worth another try.
    Transient,
    /// The mount point no longer leads to the monitored filesystem.
    Refused,
    /// The filesystem is shut down (ESHUTDOWN), whether or not a SHUTDOWN
    /// report came: a log I/O error shuts it down without one.
    ShutDown,
}

impl Outcome {
    /// Every outcome (for tests and fuzzing that try each).
    pub const ALL: [Outcome; 7] = [
        Outcome::Repaired,
        Outcome::NotNeeded,
        Outcome::XrefFailed,
        Outcome::Failed,
        Outcome::Transient,
        Outcome::Refused,
        Outcome::ShutDown,
    ];
}

/// Why a full scan was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullScanReason {
    RepairFailed,
    NoTargetedRepair,
    EventsLost,
    PreviousRunInterrupted,
    Storm,
    BadMediaUnknownOwner,
    QueueFull,
    Requested,
}

impl FullScanReason {
    /// Every reason, in the order the documentation lists them.
    pub const ALL: [FullScanReason; 8] = [
        FullScanReason::RepairFailed,
        FullScanReason::NoTargetedRepair,
        FullScanReason::EventsLost,
        FullScanReason::PreviousRunInterrupted,
        FullScanReason::Storm,
        FullScanReason::BadMediaUnknownOwner,
        FullScanReason::QueueFull,
        FullScanReason::Requested,
    ];

    /// The reason's name in output fields, metrics labels and the API.
    pub fn name(self) -> &'static str {
        match self {
            FullScanReason::RepairFailed => "repair_failed",
            FullScanReason::NoTargetedRepair => "no_targeted_repair",
            FullScanReason::EventsLost => "events_lost",
            FullScanReason::PreviousRunInterrupted => "previous_run_interrupted",
            FullScanReason::Storm => "storm",
            FullScanReason::BadMediaUnknownOwner => "bad_media_unknown_owner",
            FullScanReason::QueueFull => "queue_full",
            FullScanReason::Requested => "requested",
        }
    }
}

/// What the shell must do besides running the targets it pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StartFullScan(FullScanReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    object: Object,
    scrub: u32,
    /// The sick bit the scrub type repairs (for HEALTHY matching).
    bit: u32,
}

impl From<&Target> for Key {
    fn from(t: &Target) -> Key {
        Key {
            object: t.object,
            scrub: t.scrub.0,
            bit: t.bit,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Quiet {
    until: u64,
    failed: bool,
}

#[derive(Debug)]
pub struct Engine {
    config: Config,
    /// Ready targets, in arrival order.
    queue: VecDeque<Target>,
    /// Targets waiting for a retry, by the time they become ready.
    delayed: BTreeMap<(u64, Key), Target>,
    queued: FastSet<Key>,
    running: FastSet<Key>,
    attempts: FastMap<Key, u32>,
    /// Key -> until when its reports are absorbed, and whether that is
    /// because its repair failed (then HEALTHY lifts it).
    quiet: FastMap<Key, Quiet>,
    storm: VecDeque<u64>,
    shut_down: bool,
    full_scan_running: bool,
    last_full_scan_ms: Option<u64>,
    deferred_full_scan: Option<FullScanReason>,
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            config,
            queue: VecDeque::new(),
            delayed: BTreeMap::new(),
            queued: FastSet::default(),
            running: FastSet::default(),
            attempts: FastMap::default(),
            quiet: FastMap::default(),
            storm: VecDeque::new(),
            shut_down: false,
            full_scan_running: false,
            last_full_scan_ms: None,
            deferred_full_scan: None,
        }
    }

    /// New thresholds (a reload): what is queued, running or held stays.
    pub fn reconfigure(&mut self, config: Config) {
        self.config = config;
    }

    pub fn pending(&self) -> usize {
        self.queued.len()
    }

    pub fn running(&self) -> usize {
        self.running.len()
    }

    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    pub fn full_scan_running(&self) -> bool {
        self.full_scan_running
    }

    /// Whether every repair a report of `object` (`mask`) asks for is
    /// queued, running, or has just succeeded (inside its cooldown): the
    /// report is then that repair's echo, and its outcome line answers it.
    /// An echo the repair's scrub caused can be read after the repair's
    /// completion, hence the cooldown.
    pub fn in_hand(&self, now: u64, object: Object, mask: u32) -> bool {
        self.all_targets(object, mask, |key| {
            self.queued.contains(key) || self.repaired_here(now, key)
        })
    }

    /// Whether every structure a HEALTHY report of `object` (`mask`) names
    /// is being repaired or has just been: the kernel marks what a repair
    /// fixed healthy during the repair's ioctl, so the report is that
    /// repair's own, and its outcome line answers it. A HEALTHY of work
    /// still queued is news (someone else fixed it, and the engine drops
    /// the work), so it is not one.
    pub fn healed_here(&self, now: u64, object: Object, mask: u32) -> bool {
        self.all_targets(object, mask, |key| self.repaired_here(now, key))
    }

    fn repaired_here(&self, now: u64, key: &Key) -> bool {
        self.running.contains(key)
            || self
                .quiet
                .get(key)
                .is_some_and(|q| !q.failed && now < q.until)
    }

    /// Whether `mask` names at least one repairable structure of `object`,
    /// and `test` holds for each.
    fn all_targets(&self, object: Object, mask: u32, test: impl Fn(&Key) -> bool) -> bool {
        let mut any = false;
        let all = targets(object, mask).all(|t| {
            any = true;
            test(&Key::from(&t))
        });
        any && all
    }

    /// A full scan was asked for inside the interval and waits for it.
    pub fn full_scan_deferred(&self) -> bool {
        self.deferred_full_scan.is_some()
    }

    /// Feeds one input; returns the full-scan actions it causes.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Action> {
        let mut actions = Vec::new();
        match input {
            Input::Sick { object, mask } => self.on_sick(now, object, mask, false, &mut actions),
            Input::BadMedia { object, mask } => self.on_sick(now, object, mask, true, &mut actions),
            Input::BadMediaUnknownOwner => {
                self.want_full_scan(now, FullScanReason::BadMediaUnknownOwner, &mut actions)
            }
            Input::FullScanRequested => {
                self.want_full_scan(now, FullScanReason::Requested, &mut actions)
            }
            Input::Healthy { object, mask } => self.on_healthy(object, mask),
            Input::Lost { count } if count > 0 => {
                self.want_full_scan(now, FullScanReason::EventsLost, &mut actions)
            }
            Input::Lost { .. } => {}
            Input::PreviousRunInterrupted => {
                self.want_full_scan(now, FullScanReason::PreviousRunInterrupted, &mut actions);
            }
            Input::Shutdown => {
                self.shut_down = true;
                self.drop_queued();
                self.deferred_full_scan = None;
            }
            Input::RepairDone { target, outcome } => {
                self.on_done(now, target, outcome, &mut actions)
            }
            Input::FullScanDone => self.full_scan_running = false,
        }
        self.start_deferred(now, &mut actions);
        actions
    }

    fn on_sick(
        &mut self,
        now: u64,
        object: Object,
        mask: u32,
        rebuild: bool,
        actions: &mut Vec<Action>,
    ) {
        if !self.config.repair || self.shut_down || self.full_scan_running {
            return;
        }
        for target in targets(object, mask) {
            let target = Target { rebuild, ..target };
            let key = Key::from(&target);
            if rebuild && self.queued.contains(&key) {
                for queued in self
                    .queue
                    .iter_mut()
                    .chain(self.delayed.values_mut())
                    .filter(|t| Key::from(&**t) == key)
                {
                    queued.rebuild = true;
                }
            }
            if self.queued.contains(&key) || self.running.contains(&key) {
                continue;
            }
            if !rebuild && self.quiet.get(&key).is_some_and(|q| now < q.until) {
                continue;
            }
            if self.queued.len() >= self.config.max_pending {
                self.want_full_scan(now, FullScanReason::QueueFull, actions);
                return;
            }
            self.storm.push_back(now);
            while self
                .storm
                .front()
                .is_some_and(|&t| now.saturating_sub(t) >= self.config.storm_window_ms)
            {
                self.storm.pop_front();
            }
            if self.storm.len() > self.config.storm_targets {
                self.storm.clear();
                self.want_full_scan(now, FullScanReason::Storm, actions);
                return;
            }
            self.queued.insert(key);
            self.queue.push_back(target);
        }
        if unmapped(object, mask) != 0 {
            self.want_full_scan(now, FullScanReason::NoTargetedRepair, actions);
        }
    }

    fn on_healthy(&mut self, object: Object, mask: u32) {
        let covered = |t: &Target| t.object == object && t.bit & mask != 0;
        self.quiet
            .retain(|key, q| !(q.failed && key.object == object && key.bit & mask != 0));
        let queued = &mut self.queued;
        self.queue.retain(|t| {
            let keep = !covered(t);
            if !keep {
                queued.remove(&Key::from(t));
            }
            keep
        });
        self.delayed.retain(|_, t| {
            let keep = !covered(t);
            if !keep {
                queued.remove(&Key::from(&*t));
            }
            keep
        });
    }

    fn on_done(&mut self, now: u64, target: Target, outcome: Outcome, actions: &mut Vec<Action>) {
        let key = Key::from(&target);
        self.running.remove(&key);
        match outcome {
            Outcome::ShutDown => {
                self.shut_down = true;
                self.drop_queued();
                self.deferred_full_scan = None;
            }
            Outcome::Transient if !self.shut_down => {
                // A retry waits in the queue too: never past its bound.
                if self.queued.len() >= self.config.max_pending {
                    self.finish(now, key, true);
                    self.want_full_scan(now, FullScanReason::QueueFull, actions);
                    return;
                }
                let attempts = self.attempts.entry(key).or_insert(0);
                *attempts += 1;
                if *attempts <= self.config.retry_limit {
                    let delay = self.config.retry_backoff_ms << (*attempts - 1).min(16);
                    self.queued.insert(key);
                    self.delayed
                        .insert((now.saturating_add(delay), key), target);
                    return;
                }
                self.finish(now, key, true);
                self.want_full_scan(now, FullScanReason::RepairFailed, actions);
            }
            Outcome::Failed | Outcome::Transient => {
                self.finish(now, key, true);
                self.want_full_scan(now, FullScanReason::RepairFailed, actions);
            }
            Outcome::Repaired | Outcome::NotNeeded | Outcome::XrefFailed => {
                self.finish(now, key, false);
            }
            // Nothing was touched, so there is no echo to absorb: the next
            // report may try again (the path may lead home by then).
            Outcome::Refused => {
                self.attempts.remove(&key);
            }
        }
    }

    fn finish(&mut self, now: u64, key: Key, failed: bool) {
        self.attempts.remove(&key);
        // Bounded: forget windows that are over.
        if self.quiet.len() >= self.config.max_pending {
            self.quiet.retain(|_, q| now < q.until);
            if self.quiet.len() >= self.config.max_pending {
                // All current: at worst one object is repaired once more.
                self.quiet.clear();
            }
        }
        let hold = if failed {
            self.config.failed_hold_ms
        } else {
            self.config.cooldown_ms
        };
        self.quiet.insert(
            key,
            Quiet {
                until: now.saturating_add(hold),
                failed,
            },
        );
    }

    fn drop_queued(&mut self) {
        self.queue.clear();
        self.delayed.clear();
        self.queued.clear();
        self.attempts.retain(|k, _| self.running.contains(k));
    }

    fn want_full_scan(&mut self, now: u64, reason: FullScanReason, actions: &mut Vec<Action>) {
        if !self.config.repair || self.shut_down {
            return;
        }
        if self.full_scan_running {
            // Events lost meanwhile are the running scan's own flood of
            // reports: deferring them would make every scan cause the next.
            // Anything else (an operator's request, failed media of unknown
            // owner, a targeted repair that failed) may concern what the
            // scan has already passed: it runs once this one ends.
            if reason != FullScanReason::EventsLost {
                self.deferred_full_scan.get_or_insert(reason);
            }
            return;
        }
        let too_soon = self
            .last_full_scan_ms
            .is_some_and(|last| now.saturating_sub(last) < self.config.full_scan_interval_ms);
        if too_soon {
            self.deferred_full_scan.get_or_insert(reason);
            return;
        }
        self.full_scan_running = true;
        self.last_full_scan_ms = Some(now);
        self.deferred_full_scan = None;
        self.drop_queued();
        actions.push(Action::StartFullScan(reason));
    }

    fn start_deferred(&mut self, now: u64, actions: &mut Vec<Action>) {
        if let Some(reason) = self.deferred_full_scan {
            let due = self
                .last_full_scan_ms
                .is_none_or(|last| now.saturating_sub(last) >= self.config.full_scan_interval_ms);
            if due && !self.full_scan_running {
                self.deferred_full_scan = None;
                self.want_full_scan(now, reason, actions);
            }
        }
    }

    /// Whether this outcome of `target`'s repair will be tried again (a
    /// transient error within the retry limit): such an attempt is
    /// neither a success nor a failure yet.
    pub fn will_retry(&self, target: &Target, outcome: Outcome) -> bool {
        let tried = self.attempts.get(&Key::from(target)).copied().unwrap_or(0);
        outcome == Outcome::Transient
            && !self.shut_down
            && tried < self.config.retry_limit
            && self.queued.len() < self.config.max_pending
    }

    /// Pulls the next ready target and marks it running.
    /// The target [`Engine::next_repair`] would hand out now, left queued.
    pub fn peek_repair(&mut self, now: u64) -> Option<Target> {
        if self.shut_down {
            return None;
        }
        self.promote_due(now);
        self.queue.front().copied()
    }

    pub fn next_repair(&mut self, now: u64) -> Option<Target> {
        if self.shut_down {
            return None;
        }
        self.promote_due(now);
        let target = self.queue.pop_front()?;
        let key = Key::from(&target);
        self.queued.remove(&key);
        self.running.insert(key);
        Some(target)
    }

    /// When the shell should call back (a retry or a deferred full scan
    /// falls due), or None: then nothing happens until the next input.
    /// Never in the past: retries already due move to the ready queue
    /// (taken by [`Engine::next_repair`] when the worker is free, which the
    /// shell learns from the worker, not from a timer), and a deferred scan
    /// that cannot start because one runs waits for [`Input::FullScanDone`].
    pub fn next_deadline(&mut self, now: u64) -> Option<u64> {
        self.promote_due(now);
        let retry = self.delayed.keys().next().map(|&(t, _)| t);
        let scan = self
            .deferred_full_scan
            .filter(|_| !self.full_scan_running)
            .and(self.last_full_scan_ms)
            .map(|last| last.saturating_add(self.config.full_scan_interval_ms))
            .filter(|&due| due > now);
        retry.into_iter().chain(scan).min()
    }

    /// Moves the retries whose time has come to the ready queue.
    fn promote_due(&mut self, now: u64) {
        while let Some((&(ready, key), _)) = self.delayed.iter().next() {
            if ready > now {
                break;
            }
            if let Some(target) = self.delayed.remove(&(ready, key)) {
                self.queue.push_back(target);
            }
        }
    }

    /// Timer callback: starts a deferred full scan that is now due.
    pub fn tick(&mut self, now: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        self.start_deferred(now, &mut actions);
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ScrubType;
    use proptest::prelude::*;

    const DIR: u32 = 0x10;
    const AGF: u32 = 0x2;
    fn inode(ino: u64) -> Object {
        Object::Inode { ino, generation: 1 }
    }
    fn sick(object: Object, mask: u32) -> Input {
        Input::Sick { object, mask }
    }
    fn drain(e: &mut Engine, now: u64) -> Vec<Target> {
        std::iter::from_fn(|| e.next_repair(now)).collect()
    }
    fn done(target: Target, outcome: Outcome) -> Input {
        Input::RepairDone { target, outcome }
    }

    #[test]
    fn a_burst_is_one_repair() {
        let mut e = Engine::new(Config::default());
        for i in 0..100 {
            assert!(e.handle(i, sick(inode(128), DIR)).is_empty());
        }
        let work = drain(&mut e, 100);
        assert_eq!(
            work,
            vec![Target {
                object: inode(128),
                scrub: ScrubType(15),
                bit: DIR,
                rebuild: false
            }]
        );
        // Reports while it runs are absorbed.
        e.handle(101, sick(inode(128), DIR));
        assert!(drain(&mut e, 102).is_empty());
    }

    #[test]
    fn the_repairs_own_echo_does_not_repeat_it() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(Object::Ag(1), AGF));
        let t = e.next_repair(0).unwrap();
        e.handle(10, sick(Object::Ag(1), AGF)); // the scrub re-read the damage
        e.handle(20, done(t, Outcome::Repaired));
        e.handle(30, sick(Object::Ag(1), AGF)); // a late echo
        assert!(drain(&mut e, 40).is_empty());
        // Well after the window, a new report is new damage.
        e.handle(10_000, sick(Object::Ag(1), AGF));
        assert_eq!(drain(&mut e, 10_000).len(), 1);
    }

    #[test]
    fn a_refused_repair_leaves_no_echo_window() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(inode(7), DIR));
        let t = e.next_repair(0).unwrap();
        assert!(
            e.handle(5, done(t, Outcome::Refused)).is_empty(),
            "refusal is no reason for a full scan"
        );
        e.handle(10, sick(inode(7), DIR));
        assert_eq!(drain(&mut e, 10).len(), 1, "the next report tries again");
    }

    #[test]
    fn echo_windows_stay_bounded() {
        let config = Config {
            max_pending: 8,
            storm_targets: usize::MAX,
            ..Config::default()
        };
        let mut e = Engine::new(config);
        for ino in 0..100 {
            e.handle(ino, sick(inode(ino), DIR));
            let t = e.next_repair(ino).unwrap();
            e.handle(ino, done(t, Outcome::Repaired));
            assert!(e.quiet.len() <= 8, "{} echo windows", e.quiet.len());
        }
    }

    #[test]
    fn a_failed_repair_is_not_retried_until_healthy_or_the_hold_ends() {
        let mut e = Engine::new(Config {
            full_scan_interval_ms: 0,
            ..Config::default()
        });
        e.handle(0, sick(inode(9), DIR));
        let t = e.next_repair(0).unwrap();
        assert_eq!(
            e.handle(1, done(t, Outcome::Failed)),
            vec![Action::StartFullScan(FullScanReason::RepairFailed)]
        );
        e.handle(2, Input::FullScanDone);
        // Well past the echo window, but the repair would fail again.
        e.handle(60_000, sick(inode(9), DIR));
        assert!(drain(&mut e, 60_000).is_empty());
        // Fine again (the scan fixed it), then newly damaged: repaired.
        e.handle(
            60_001,
            Input::Healthy {
                object: inode(9),
                mask: DIR,
            },
        );
        e.handle(60_002, sick(inode(9), DIR));
        assert_eq!(drain(&mut e, 60_002).len(), 1);
        // The hold ends by itself too.
        let t = Target {
            object: inode(9),
            scrub: ScrubType(15),
            bit: DIR,
            rebuild: false,
        };
        e.handle(60_003, done(t, Outcome::Failed));
        e.handle(60_004, Input::FullScanDone);
        e.handle(60_003 + 600_000, sick(inode(9), DIR));
        assert_eq!(drain(&mut e, 60_003 + 600_000).len(), 1);
    }

    #[test]
    fn reports_during_a_full_scan_queue_nothing() {
        let mut e = Engine::new(Config::default());
        assert_eq!(
            e.handle(0, Input::Lost { count: 3 }),
            vec![Action::StartFullScan(FullScanReason::EventsLost)]
        );
        e.handle(1, sick(inode(4), DIR));
        e.handle(1, sick(Object::Ag(0), AGF));
        assert!(drain(&mut e, 2).is_empty(), "the running scan covers these");
        e.handle(3, Input::FullScanDone);
        e.handle(4, sick(inode(4), DIR));
        assert_eq!(drain(&mut e, 4).len(), 1);
    }

    #[test]
    fn healthy_drops_queued_work() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(inode(5), DIR | 0x20));
        e.handle(
            1,
            Input::Healthy {
                object: inode(5),
                mask: DIR,
            },
        );
        let work = drain(&mut e, 2);
        assert_eq!(work.iter().map(|t| t.scrub.0).collect::<Vec<_>>(), vec![16]);
    }

    #[test]
    fn failure_escalates_once_and_drops_covered_work() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(inode(1), DIR));
        e.handle(0, sick(inode(2), DIR));
        let t = e.next_repair(0).unwrap();
        assert_eq!(
            e.handle(5, done(t, Outcome::Failed)),
            vec![Action::StartFullScan(FullScanReason::RepairFailed)]
        );
        assert_eq!(e.pending(), 0, "the full scan covers queued work");
        // While it runs, a repair that was already running fails too: no
        // second scan.
        let t = Target {
            object: inode(2),
            scrub: ScrubType(15),
            bit: DIR,
            rebuild: false,
        };
        e.running.insert(Key::from(&t));
        assert!(e.handle(7, done(t, Outcome::Failed)).is_empty());
    }

    #[test]
    fn full_scans_are_rate_limited_but_not_forgotten() {
        let cfg = Config {
            full_scan_interval_ms: 1000,
            ..Config::default()
        };
        let mut e = Engine::new(cfg);
        assert_eq!(e.handle(0, Input::Lost { count: 3 }).len(), 1);
        e.handle(10, Input::FullScanDone);
        assert!(e.handle(20, Input::Lost { count: 1 }).is_empty());
        assert_eq!(e.next_deadline(20), Some(1000));
        assert!(e.tick(999).is_empty());
        assert_eq!(
            e.tick(1000),
            vec![Action::StartFullScan(FullScanReason::EventsLost)]
        );
        assert_eq!(e.next_deadline(1000), None);
    }

    #[test]
    fn unmapped_bits_and_storms_escalate() {
        let mut e = Engine::new(Config::default());
        assert_eq!(
            e.handle(0, sick(Object::Ag(0), 0x400)),
            vec![Action::StartFullScan(FullScanReason::NoTargetedRepair)]
        );
        let mut e = Engine::new(Config {
            storm_targets: 10,
            ..Config::default()
        });
        let mut actions = vec![];
        for i in 0..11 {
            actions.extend(e.handle(i, sick(inode(i), DIR)));
        }
        assert_eq!(actions, vec![Action::StartFullScan(FullScanReason::Storm)]);
    }

    #[test]
    fn transient_errors_back_off_then_give_up() {
        let mut e = Engine::new(Config {
            retry_limit: 2,
            retry_backoff_ms: 100,
            ..Config::default()
        });
        e.handle(0, sick(inode(9), DIR));
        let t = e.next_repair(0).unwrap();
        e.handle(0, done(t, Outcome::Transient));
        assert_eq!(e.next_repair(50), None);
        assert_eq!(e.next_deadline(50), Some(100));
        let t = e.next_repair(100).unwrap();
        e.handle(100, done(t, Outcome::Transient));
        assert_eq!(e.next_deadline(100), Some(300));
        let t = e.next_repair(300).unwrap();
        assert_eq!(
            e.handle(300, done(t, Outcome::Transient)),
            vec![Action::StartFullScan(FullScanReason::RepairFailed)]
        );
    }

    #[test]
    fn shutdown_cancels_and_stops_everything() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(inode(1), DIR));
        e.handle(0, sick(inode(2), DIR));
        let t = e.next_repair(0).unwrap();
        e.handle(1, Input::Shutdown);
        assert_eq!(e.pending(), 0);
        assert!(e.handle(2, sick(inode(3), DIR)).is_empty());
        assert!(
            e.handle(3, done(t, Outcome::Failed)).is_empty(),
            "no full scan after shutdown"
        );
        assert!(e.handle(4, Input::Lost { count: 9 }).is_empty());
        assert_eq!(e.next_repair(5), None);
    }

    #[test]
    fn bad_media_rebuilds_even_inside_the_echo_window() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(Object::Ag(1), 0x40));
        let checked = e.next_repair(0).unwrap();
        assert!(!checked.rebuild);
        e.handle(1, done(checked, Outcome::NotNeeded));
        // An echo is absorbed; failed media under the same btree is not.
        e.handle(2, sick(Object::Ag(1), 0x40));
        assert_eq!(e.next_repair(2), None);
        e.handle(
            3,
            Input::BadMedia {
                object: Object::Ag(1),
                mask: 0x40 | 0x80,
            },
        );
        assert_eq!(
            drain(&mut e, 3)
                .iter()
                .map(|t| (t.scrub.0, t.rebuild))
                .collect::<Vec<_>>(),
            [(7, true), (8, true)]
        );
    }

    #[test]
    fn bad_media_turns_a_queued_check_into_a_rebuild() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(Object::Ag(0), 0x10));
        e.handle(
            0,
            Input::BadMedia {
                object: Object::Ag(0),
                mask: 0x10,
            },
        );
        let work = drain(&mut e, 0);
        assert_eq!(work.len(), 1);
        assert!(work[0].rebuild);
    }

    #[test]
    fn bad_media_of_unknown_owner_or_inode_chunks_asks_for_a_full_scan() {
        let mut e = Engine::new(Config::default());
        assert_eq!(
            e.handle(0, Input::BadMediaUnknownOwner),
            [Action::StartFullScan(FullScanReason::BadMediaUnknownOwner)]
        );
        let mut e = Engine::new(Config::default());
        assert_eq!(
            e.handle(
                0,
                Input::BadMedia {
                    object: Object::Ag(2),
                    mask: 0x400
                }
            ),
            [Action::StartFullScan(FullScanReason::NoTargetedRepair)]
        );
    }

    #[test]
    fn a_requested_full_scan_obeys_the_interval() {
        let mut e = Engine::new(Config::default());
        assert_eq!(
            e.handle(0, Input::FullScanRequested),
            [Action::StartFullScan(FullScanReason::Requested)]
        );
        assert!(e.full_scan_running());
        e.handle(1, Input::FullScanDone);
        assert!(e.handle(2, Input::FullScanRequested).is_empty());
        assert!(e.full_scan_deferred());
        assert_eq!(
            e.tick(600_000),
            [Action::StartFullScan(FullScanReason::Requested)]
        );
    }

    #[test]
    fn a_repair_that_finds_the_fs_shut_down_stops_everything() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(inode(1), DIR));
        e.handle(0, sick(inode(2), DIR));
        let t = e.next_repair(0).unwrap();
        assert!(e.handle(1, done(t, Outcome::ShutDown)).is_empty());
        assert!(e.is_shut_down());
        assert_eq!(e.next_repair(1), None);
        assert!(e.handle(2, Input::Lost { count: 9 }).is_empty());
    }

    /// A retry that falls due while the worker is busy with another
    /// target must not make the shell's timeout zero until it is free.
    #[test]
    fn a_due_retry_never_gives_a_deadline_in_the_past() {
        let mut e = Engine::new(Config::default());
        e.handle(0, sick(inode(1), DIR));
        e.handle(0, sick(inode(2), DIR));
        let first = e.next_repair(0).unwrap();
        e.handle(1, done(first, Outcome::Transient));
        assert_eq!(e.next_deadline(1), Some(101));
        // The worker took the other target; the retry falls due meanwhile.
        let second = e.next_repair(1).unwrap();
        for now in [101, 150, 10_000] {
            assert!(
                e.next_deadline(now).is_none_or(|d| d > now),
                "a past deadline at {now}"
            );
        }
        e.handle(10_000, done(second, Outcome::Repaired));
        assert_eq!(e.next_repair(10_000).map(|t| t.object), Some(inode(1)));
    }

    /// A deferred scan that cannot start while another runs gives no
    /// deadline either; and the interval arithmetic cannot overflow.
    #[test]
    fn a_deferred_scan_behind_a_running_one_waits_for_it() {
        let mut e = Engine::new(Config {
            full_scan_interval_ms: u64::MAX,
            ..Config::default()
        });
        assert_eq!(
            e.handle(0, Input::FullScanRequested),
            [Action::StartFullScan(FullScanReason::Requested)]
        );
        assert!(e.handle(5, Input::FullScanRequested).is_empty());
        assert!(
            e.full_scan_deferred(),
            "a request during a scan was dropped"
        );
        assert_eq!(e.next_deadline(u64::MAX - 1), None);
        e.handle(6, Input::FullScanDone);
        assert_eq!(e.next_deadline(7), Some(u64::MAX));
    }

    #[test]
    fn requests_during_a_scan_run_after_it_but_lost_events_do_not() {
        let mut e = Engine::new(Config::default());
        assert_eq!(
            e.handle(0, Input::Lost { count: 1 }),
            [Action::StartFullScan(FullScanReason::EventsLost)]
        );
        assert!(e.handle(10, Input::Lost { count: 500 }).is_empty());
        assert!(
            !e.full_scan_deferred(),
            "the scan's own flood would start the next scan"
        );
        assert!(e.handle(20, Input::BadMediaUnknownOwner).is_empty());
        assert!(e.full_scan_deferred());
        // Over the interval by the time the first ends: the deferred one
        // starts at once.
        assert_eq!(
            e.handle(700_000, Input::FullScanDone),
            [Action::StartFullScan(FullScanReason::BadMediaUnknownOwner)]
        );
    }

    #[test]
    fn only_transient_attempts_within_the_limit_will_be_retried() {
        let mut e = Engine::new(Config {
            retry_limit: 1,
            ..Config::default()
        });
        e.handle(0, sick(inode(9), DIR));
        let t = e.next_repair(0).unwrap();
        assert!(e.will_retry(&t, Outcome::Transient));
        assert!(!e.will_retry(&t, Outcome::Failed));
        assert!(!e.will_retry(&t, Outcome::Refused));
        e.handle(0, done(t, Outcome::Transient));
        let t = e.next_repair(100).unwrap();
        assert!(
            !e.will_retry(&t, Outcome::Transient),
            "the last try is final"
        );
    }

    /// Found by the invariants proptest: a transient failure used to
    /// re-queue its target even with the queue full.
    #[test]
    fn a_retry_never_overfills_the_queue() {
        let mut e = Engine::new(Config {
            max_pending: 2,
            ..Config::default()
        });
        e.handle(0, sick(inode(1), DIR));
        let t = e.next_repair(0).unwrap();
        e.handle(0, sick(inode(2), DIR));
        e.handle(0, sick(inode(3), DIR));
        assert_eq!(e.pending(), 2);
        assert!(!e.will_retry(&t, Outcome::Transient));
        assert_eq!(
            e.handle(1, done(t, Outcome::Transient)),
            [Action::StartFullScan(FullScanReason::QueueFull)]
        );
        assert!(e.pending() <= 2);
    }

    #[test]
    fn reasons_have_distinct_names() {
        let all = FullScanReason::ALL;
        let names: std::collections::BTreeSet<&str> = all.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn log_only_never_asks_for_work() {
        let mut e = Engine::new(Config {
            repair: false,
            ..Config::default()
        });
        assert!(e.handle(0, sick(Object::Ag(0), 0x400)).is_empty());
        assert!(e.handle(0, Input::Lost { count: 1 }).is_empty());
        assert_eq!(e.next_repair(0), None);
    }

    fn arb_object() -> impl Strategy<Value = Object> {
        prop_oneof![
            Just(Object::Fs),
            (0u32..4).prop_map(Object::Ag),
            (0u32..2).prop_map(Object::RtGroup),
            (0u64..6).prop_map(inode),
        ]
    }

    fn arb_input() -> impl Strategy<Value = Input> {
        prop_oneof![
            6 => (arb_object(), 0u32..0x800).prop_map(|(object, mask)| Input::Sick { object, mask }),
            2 => (arb_object(), 0u32..0x800).prop_map(|(object, mask)| Input::Healthy { object, mask }),
            1 => (arb_object(), 0u32..0x800).prop_map(|(object, mask)| Input::BadMedia { object, mask }),
            1 => (0u64..3).prop_map(|count| Input::Lost { count }),
            1 => Just(Input::FullScanDone),
            1 => Just(Input::Shutdown),
        ]
    }

    fn arb_outcome() -> impl Strategy<Value = Outcome> {
        prop_oneof![
            Just(Outcome::Repaired),
            Just(Outcome::NotNeeded),
            Just(Outcome::XrefFailed),
            Just(Outcome::Failed),
            Just(Outcome::Transient),
            Just(Outcome::Refused),
            Just(Outcome::ShutDown),
        ]
    }

    proptest! {
        /// For any event sequence, with repairs completing in any order and
        /// with any outcome, and the clock moving by any step: no target is
        /// queued or running twice at once, the queue stays within its
        /// bound, nothing is issued after shutdown, and the shell is never
        /// given a deadline in the past.
        #[test]
        fn invariants_hold(steps in proptest::collection::vec((arb_input(), 0u8..4, proptest::option::of((any::<prop::sample::Index>(), arb_outcome())), 0u64..300), 1..200)) {
            let cfg = Config { max_pending: 16, storm_targets: 40, cooldown_ms: 5, ..Config::default() };
            let mut e = Engine::new(cfg);
            let mut running: Vec<Target> = vec![];
            let mut now = 0;
            for (input, pulls, finish, step) in steps {
                now += step;
                let shut_before = e.is_shut_down();
                let actions = e.handle(now, input);
                if shut_before {
                    prop_assert!(actions.is_empty());
                }
                if let Some((index, outcome)) = finish
                    && !running.is_empty()
                {
                    let t = running.remove(index.index(running.len()));
                    let actions = e.handle(now, done(t, outcome));
                    if shut_before {
                        prop_assert!(actions.is_empty());
                    }
                }
                for _ in 0..pulls {
                    if let Some(t) = e.next_repair(now) {
                        prop_assert!(!e.is_shut_down());
                        prop_assert!(!running.iter().any(|r| Key::from(r) == Key::from(&t)), "{:?} issued twice at once", t);
                        running.push(t);
                    }
                }
                if let Some(due) = e.next_deadline(now) {
                    prop_assert!(due > now, "deadline {} at {}", due, now);
                }
                prop_assert!(e.pending() <= 16);
                prop_assert_eq!(e.running(), running.len());
            }
        }
    }
}
