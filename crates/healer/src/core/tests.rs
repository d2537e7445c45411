use super::*;
use proptest::prelude::*;
use xfs_report::RepairOutcome;

const AGF: u32 = 1 << 1;
const AGI: u32 = 1 << 3;
const DATAFORK: u32 = 1 << 1;

fn record(domain: u32, kind: u32, words: &[(usize, u64, usize)]) -> Record {
    let mut raw = [0u8; RECORD_LEN];
    raw[0..4].copy_from_slice(&domain.to_ne_bytes());
    raw[4..8].copy_from_slice(&kind.to_ne_bytes());
    for &(at, value, len) in words {
        raw[at..at + len].copy_from_slice(&value.to_ne_bytes()[..len]);
    }
    xfs_events::decode(&raw)
}

fn running() -> Record {
    record(0, 0, &[])
}
fn lost(count: u64) -> Record {
    record(0, 1, &[(16, count, 8)])
}
fn shutdown() -> Record {
    record(0, 6, &[(16, 1, 4)])
}
fn ag(verdict: u32, agno: u32, mask: u32) -> Record {
    record(2, verdict, &[(16, mask.into(), 4), (20, agno.into(), 4)])
}
fn sick_ag(agno: u32, mask: u32) -> Record {
    ag(3, agno, mask)
}
fn healthy_ag(agno: u32, mask: u32) -> Record {
    ag(5, agno, mask)
}
fn sick_inode(ino: u64, mask: u32) -> Record {
    record(3, 3, &[(16, mask.into(), 4), (20, 7, 4), (24, ino, 8)])
}
fn media(daddr: u64, bbcount: u64) -> Record {
    record(5, 7, &[(16, daddr, 8), (24, bbcount, 8)])
}

fn setup() -> Setup {
    Setup {
        mount_arg: b"/mnt".to_vec(),
        uuid: "0b5ab1e5-0000-4000-8000-00000000beef".into(),
        device: "/dev/vdb".into(),
        repair: true,
        quiet: false,
        paths: true,
        policy: xfs_policy::Config::default(),
        hook_classes: vec![HookClass::Event(Kind::Sick), HookClass::RepairFailed],
        hook_interval_ms: 60_000,
        metrics_interval_ms: Some(1_000),
        started_usec: 1,
    }
}

fn at(ms: u64) -> Now {
    Now {
        ms,
        usec: ms * 1000,
    }
}

/// A batch: its records, then its end.
fn batch(core: &mut Core, now: Now, records: Vec<Record>) -> Vec<Effect> {
    let mut effects = core.step(now, Input::Records(records));
    effects.extend(core.step(now, Input::BatchEnd { fdinfo_lost: None }));
    effects
}

fn repairs(effects: &[Effect]) -> Vec<Target> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Repair(t) => Some(*t),
            _ => None,
        })
        .collect()
}

fn emitted(effects: &[Effect]) -> Vec<(&Report, bool, Option<u64>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Emit { report, log, hook } => Some((report, *log, *hook)),
            _ => None,
        })
        .collect()
}

fn path_tokens(effects: &[Effect]) -> Vec<u64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LookupPaths { token, .. } => Some(*token),
            _ => None,
        })
        .collect()
}

fn done(target: Target, outcome: Outcome) -> Input {
    let words = match outcome {
        Outcome::Repaired => RepairOutcome::Success,
        Outcome::NotNeeded => RepairOutcome::NotNeeded,
        Outcome::XrefFailed => RepairOutcome::CrossReferenceFailed,
        _ => RepairOutcome::Failed,
    };
    Input::RepairDone {
        target,
        outcome,
        text: RepairText::Reference(words),
    }
}

#[test]
fn an_inodes_repair_waits_briefly_for_its_path_and_the_lines_stay_in_order() {
    let mut core = Core::new(setup());
    let effects = batch(
        &mut core,
        at(10),
        vec![sick_inode(131, DATAFORK), sick_ag(1, AGF)],
    );
    // The inode's repair would lock what its path walk reads: it waits
    // for the walk, and the lines wait for the inode's path.
    assert!(repairs(&effects).is_empty());
    assert_eq!(core.next_deadline(10), Some(10 + PATH_FIRST_MS));
    let tokens = path_tokens(&effects);
    assert_eq!(tokens.len(), 1);
    assert!(emitted(&effects).is_empty(), "{effects:?}");
    let effects = core.step(
        at(20),
        Input::Paths {
            token: tokens[0],
            paths: Ok(vec![b"/mnt/a".to_vec(), b"/mnt/b".to_vec()]),
        },
    );
    let lines: Vec<&str> = emitted(&effects)
        .iter()
        .map(|(r, ..)| r.message.as_str())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("/mnt/a "), "{lines:?}");
    assert!(lines[1].starts_with("/mnt agno 0x1 "), "{lines:?}");
    assert!(
        effects
            .iter()
            .any(|e| *e == Effect::Say("/mnt/a: also linked as /mnt/b".into()))
    );
    assert_eq!(emitted(&effects)[0].0.path.as_deref(), Some("/mnt/a"));
    let handed = repairs(&effects);
    assert_eq!(handed.len(), 1, "the path is in: the repair goes");
    assert!(matches!(handed[0].object, Object::Inode { ino: 131, .. }));
}

fn repairs_ahead(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| **e == Effect::RepairAhead)
        .count()
}

#[test]
fn a_repair_held_for_its_walk_is_announced_once_so_its_worker_gets_ready() {
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![sick_inode(131, DATAFORK)]);
    assert!(repairs(&effects).is_empty());
    assert_eq!(repairs_ahead(&effects), 1, "{effects:?}");
    let token = path_tokens(&effects)[0];
    let effects = core.step(at(11), Input::Tick);
    assert_eq!(repairs_ahead(&effects), 0, "said once: {effects:?}");
    let effects = core.step(
        at(20),
        Input::Paths {
            token,
            paths: Ok(vec![b"/mnt/a".to_vec()]),
        },
    );
    let target = repairs(&effects)[0];
    assert_eq!(repairs_ahead(&effects), 0);
    core.step(at(30), done(target, Outcome::Repaired));
    // The next held repair is announced again.
    let effects = batch(&mut core, at(20_000), vec![sick_inode(132, DATAFORK)]);
    assert_eq!(repairs_ahead(&effects), 1, "{effects:?}");
    // A healer that only reports has no repair to announce.
    let mut logging = Core::new(Setup {
        repair: false,
        ..setup()
    });
    let effects = batch(&mut logging, at(10), vec![sick_inode(131, DATAFORK)]);
    assert_eq!(path_tokens(&effects).len(), 1);
    assert_eq!(repairs_ahead(&effects), 0, "{effects:?}");
}

/// One inode report, its path answered; returns the repair handed out.
fn sick_inode_with_path(core: &mut Core, mask: u32, path: &[u8]) -> Target {
    let effects = batch(core, at(10), vec![sick_inode(131, mask)]);
    let token = path_tokens(&effects)[0];
    let effects = core.step(
        at(20),
        Input::Paths {
            token,
            paths: Ok(vec![path.to_vec()]),
        },
    );
    repairs(&effects)[0]
}

#[test]
fn a_repairs_outcome_line_has_its_reports_path_without_a_second_walk() {
    let mut core = Core::new(setup());
    let target = sick_inode_with_path(&mut core, DATAFORK, b"/mnt/a");
    let effects = core.step(at(30), done(target, Outcome::Repaired));
    assert!(path_tokens(&effects).is_empty(), "{effects:?}");
    let out = emitted(&effects);
    assert_eq!(out.len(), 1, "{effects:?}");
    assert_eq!(out[0].0.message, "/mnt/a datafork: Repairs successful.");
    assert_eq!(out[0].0.path.as_deref(), Some("/mnt/a"));
}

#[test]
fn a_repair_that_may_move_the_inode_looks_its_path_up_again() {
    const PARENT: u32 = 1 << 7;
    let mut core = Core::new(setup());
    let target = sick_inode_with_path(&mut core, PARENT, b"/mnt/a");
    let effects = core.step(at(30), done(target, Outcome::Repaired));
    let tokens = path_tokens(&effects);
    assert_eq!(tokens.len(), 1, "{effects:?}");
    assert!(emitted(&effects).is_empty());
    let effects = core.step(
        at(40),
        Input::Paths {
            token: tokens[0],
            paths: Ok(vec![b"/mnt/lost+found/131".to_vec()]),
        },
    );
    assert_eq!(
        emitted(&effects)[0].0.path.as_deref(),
        Some("/mnt/lost+found/131")
    );
}

#[test]
fn a_slow_path_lookup_holds_the_repair_back_only_briefly() {
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![sick_inode(131, DATAFORK)]);
    assert!(repairs(&effects).is_empty());
    let token = path_tokens(&effects)[0];
    let effects = core.step(at(10 + PATH_FIRST_MS - 1), Input::Tick);
    assert!(repairs(&effects).is_empty());
    let effects = core.step(at(10 + PATH_FIRST_MS), Input::Tick);
    assert_eq!(
        repairs(&effects).len(),
        1,
        "the lookup is late: the repair goes"
    );
    // Its line still comes once the path does.
    let effects = core.step(
        at(500),
        Input::Paths {
            token,
            paths: Ok(vec![b"/mnt/a".to_vec()]),
        },
    );
    let out = emitted(&effects);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.path.as_deref(), Some("/mnt/a"));
}

#[test]
fn a_media_lookup_does_not_hold_back_another_objects_repair() {
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![media(64, 8), sick_ag(2, AGI)]);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LookupOwners { .. }))
    );
    let handed = repairs(&effects);
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].object, Object::Ag(2));
    // The media line is out at once; its owner lines wait, and the
    // next line behind them.
    assert_eq!(emitted(&effects).len(), 1);
}

#[test]
fn quiet_and_the_limiter_decide_only_the_line() {
    let mut core = Core::new(Setup {
        quiet: true,
        ..setup()
    });
    let effects = batch(&mut core, at(10), vec![sick_ag(1, AGF)]);
    let out = emitted(&effects);
    assert_eq!(out.len(), 1);
    assert!(!out[0].1, "quiet: no line");
    assert_eq!(out[0].2, Some(0), "quiet: the hook still runs");
    assert_eq!(core.status().last_events.len(), 1, "and the API has it");

    // A repeat within the interval: no line, no lookup, still told.
    let mut core = Core::new(setup());
    batch(&mut core, at(10), vec![sick_ag(1, AGF)]);
    let effects = batch(&mut core, at(20), vec![sick_ag(1, AGF)]);
    let out = emitted(&effects);
    assert_eq!(out.len(), 1);
    assert!(!out[0].1);
    assert_eq!(core.status().last_events.len(), 2);
}

#[test]
fn lost_events_are_told_once_whichever_source_says_first() {
    let mut core = Core::new(setup());
    core.step(at(1), Input::Records(vec![running()]));
    let first = core.step(
        at(1),
        Input::BatchEnd {
            fdinfo_lost: Some(5),
        },
    );
    core.step(at(2), Input::Records(vec![lost(5)]));
    let second = core.step(
        at(2),
        Input::BatchEnd {
            fdinfo_lost: Some(5),
        },
    );
    assert_eq!(core.status().counters.lost_events, 5);
    let lost_lines = |e: &[Effect]| {
        emitted(e)
            .iter()
            .filter(|(r, ..)| r.kind == Kind::Lost)
            .count()
    };
    assert_eq!(lost_lines(&first), 1);
    assert_eq!(lost_lines(&second), 0);
}

#[test]
fn a_stop_waits_for_the_running_repair_then_exits() {
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![sick_ag(1, AGF), sick_ag(2, AGF)]);
    let target = repairs(&effects)[0];
    let effects = core.step(at(20), Input::Signal(15));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Exit(_))));
    let effects = core.step(at(30), done(target, Outcome::Repaired));
    assert!(repairs(&effects).is_empty(), "nothing new once stopping");
    assert_eq!(effects.last(), Some(&Effect::Exit(Stopped::Signal(15))));
    // Its outcome was said before the exit.
    assert!(
        emitted(&effects)
            .iter()
            .any(|(r, ..)| r.kind == Kind::Repair)
    );
}

#[test]
fn a_stop_stops_the_full_scan_and_gives_up_after_its_wait() {
    let mut core = Core::new(Setup {
        metrics_interval_ms: None,
        ..setup()
    });
    let effects = core.step(at(10), Input::FullScanRequested);
    assert!(effects.contains(&Effect::StartFullScan(FullScanReason::Requested)));
    core.step(at(11), Input::ScanStarted(Ok(())));
    let effects = core.step(at(20), Input::Signal(2));
    assert!(effects.contains(&Effect::StopFullScan));
    assert_eq!(core.next_deadline(21), Some(20 + STOP_WAIT_MS));
    let effects = core.step(at(20 + STOP_WAIT_MS), Input::Tick);
    assert_eq!(effects.last(), Some(&Effect::Exit(Stopped::Signal(2))));
    assert!(core.step(at(20 + STOP_WAIT_MS + 1), Input::Tick).is_empty());
}

#[test]
fn the_end_of_the_stream_waits_for_lookups_a_bounded_time() {
    let mut core = Core::new(setup());
    batch(&mut core, at(10), vec![sick_inode(131, DATAFORK)]);
    let effects = core.step(at(11), Input::Eof { truncated: 0 });
    assert!(!effects.iter().any(|e| matches!(e, Effect::Exit(_))));
    let effects = core.step(at(11 + UNMOUNT_WAIT_MS), Input::Tick);
    // The line goes without its path, then the exit.
    assert_eq!(emitted(&effects).len(), 1);
    assert_eq!(effects.last(), Some(&Effect::Exit(Stopped::Unmounted)));
}

#[test]
fn metrics_are_written_at_most_once_an_interval_and_retried() {
    let mut core = Core::new(setup());
    let writes = |e: &[Effect]| {
        e.iter()
            .filter(|e| matches!(e, Effect::WriteMetrics(_)))
            .count()
    };
    assert_eq!(
        writes(&core.step(at(0), Input::Start { interrupted: false })),
        1
    );
    assert_eq!(writes(&batch(&mut core, at(10), vec![running()])), 0);
    assert_eq!(core.next_deadline(10), Some(1_000));
    assert_eq!(writes(&core.step(at(1_000), Input::Tick)), 1);
    let failed = core.step(at(1_001), Input::MetricsWritten(Err("full".into())));
    assert!(
        failed
            .iter()
            .any(|e| matches!(e, Effect::Warn(w) if w.ends_with("metrics: full")))
    );
    let again = core.step(at(1_002), Input::MetricsWritten(Err("full".into())));
    assert!(
        !again.iter().any(|e| matches!(e, Effect::Warn(_))),
        "said once"
    );
    assert_eq!(writes(&core.step(at(2_000), Input::Tick)), 1, "retried");
}

#[test]
fn lookups_and_lines_stay_bounded() {
    let mut core = Core::new(setup());
    let records: Vec<Record> = (0..(MAX_LOOKUPS as u64 + 10))
        .map(|ino| sick_inode(1000 + ino, DATAFORK))
        .collect();
    let effects = batch(&mut core, at(10), records);
    assert_eq!(path_tokens(&effects).len(), MAX_LOOKUPS);
    assert!(core.queue.len() <= MAX_QUEUED);
}

#[test]
fn a_shut_down_filesystem_gets_no_more_repairs_and_the_patrol_stops() {
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![sick_ag(1, AGF), shutdown()]);
    assert!(repairs(&effects).is_empty());
    assert!(effects.contains(&Effect::StopPatrol));
    let effects = batch(&mut core, at(20), vec![sick_ag(3, AGF)]);
    assert!(repairs(&effects).is_empty());
    assert!(matches!(
        core.step(at(30), Input::FullScanRequested).last(),
        Some(Effect::FullScanAnswer(Err(_)))
    ));
}

#[test]
fn a_full_scan_outcome_reaches_every_sink() {
    let mut core = Core::new(setup());
    core.step(at(10), Input::FullScanRequested);
    core.step(at(11), Input::ScanStarted(Ok(())));
    let effects = core.step(at(12), Input::ScanEnded(ScanEnd::Exited(Some(8))));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Warn(w) if w == "/mnt: xfs_scrub exited with status 8."))
    );
    let out = emitted(&effects);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.kind, Kind::FullScan);
    assert_eq!(out[0].0.succeeded, Some(false));
    assert_eq!(out[0].0.reason, Some(FullScanReason::Requested));
    assert!(!core.status().full_scan_running);
}

/// What the model run does next.
#[derive(Debug, Clone)]
enum Op {
    /// A batch of reports: (object 0..4, sick or healthy, bit).
    Reports(Vec<(u8, bool, bool)>),
    Shutdown,
    /// The kernel drops this many events (told by a later LOST record
    /// and, at once, by fdinfo).
    Lose(u8),
    DeliverLost,
    /// The running repair ends so.
    Complete(u8),
    /// The oldest outstanding lookup is answered.
    AnswerLookup,
    ScanStarts(bool),
    ScanEnds,
    RequestScan,
    /// A test event of the class at this index of `HookClass::ALL`.
    TestEvent(u8),
    Signal,
    Eof,
    /// Time passes; the deadline's tick.
    Wait(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec((0u8..5, any::<bool>(), any::<bool>()), 1..6).prop_map(Op::Reports),
        1 => Just(Op::Shutdown),
        1 => (1u8..20).prop_map(Op::Lose),
        1 => Just(Op::DeliverLost),
        4 => (0u8..7).prop_map(Op::Complete),
        3 => Just(Op::AnswerLookup),
        1 => any::<bool>().prop_map(Op::ScanStarts),
        1 => Just(Op::ScanEnds),
        1 => Just(Op::RequestScan),
        1 => any::<u8>().prop_map(Op::TestEvent),
        1 => Just(Op::Signal),
        1 => Just(Op::Eof),
        2 => (0u16..30_000).prop_map(Op::Wait),
    ]
}

fn outcome(n: u8) -> Outcome {
    Outcome::ALL[usize::from(n) % Outcome::ALL.len()]
}

/// What the model knows, to hold the core to.
#[derive(Default)]
struct Model {
    now: u64,
    running: Option<Target>,
    lookups: VecDeque<Input>,
    scan: Option<bool>, // None: no scan; Some(started)
    deferred: bool,
    shut_down: bool,
    stopping: bool,
    exited: bool,
    lost_total: u64,
    /// The total fdinfo showed the core last.
    lost_fdinfo: u64,
    lost_undelivered: u64,
    lost_in_records: u64,
    completions: u64,
    succeeded: u64,
    shutdown_answers: u64,
    kernel_reports: u64,
    reports_emitted: u64,
    tests_sent: u64,
    tests_emitted: u64,
    tests_answered: u64,
    last_seq: u64,
}

impl Model {
    fn check(&mut self, core: &Core, effects: Vec<Effect>) -> Result<(), TestCaseError> {
        for effect in effects {
            prop_assert!(!self.exited, "{effect:?} after the exit");
            if let Effect::Emit { report, .. } = &effect {
                check_schema(core, report).map_err(TestCaseError::fail)?;
                prop_assert_eq!(report.seq, self.last_seq + 1, "seq out of order");
                self.last_seq = report.seq;
            }
            match effect {
                Effect::Repair(target) => {
                    prop_assert!(self.running.is_none(), "two repairs at once");
                    prop_assert!(!self.shut_down, "a repair after shutdown");
                    prop_assert!(!self.stopping, "a repair while stopping");
                    self.running = Some(target);
                }
                Effect::StartFullScan(_) => {
                    prop_assert!(self.scan.is_none(), "two full scans at once");
                    prop_assert!(!self.shut_down && !self.stopping);
                    self.scan = Some(false);
                    self.deferred = false;
                }
                Effect::LookupPaths { token, .. } => self.lookups.push_back(Input::Paths {
                    token,
                    paths: Err(NoPath::Gone),
                }),
                Effect::LookupOwners { token, .. } => self.lookups.push_back(Input::Owners {
                    token,
                    owners: Err(Errno::IO),
                }),
                Effect::Emit { report, log, .. } if report.test => {
                    prop_assert!(log, "a test event without its line");
                    prop_assert_eq!(
                        self.tests_emitted,
                        self.tests_answered,
                        "two tests unanswered"
                    );
                    self.tests_emitted += 1;
                }
                Effect::TestEventAnswer(_) => {
                    self.tests_answered += 1;
                    prop_assert_eq!(
                        self.tests_answered,
                        self.tests_emitted,
                        "answered before emitted"
                    );
                }
                Effect::Emit { report, .. }
                    if !matches!(report.kind, Kind::Repair | Kind::FullScan | Kind::Lost) =>
                {
                    self.reports_emitted += 1;
                }
                Effect::FullScanAnswer(Ok(answer)) if answer.deferred => self.deferred = true,
                Effect::Exit(_) => self.exited = true,
                _ => {}
            }
        }
        prop_assert!(self.lookups.len() <= MAX_LOOKUPS);
        prop_assert!(core.queue.len() <= MAX_QUEUED + 64);
        let c = &core.status().counters;
        prop_assert_eq!(c.lost_events, self.lost_in_records.max(self.lost_fdinfo));
        prop_assert_eq!(c.repairs_succeeded, self.succeeded);
        prop_assert_eq!(
            c.repairs_succeeded + c.repairs_failed + c.repairs_retried + c.repairs_refused,
            self.completions - self.shutdown_answers
        );
        // Every test taken is emitted and answered at once, and counted
        // in its own counter only (the real ones are held to above).
        prop_assert_eq!(self.tests_answered, self.tests_sent);
        prop_assert_eq!(c.test_events, self.tests_sent);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random streams, completion orders and outcomes, signals and the
    /// end of the stream at any point, against a model.
    #[test]
    fn the_core_keeps_its_promises(ops in prop::collection::vec(op(), 1..120)) {
        let mut core = Core::new(setup());
        let mut model = Model::default();
        let effects = core.step(at(0), Input::Start { interrupted: false });
        model.check(&core, effects)?;
        for op in ops {
            if model.exited {
                break;
            }
            model.now += 1;
            let now = at(model.now);
            let effects = match op {
                Op::Reports(reports) => {
                    let records: Vec<Record> = reports
                        .iter()
                        .map(|&(object, sick, bit)| {
                            let mask = if bit { AGF } else { AGI };
                            match (object, sick) {
                                (0..=2, true) => sick_ag(object.into(), mask),
                                (0..=2, false) => healthy_ag(object.into(), mask),
                                _ => sick_inode(100 + u64::from(object), DATAFORK),
                            }
                        })
                        .collect();
                    model.kernel_reports += records.len() as u64;
                    model.lost_fdinfo = model.lost_total;
                    let mut effects = core.step(now, Input::Records(records));
                    effects.extend(core.step(now, Input::BatchEnd {
                        fdinfo_lost: Some(model.lost_total),
                    }));
                    effects
                }
                Op::Shutdown => {
                    model.shut_down = true;
                    model.kernel_reports += 1;
                    let mut effects = core.step(now, Input::Records(vec![shutdown()]));
                    effects.extend(core.step(now, Input::BatchEnd { fdinfo_lost: None }));
                    effects
                }
                Op::Lose(n) => {
                    model.lost_total += u64::from(n);
                    model.lost_undelivered += u64::from(n);
                    continue;
                }
                Op::DeliverLost => {
                    if model.lost_undelivered == 0 {
                        continue;
                    }
                    let count = std::mem::take(&mut model.lost_undelivered);
                    model.lost_in_records += count;
                    let mut effects = core.step(now, Input::Records(vec![lost(count)]));
                    effects.extend(core.step(now, Input::BatchEnd { fdinfo_lost: None }));
                    effects
                }
                Op::Complete(n) => {
                    let Some(target) = model.running.take() else { continue };
                    let outcome = outcome(n);
                    model.completions += 1;
                    match outcome {
                        Outcome::Repaired | Outcome::NotNeeded => model.succeeded += 1,
                        // The kernel said the filesystem is shut down: as
                        // good as the shutdown event, which may come later.
                        Outcome::ShutDown => {
                            model.shutdown_answers += 1;
                            model.shut_down = true;
                        }
                        _ => {}
                    }
                    core.step(now, done(target, outcome))
                }
                Op::AnswerLookup => {
                    let Some(answer) = model.lookups.pop_front() else { continue };
                    core.step(now, answer)
                }
                Op::ScanStarts(ok) => {
                    if model.scan != Some(false) {
                        continue;
                    }
                    if ok {
                        model.scan = Some(true);
                        core.step(now, Input::ScanStarted(Ok(())))
                    } else {
                        model.scan = None;
                        core.step(now, Input::ScanStarted(Err("no".into())))
                    }
                }
                Op::ScanEnds => {
                    if model.scan != Some(true) {
                        continue;
                    }
                    model.scan = None;
                    core.step(now, Input::ScanEnded(ScanEnd::Exited(Some(0))))
                }
                Op::RequestScan => core.step(now, Input::FullScanRequested),
                Op::TestEvent(n) => {
                    model.tests_sent += 1;
                    let class = HookClass::ALL[usize::from(n) % HookClass::ALL.len()];
                    core.step(now, Input::TestEvent { class })
                }
                Op::Signal => {
                    model.stopping = true;
                    core.step(now, Input::Signal(15))
                }
                Op::Eof => {
                    model.stopping = true;
                    core.step(now, Input::Eof { truncated: 0 })
                }
                Op::Wait(ms) => {
                    model.now += u64::from(ms);
                    core.step(at(model.now), Input::Tick)
                }
            };
            model.check(&core, effects)?;
            if let Some(due) = core.next_deadline(model.now) {
                prop_assert!(due >= model.now, "a deadline in the past");
            }
        }
        // Drain: every lookup answered, the repair and scan ended, then
        // the stream ends; every report must have been emitted.
        while let Some(answer) = model.lookups.pop_front() {
            model.now += 1;
            let effects = core.step(at(model.now), answer);
            model.check(&core, effects)?;
        }
        if model.scan == Some(false) {
            model.now += 1;
            model.scan = Some(true);
            let effects = core.step(at(model.now), Input::ScanStarted(Ok(())));
            model.check(&core, effects)?;
        }
        if model.scan == Some(true) {
            model.now += 1;
            model.scan = None;
            let effects = core.step(at(model.now), Input::ScanEnded(ScanEnd::Exited(Some(0))));
            model.check(&core, effects)?;
        }
        // A scan asked for while one ran is run once the interval allows.
        model.now += xfs_policy::Config::default().full_scan_interval_ms;
        let effects = core.step(at(model.now), Input::Tick);
        model.check(&core, effects)?;
        let free = !model.shut_down && !model.stopping;
        prop_assert!(!(model.deferred && free), "a deferred full scan was dropped");
        if !model.exited {
            model.now += 1;
            let effects = core.step(at(model.now), Input::Eof { truncated: 0 });
            model.check(&core, effects)?;
            model.now += STOP_WAIT_MS;
            let effects = core.step(at(model.now), Input::Tick);
            model.check(&core, effects)?;
        }
        prop_assert!(model.exited, "no exit after the end of the stream");
        prop_assert_eq!(model.reports_emitted, model.kernel_reports);
    }
}

#[test]
fn an_unchanged_metrics_file_is_still_rewritten_every_minute() {
    let mut core = Core::new(setup());
    core.step(at(0), Input::Start { interrupted: false });
    assert_eq!(core.next_deadline(5), Some(METRICS_REFRESH_MS));
    let effects = core.step(at(METRICS_REFRESH_MS), Input::Tick);
    let text = effects.iter().find_map(|e| match e {
        Effect::WriteMetrics(text) => Some(text.clone()),
        _ => None,
    });
    let text = text.expect("rewritten");
    assert!(
        text.contains("xfs_healer_metrics_timestamp_seconds{mountpoint=\"/mnt\",uuid=\"0b5ab1e5-0000-4000-8000-00000000beef\"} 60\n"),
        "{text}"
    );
    assert!(text.contains(
        "xfs_healer_up{mountpoint=\"/mnt\",uuid=\"0b5ab1e5-0000-4000-8000-00000000beef\"} 1\n"
    ));
    let last = core.last_metrics(at(61_000)).expect("a metrics file");
    assert!(last.contains(
        "xfs_healer_up{mountpoint=\"/mnt\",uuid=\"0b5ab1e5-0000-4000-8000-00000000beef\"} 0\n"
    ));
}

#[test]
fn hooks_are_decided_in_the_order_reports_are_told() {
    // The first report waits for its path; the repeat behind it (no line,
    // so no lookup) must not take the hook's one run per interval.
    let mut core = Core::new(setup());
    let effects = batch(
        &mut core,
        at(10),
        vec![sick_inode(131, DATAFORK), sick_inode(131, DATAFORK)],
    );
    assert!(emitted(&effects).is_empty());
    let token = path_tokens(&effects)[0];
    let effects = core.step(
        at(20),
        Input::Paths {
            token,
            paths: Ok(vec![b"/mnt/f0".to_vec()]),
        },
    );
    let out = emitted(&effects);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].0.path.as_deref(), Some("/mnt/f0"));
    assert_eq!(out[0].2, Some(0), "the first report runs the hook");
    assert_eq!(out[1].2, None, "the repeat is rate limited");
}

#[test]
fn a_repairs_echo_is_folded_into_its_outcome_line() {
    let suppressed_lines = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| matches!(e, Effect::Say(l) if l.contains("were suppressed")))
            .count()
    };
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![sick_ag(1, AGF)]);
    let target = repairs(&effects)[0];
    assert!(emitted(&effects)[0].1, "the first report has its line");
    // The repair's own scrub reports it again, and so does a reader long
    // after the repeat interval: no line, no count of held-back lines.
    for ms in [20, 30_000] {
        let effects = batch(&mut core, at(ms), vec![sick_ag(1, AGF)]);
        let out = emitted(&effects);
        assert_eq!(out.len(), 1, "the API and hooks still have it");
        assert!(!out[0].1, "no line for an echo at {ms} ms");
    }
    // Another structure of the same group is news.
    let effects = batch(&mut core, at(30_010), vec![sick_ag(1, AGI)]);
    assert!(emitted(&effects)[0].1);
    // The scrub's echo can be read after the repair's completion, before
    // its HEALTHY.
    let mut effects = core.step(at(30_020), done(target, Outcome::Repaired));
    effects.extend(batch(
        &mut core,
        at(30_030),
        vec![sick_ag(1, AGF), healthy_ag(1, AGF)],
    ));
    let late: Vec<_> = emitted(&effects)
        .into_iter()
        .filter(|(r, ..)| r.kind == Kind::Sick)
        .collect();
    assert_eq!(late.len(), 1);
    assert!(!late[0].1, "no line for the late echo");
    effects.extend(core.step(at(90_000), Input::Tick));
    assert_eq!(suppressed_lines(&effects), 0);
    assert!(
        emitted(&effects)
            .iter()
            .any(|(r, log, _)| r.kind == Kind::Repair && *log)
    );
    // Once repaired, a new report of it is a new fault with its line.
    let effects = batch(&mut core, at(200_000), vec![sick_ag(1, AGF)]);
    assert!(emitted(&effects)[0].1);
}

#[test]
fn the_healthy_report_a_repair_causes_is_folded_into_its_outcome_line() {
    let told = |effects: &[Effect]| -> Vec<(Kind, bool)> {
        emitted(effects)
            .into_iter()
            .map(|(r, log, _)| (r.kind, log))
            .collect()
    };
    let mut core = Core::new(setup());
    // One repair at a time: group 1's runs, group 2's waits.
    let effects = batch(&mut core, at(10), vec![sick_ag(1, AGF), sick_ag(2, AGF)]);
    let running = repairs(&effects);
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].object, Object::Ag(1));
    // The kernel marks what the repair fixed healthy during its ioctl.
    let effects = batch(&mut core, at(20), vec![healthy_ag(1, AGF)]);
    assert_eq!(
        told(&effects),
        [(Kind::Healthy, false)],
        "the API and hooks still have it"
    );
    // Someone else fixed group 2 (xfs_scrub, say): that is news, and its
    // waiting repair is dropped.
    let effects = batch(&mut core, at(30), vec![healthy_ag(2, AGF)]);
    assert_eq!(told(&effects), [(Kind::Healthy, true)]);
    let effects = core.step(at(40), done(running[0], Outcome::Repaired));
    assert!(repairs(&effects).is_empty(), "group 2's repair was dropped");
    assert_eq!(told(&effects), [(Kind::Repair, true)]);
    // Read just after the repair: still its own; long after: news.
    let effects = batch(&mut core, at(50), vec![healthy_ag(1, AGF)]);
    assert_eq!(told(&effects), [(Kind::Healthy, false)]);
    let effects = batch(&mut core, at(100_000), vec![healthy_ag(1, AGF)]);
    assert_eq!(told(&effects), [(Kind::Healthy, true)]);
    // A repair that failed fixed nothing: a HEALTHY after it is news.
    let effects = batch(&mut core, at(100_010), vec![sick_ag(3, AGF)]);
    let failed = repairs(&effects)[0];
    let effects = core.step(at(100_020), done(failed, Outcome::Failed));
    assert!(told(&effects).contains(&(Kind::Repair, true)));
    let effects = batch(&mut core, at(100_030), vec![healthy_ag(3, AGF)]);
    assert_eq!(told(&effects), [(Kind::Healthy, true)]);
}

fn test_event(core: &mut Core, now: Now, class: HookClass) -> Vec<Effect> {
    core.step(now, Input::TestEvent { class })
}

/// A test event goes to every sink at once, marked, and is answered
/// after it; nothing is repaired, looked up or counted but the test.
#[test]
fn a_test_event_reaches_every_sink_and_touches_nothing_else() {
    let mut core = Core::new(Setup {
        quiet: true,
        ..setup()
    });
    core.step(at(0), Input::Start { interrupted: false });
    let before = core.status().counters;
    let effects = test_event(&mut core, at(10), HookClass::Event(Kind::Sick));
    let out = emitted(&effects);
    assert_eq!(out.len(), 1, "{effects:?}");
    let (report, log, hook) = out[0];
    assert!(report.test && report.kind == Kind::Sick && report.object.is_none());
    assert_eq!(
        report.message,
        "/mnt: test event (sick) from the status API; this is only a test"
    );
    assert!(log, "a test has its line even with --quiet");
    assert_eq!(hook, Some(0));
    let answer = effects.iter().position(|e| {
        matches!(e, Effect::TestEventAnswer(TestEventSent { hooks: true, message }) if *message == report.message)
    });
    let emit = effects
        .iter()
        .position(|e| matches!(e, Effect::Emit { .. }));
    assert!(answer > emit, "answered before it was emitted: {effects:?}");
    assert!(
        !effects.iter().any(|e| matches!(
            e,
            Effect::Repair(_)
                | Effect::StartFullScan(_)
                | Effect::LookupPaths { .. }
                | Effect::LookupOwners { .. }
                | Effect::SetPending(true)
        )),
        "{effects:?}"
    );
    let status = core.status();
    let mut expected = before;
    expected.test_events = 1;
    assert_eq!(status.counters, expected, "only the test counter moves");
    assert!(status.sick.is_empty());
    assert!(
        status
            .last_events
            .last()
            .is_some_and(|e| e.test && e.kind == "sick")
    );
    let metrics = core.step(at(2_000), Input::Tick);
    let text = metrics
        .iter()
        .find_map(|e| match e {
            Effect::WriteMetrics(text) => Some(text.clone()),
            _ => None,
        })
        .expect("the metrics are rewritten");
    assert!(
        text.contains("xfs_healer_test_events_total{mountpoint=\"/mnt\",uuid=\"0b5ab1e5-0000-4000-8000-00000000beef\"} 1\n"),
        "{text}"
    );
    assert!(
        !text.contains("kind=\"sick\""),
        "a test is not a kernel report: {text}"
    );
}

/// A test runs the hooks of its class whatever their rate limit, and
/// does not use it up for the next real event; a class the hooks do not
/// run on is said in the answer.
#[test]
fn a_test_event_neither_waits_for_nor_takes_the_hooks_rate_limit() {
    let mut core = Core::new(Setup {
        hook_classes: vec![HookClass::Event(Kind::Shutdown), HookClass::RepairFailed],
        ..setup()
    });
    for ms in [10, 20] {
        let effects = test_event(&mut core, at(ms), HookClass::Event(Kind::Shutdown));
        assert_eq!(emitted(&effects)[0].2, Some(0), "test at {ms} ms");
    }
    let effects = batch(&mut core, at(30), vec![shutdown()]);
    let real: Vec<_> = emitted(&effects)
        .into_iter()
        .filter(|(r, ..)| r.kind == Kind::Shutdown)
        .collect();
    assert_eq!(real.len(), 1);
    assert!(!real[0].0.test);
    assert_eq!(real[0].2, Some(0), "the real shutdown still runs its hooks");
    let effects = test_event(&mut core, at(40), HookClass::RepairFailed);
    let (report, _, hook) = emitted(&effects)[0];
    assert_eq!(
        (report.kind, report.succeeded, report.hook_class(), hook),
        (Kind::Repair, Some(false), HookClass::RepairFailed, Some(0))
    );
    let effects = test_event(&mut core, at(50), HookClass::Event(Kind::Healthy));
    assert_eq!(emitted(&effects)[0].2, None);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::TestEventAnswer(TestEventSent { hooks: false, .. })
    )));
    assert_eq!(core.status().counters.test_events, 4);
}

#[test]
fn a_reload_changes_the_settings_and_keeps_the_counts_and_the_work() {
    let mut core = Core::new(setup());
    let effects = batch(&mut core, at(10), vec![sick_ag(1, AGF)]);
    assert_eq!(emitted(&effects)[0].2, Some(0), "the sick hook runs");
    let target = repairs(&effects)[0];
    let before = core.status().counters;
    core.step(
        at(20),
        Input::Reload(Box::new(Reload {
            policy: xfs_policy::Config {
                repair: false,
                ..xfs_policy::Config::default()
            },
            hook_classes: vec![HookClass::RepairFailed],
            hook_interval_ms: 1,
            metrics_interval_ms: 60_000,
        })),
    );
    assert_eq!(core.status().counters, before, "counts stay");
    assert!(core.repairing(), "the running repair stays");
    assert_eq!(core.status().mode, "repair", "the mode is not a setting");
    // Sick hooks are off now; the repair still finishes and is told.
    let effects = batch(&mut core, at(30), vec![sick_ag(2, AGI)]);
    assert_eq!(emitted(&effects)[0].2, None);
    let effects = core.step(at(40), done(target, Outcome::Repaired));
    assert!(
        emitted(&effects)
            .iter()
            .any(|(r, ..)| r.kind == Kind::Repair)
    );
    assert_eq!(repairs(&effects).len(), 1, "AG 2 is still repaired");
    assert_eq!(core.setup.metrics_interval_ms, Some(60_000));
}

#[test]
fn a_file_io_error_field_that_is_no_errno_is_printed_not_trusted() {
    // The kernel writes a positive errno there, but nothing checks it: a
    // number no errno has is told as glibc tells it, as the C healer does.
    for (error, text) in [
        (5u32, "Input/output error"),
        (4096, "Unknown error 4096"),
        (u32::MAX, "Unknown error -1"),
    ] {
        let mut core = Core::new(setup());
        let io = record(
            8,
            8,
            &[
                (16, 0, 8),
                (24, 4096, 8),
                (32, 131, 8),
                (44, error.into(), 4),
            ],
        );
        let effects = batch(&mut core, at(10), vec![io]);
        let effects = core.step(
            at(20),
            Input::Paths {
                token: path_tokens(&effects)[0],
                paths: Ok(vec![b"/mnt/f".to_vec()]),
            },
        );
        let lines: Vec<&str> = emitted(&effects)
            .iter()
            .map(|(r, ..)| r.message.as_str())
            .collect();
        assert_eq!(lines.len(), 1, "{effects:?}");
        assert!(lines[0].contains(text), "{error}: {lines:?}");
    }
}

/// The JSON Schema shipped in `packaging/schema/`, compiled once.
fn schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = include_str!("../../../../packaging/schema/event.schema.json");
        let schema: serde_json::Value = serde_json::from_str(text).expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
    })
}

/// Holds the JSON form of a report the core emitted to the schema.
fn check_schema(core: &Core, report: &Report) -> Result<serde_json::Value, String> {
    let line = json_line(&report.to_wire(core.identity()));
    match schema().validate(&line) {
        Ok(()) => Ok(line),
        Err(e) => Err(format!("{line} does not match the schema: {e}")),
    }
}

/// Every kind and every class the core can emit, from a real run of it
/// (each kernel event, repair outcomes, a full scan, test events of every
/// class), matches the shipped JSON Schema; so does a line of ours the
/// schema must refuse, so the check can fail.
#[test]
fn every_report_matches_the_json_schema() {
    let mut core = Core::new(setup());
    let mut effects = batch(&mut core, at(1), vec![running(), sick_ag(0, AGF)]);
    let agf = repairs(&effects);
    effects.extend(core.step(at(2), done(agf[0], Outcome::Repaired)));
    effects.extend(batch(
        &mut core,
        at(3),
        vec![healthy_ag(0, AGF), sick_ag(1, AGI)],
    ));
    let agi = repairs(&effects[effects.len() - 4..]);
    effects.extend(core.step(at(4), done(agi[0], Outcome::Failed)));
    let corrupt_fs = record(1, 4, &[(16, 1, 4)]);
    let unknown = record(99, 99, &[]);
    let file_io = record(8, 8, &[(16, 0, 8), (24, 4096, 8), (32, 131, 8), (44, 5, 4)]);
    effects.extend(batch(
        &mut core,
        at(5),
        vec![corrupt_fs, unknown, file_io, media(64, 8), lost(3)],
    ));
    // Lookups answered with nothing found: the lines go out without.
    let answers: Vec<Input> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::LookupPaths { token, .. } => Some(Input::Paths {
                token: *token,
                paths: Err(NoPath::Gone),
            }),
            Effect::LookupOwners { token, .. } => Some(Input::Owners {
                token: *token,
                owners: Err(Errno::IO),
            }),
            _ => None,
        })
        .collect();
    for answer in answers {
        effects.extend(core.step(at(6), answer));
    }
    effects.extend(core.step(at(7), Input::ScanStarted(Ok(()))));
    effects.extend(core.step(at(8), Input::ScanEnded(ScanEnd::Exited(Some(0)))));
    for class in HookClass::ALL {
        effects.extend(core.step(at(9), Input::TestEvent { class }));
    }
    effects.extend(batch(&mut core, at(10), vec![shutdown()]));
    effects.extend(batch(&mut core, at(11), vec![record(0, 2, &[])]));
    let mut kinds = std::collections::BTreeSet::new();
    let mut classes = std::collections::BTreeSet::new();
    let mut seqs = Vec::new();
    for (report, ..) in emitted(&effects) {
        let line = check_schema(&core, report).unwrap();
        kinds.insert(line["kind"].as_str().unwrap().to_string());
        classes.insert(line["class"].as_str().unwrap().to_string());
        seqs.push(line["seq"].as_u64().unwrap());
    }
    let all_kinds: std::collections::BTreeSet<_> =
        Kind::ALL.iter().map(|k| k.name().to_string()).collect();
    let all_classes: std::collections::BTreeSet<_> = HookClass::ALL
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(kinds, all_kinds, "not every kind was emitted");
    assert_eq!(classes, all_classes, "not every class was emitted");
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // What the schema refuses: a kind it does not know, a missing UUID.
    let mut bad = json_line(&emitted(&effects)[0].0.to_wire(core.identity()));
    bad["kind"] = "sickish".into();
    assert!(schema().validate(&bad).is_err());
    let mut bad = json_line(&emitted(&effects)[0].0.to_wire(core.identity()));
    bad.as_object_mut().unwrap().remove("uuid");
    assert!(schema().validate(&bad).is_err());
}
