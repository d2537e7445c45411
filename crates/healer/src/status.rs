//! What the healer knows of the filesystem's health and its own work, for
//! the status API: objects sick now, the latest events, counters. Pure
//! bookkeeping fed by the event loop; bounded in every dimension.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use xfs_events::{Event, HealthObject, Verdict};
use xfs_policy::{FullScanReason, Object, Outcome};
use xfs_varlink::{Counters, SickObject};

use crate::core::{Identity, Report};

/// Objects tracked as sick (beyond this, new ones are counted only).
const MAX_SICK: usize = 4096;
/// Sick objects listed in a status reply.
const LISTED_SICK: usize = 256;
/// Latest events kept.
const LAST_EVENTS: usize = 32;
/// Bytes of a kept event's message, path or outcome: with any user able
/// to make paths of 4 KiB that escape to 16, unbounded fields would let
/// one user's file names fill every status reply.
const KEPT_FIELD: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Sick {
    mask: u32,
    names: &'static [&'static str],
    since_usec: u64,
}

#[derive(Debug, Default)]
pub struct StatusBook {
    sick: BTreeMap<Object, Sick>,
    sick_untracked: bool,
    /// As the core told them; made wire events only when asked for.
    last: VecDeque<Report>,
    /// How many of `last` were shortened to [`KEPT_FIELD`].
    last_shortened: usize,
    pub counters: Counters,
    /// Full scans started, by reason (a fixed, small set of keys).
    scans_by_reason: BTreeMap<&'static str, u64>,
    /// Kernel reports by kind (a fixed, small set of keys).
    by_kind: BTreeMap<&'static str, u64>,
}

/// `fs`, `agno 0x1`, `rgno 0x0`, `ino 131 gen 0x5`: an object as lines name it.
pub fn object_text(object: Object) -> String {
    match object {
        Object::Fs => "fs".into(),
        Object::Ag(agno) => format!("agno {agno:#x}"),
        Object::RtGroup(rgno) => format!("rgno {rgno:#x}"),
        Object::Inode { ino, generation } => format!("ino {ino} gen {generation:#x}"),
    }
}

/// The canonical 8-4-4-4-12 form of a UUID.
pub fn uuid_text(u: &[u8; 16]) -> String {
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

/// The object and mask of a health report.
pub fn health_object(object: HealthObject) -> (Object, u32) {
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

/// The names of the bits of `mask`.
pub fn structure_names(mask: u32, names: &[&'static str]) -> Vec<Cow<'static, str>> {
    (0..32)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| match names.get(bit) {
            Some(name) => Cow::Borrowed(*name),
            None => Cow::Owned(format!("{:#x}", 1u32 << bit)),
        })
        .collect()
}

impl StatusBook {
    /// Counts a kernel report and updates the sick set.
    pub fn on_event(&mut self, event: &Event, now_usec: u64) {
        self.counters.events += 1;
        *self.by_kind.entry(kind_of(event)).or_default() += 1;
        // Lost events are counted through `on_lost`, once whichever source
        // told first; other kinds only by kind.
        let Event::Health { verdict, object } = *event else {
            return;
        };
        let names = object.names();
        let (object, mask) = health_object(object);
        match verdict {
            Verdict::Sick | Verdict::Corrupt => {
                self.counters.sick_reports += 1;
                if let Some(entry) = self.sick.get_mut(&object) {
                    entry.mask |= mask;
                } else if self.sick.len() < MAX_SICK {
                    self.sick.insert(
                        object,
                        Sick {
                            mask,
                            names,
                            since_usec: now_usec,
                        },
                    );
                } else {
                    self.sick_untracked = true;
                }
            }
            Verdict::Healthy => {
                self.counters.healthy_reports += 1;
                self.mark_healthy(object, mask);
            }
        }
    }

    /// Lost events not told before (see [`LostEvents`]).
    pub fn on_lost(&mut self, count: u64) {
        self.counters.lost_events = self.counters.lost_events.saturating_add(count);
    }

    fn mark_healthy(&mut self, object: Object, mask: u32) {
        if let Some(entry) = self.sick.get_mut(&object) {
            entry.mask &= !mask;
            if entry.mask == 0 {
                self.sick.remove(&object);
            }
        }
    }

    /// A targeted repair attempt ended; a successful one clears its bit.
    pub fn on_repair(&mut self, object: Object, bit: u32, tally: RepairTally) {
        let c = &mut self.counters;
        match tally {
            RepairTally::Succeeded => {
                c.repairs_succeeded += 1;
                self.mark_healthy(object, bit);
            }
            RepairTally::Failed => c.repairs_failed += 1,
            RepairTally::Retried => c.repairs_retried += 1,
            RepairTally::Refused => c.repairs_refused += 1,
            RepairTally::Uncounted => {}
        }
    }

    pub fn on_full_scan(&mut self, reason: FullScanReason) {
        self.counters.full_scans += 1;
        *self.scans_by_reason.entry(reason.name()).or_default() += 1;
    }

    /// A test event: counted in `test_events` only, and kept among the
    /// latest events.
    pub fn on_test_event(&mut self, report: &Report) {
        self.counters.test_events = self.counters.test_events.saturating_add(1);
        self.record(report);
    }

    /// Keeps the latest reports, each field shortened to [`KEPT_FIELD`].
    pub fn record(&mut self, report: &Report) {
        if self.last.len() == LAST_EVENTS
            && let Some(old) = self.last.pop_front()
            && shortened(&old)
        {
            self.last_shortened -= 1;
        }
        let mut kept = report.clone();
        let mut cut = shorten(&mut kept.message);
        if let Some(path) = &mut kept.path {
            cut |= shorten(path);
        }
        if let Some(outcome) = kept.outcome.as_mut().filter(|o| o.len() > KEPT_FIELD) {
            cut |= shorten(outcome.to_mut());
        }
        self.last_shortened += usize::from(cut);
        self.last.push_back(kept);
    }

    pub fn sick_objects(&self) -> (Vec<SickObject>, bool) {
        let listed = self
            .sick
            .iter()
            .take(LISTED_SICK)
            .map(|(&object, s)| SickObject {
                object: object_text(object),
                structures: structure_names(s.mask, s.names),
                since_usec: s.since_usec,
            })
            .collect();
        (listed, self.sick_untracked || self.sick.len() > LISTED_SICK)
    }

    /// The latest events, oldest first, and whether any was shortened.
    pub fn last_events(&self, fs: &Identity) -> (Vec<xfs_varlink::Event>, bool) {
        let events = self.last.iter().map(|r| r.to_wire(fs)).collect();
        (events, self.last_shortened > 0)
    }
}

/// Marks a shortened field's end (not a character an escaped name has).
const SHORTENED: &str = "\u{2026}";

fn shortened(report: &Report) -> bool {
    [
        Some(report.message.as_str()),
        report.path.as_deref(),
        report.outcome.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|f| f.ends_with(SHORTENED))
}

/// Cuts `text` to at most [`KEPT_FIELD`] bytes at a character boundary,
/// ending it with [`SHORTENED`]; true if it was cut.
fn shorten(text: &mut String) -> bool {
    if text.len() <= KEPT_FIELD {
        return false;
    }
    let mut end = KEPT_FIELD - SHORTENED.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(SHORTENED);
    true
}

/// How a repair attempt counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairTally {
    Succeeded,
    /// Not repaired, and not to be tried again.
    Failed,
    /// A transient error (busy, deadlock, no memory): it will be retried.
    Retried,
    /// Not attempted: the mount point no longer led to this filesystem.
    Refused,
    /// The filesystem had shut down: nothing was decided.
    Uncounted,
}

impl RepairTally {
    /// `retried`: the engine will try the target again
    /// ([`xfs_policy::Engine::will_retry`]).
    pub fn of(outcome: Outcome, retried: bool) -> RepairTally {
        match outcome {
            Outcome::Repaired | Outcome::NotNeeded => RepairTally::Succeeded,
            Outcome::Transient if retried => RepairTally::Retried,
            Outcome::Failed | Outcome::XrefFailed | Outcome::Transient => RepairTally::Failed,
            Outcome::Refused => RepairTally::Refused,
            Outcome::ShutDown => RepairTally::Uncounted,
        }
    }
}

/// Lost-event accounting from two sources that overlap: the monitor's
/// fdinfo counter (the running total, seen at once) and LOST records
/// (each the count dropped before it, seen only when a later event fits
/// in the queue). Each lost event is told exactly once, by whichever
/// source says it first.
#[derive(Debug, Default, Clone, Copy)]
pub struct LostEvents {
    told: u64,
    from_records: u64,
}

impl LostEvents {
    /// A LOST record of `count`; what it adds to what was told.
    pub fn record(&mut self, count: u64) -> u64 {
        self.from_records = self.from_records.saturating_add(count);
        let new = self.from_records.saturating_sub(self.told);
        self.told = self.told.max(self.from_records);
        new
    }

    /// fdinfo's running total; what it adds to what was told.
    pub fn fdinfo(&mut self, total: u64) -> u64 {
        let new = total.saturating_sub(self.told);
        self.told = self.told.max(total);
        new
    }
}

/// The kind of a kernel report, as the API and metrics name it.
pub fn kind_of(event: &Event) -> &'static str {
    match event {
        Event::Health { verdict, .. } => verdict.word(),
        Event::Media { .. } => "media_error",
        Event::FileIo { .. } => "file_io",
        Event::Running => "running",
        Event::Lost { .. } => "lost",
        Event::Shutdown { .. } => "shutdown",
        Event::Unmount => "unmount",
        Event::Unknown { .. } => "unknown",
    }
}

/// The healer's gauges at one moment, besides the book's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// False in the last file a healer writes when it stops with an error.
    pub up: bool,
    /// `repair` or `log-only`.
    pub mode: &'static str,
    /// When the file is written (CLOCK_REALTIME, µs).
    pub now_usec: u64,
    pub repairs_pending: usize,
    pub repairs_running: usize,
    pub shut_down: bool,
    pub full_scan_running: bool,
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl StatusBook {
    /// The Prometheus text exposition of the counters and gauges, for the
    /// node exporter's textfile collector.
    pub fn prometheus(&self, mountpoint: &str, uuid: &str, gauges: Gauges) -> String {
        use std::fmt::Write as _;
        let labels = format!(
            "mountpoint=\"{}\",uuid=\"{}\"",
            label(mountpoint),
            label(uuid)
        );
        let mut text = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (extra, value) in samples {
                let _ = writeln!(text, "{name}{{{labels}{extra}}} {value}");
            }
        };
        metric(
            "xfs_healer_up",
            "gauge",
            "Whether the healer monitors the filesystem (0: it stopped with an error).",
            &[(String::new(), u64::from(gauges.up))],
        );
        metric(
            "xfs_healer_info",
            "gauge",
            "The healer's implementation, version and mode.",
            &[(
                format!(
                    ",implementation=\"xfs-healer\",version=\"{}\",mode=\"{}\"",
                    env!("CARGO_PKG_VERSION"),
                    label(gauges.mode)
                ),
                1,
            )],
        );
        metric(
            "xfs_healer_metrics_timestamp_seconds",
            "gauge",
            "When this file was written (rewritten at least every minute: an old one means a dead healer).",
            &[(String::new(), gauges.now_usec / 1_000_000)],
        );
        let kinds: Vec<(String, u64)> = self
            .by_kind
            .iter()
            .map(|(k, v)| (format!(",kind=\"{k}\""), *v))
            .collect();
        metric(
            "xfs_healer_reports_total",
            "counter",
            "Health reports read from the kernel, by kind.",
            &kinds,
        );
        let c = &self.counters;
        metric(
            "xfs_healer_repairs_total",
            "counter",
            "Targeted repairs finished, by outcome.",
            &[
                (",outcome=\"succeeded\"".into(), c.repairs_succeeded),
                (",outcome=\"failed\"".into(), c.repairs_failed),
                (",outcome=\"retried\"".into(), c.repairs_retried),
                (",outcome=\"refused\"".into(), c.repairs_refused),
            ],
        );
        metric(
            "xfs_healer_lost_events_total",
            "counter",
            "Reports the kernel dropped because its queue was full.",
            &[(String::new(), c.lost_events)],
        );
        let reasons: Vec<(String, u64)> = self
            .scans_by_reason
            .iter()
            .map(|(r, n)| (format!(",reason=\"{r}\""), *n))
            .collect();
        metric(
            "xfs_healer_full_scans_total",
            "counter",
            "Full xfs_scrub runs started, by reason.",
            &reasons,
        );
        metric(
            "xfs_healer_test_events_total",
            "counter",
            "Test events sent through the sinks (xfs_healerctl test-event); in no other series.",
            &[(String::new(), c.test_events)],
        );
        metric(
            "xfs_healer_sick_objects",
            "gauge",
            "Objects reported sick and not healthy or repaired since.",
            &[(String::new(), self.sick.len() as u64)],
        );
        metric(
            "xfs_healer_repairs_pending",
            "gauge",
            "Targeted repairs queued.",
            &[(String::new(), gauges.repairs_pending as u64)],
        );
        metric(
            "xfs_healer_repairs_running",
            "gauge",
            "Targeted repairs running.",
            &[(String::new(), gauges.repairs_running as u64)],
        );
        metric(
            "xfs_healer_full_scan_running",
            "gauge",
            "Whether a full scan runs.",
            &[(String::new(), u64::from(gauges.full_scan_running))],
        );
        metric(
            "xfs_healer_shut_down",
            "gauge",
            "Whether the filesystem has shut down.",
            &[(String::new(), u64::from(gauges.shut_down))],
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Kind;
    use xfs_events::Mask;

    fn inode(verdict: Verdict, mask: u32) -> Event {
        Event::Health {
            verdict,
            object: HealthObject::Inode {
                ino: 131,
                generation: 5,
                mask: Mask(mask),
            },
        }
    }

    #[test]
    fn sick_until_healthy_or_repaired() {
        let mut book = StatusBook::default();
        book.on_event(&inode(Verdict::Sick, 0x10 | 0x2), 7);
        let (sick, truncated) = book.sick_objects();
        assert!(!truncated);
        assert_eq!(
            sick,
            [SickObject {
                object: "ino 131 gen 0x5".into(),
                structures: vec!["datafork".into(), "directory".into()],
                since_usec: 7
            }]
        );
        book.on_event(&inode(Verdict::Healthy, 0x2), 8);
        assert_eq!(book.sick_objects().0[0].structures, ["directory"]);
        book.on_repair(
            Object::Inode {
                ino: 131,
                generation: 5,
            },
            0x10,
            RepairTally::Succeeded,
        );
        assert!(book.sick_objects().0.is_empty());
        assert_eq!(
            (
                book.counters.sick_reports,
                book.counters.healthy_reports,
                book.counters.repairs_succeeded
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn metrics_text() {
        let mut book = StatusBook::default();
        book.on_event(&inode(Verdict::Sick, 0x10), 1);
        book.on_event(&Event::Lost { count: 4 }, 1);
        book.on_lost(4);
        book.on_repair(
            Object::Inode {
                ino: 131,
                generation: 5,
            },
            0x10,
            RepairTally::Succeeded,
        );
        let text = book.prometheus(
            "/mnt/a \"b\"\\",
            "u-1",
            Gauges {
                up: true,
                mode: "repair",
                now_usec: 1_700_000_000_500_000,
                repairs_pending: 2,
                ..Gauges::default()
            },
        );
        let l = r#"mountpoint="/mnt/a \"b\"\\",uuid="u-1""#;
        let version = env!("CARGO_PKG_VERSION");
        for line in [
            format!("xfs_healer_up{{{l}}} 1"),
            format!(
                "xfs_healer_info{{{l},implementation=\"xfs-healer\",version=\"{version}\",mode=\"repair\"}} 1"
            ),
            format!("xfs_healer_metrics_timestamp_seconds{{{l}}} 1700000000"),
            "# TYPE xfs_healer_reports_total counter".to_string(),
            format!("xfs_healer_reports_total{{{l},kind=\"sick\"}} 1"),
            format!("xfs_healer_reports_total{{{l},kind=\"lost\"}} 1"),
            format!("xfs_healer_repairs_total{{{l},outcome=\"succeeded\"}} 1"),
            format!("xfs_healer_lost_events_total{{{l}}} 4"),
            format!("xfs_healer_sick_objects{{{l}}} 0"),
            format!("xfs_healer_repairs_pending{{{l}}} 2"),
        ] {
            assert!(
                text.lines().any(|x| x == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn bounded_and_counted() {
        let mut book = StatusBook::default();
        for agno in 0..(MAX_SICK as u32 + 10) {
            book.on_event(
                &Event::Health {
                    verdict: Verdict::Sick,
                    object: HealthObject::Ag {
                        agno,
                        mask: Mask(1),
                    },
                },
                0,
            );
        }
        let (listed, truncated) = book.sick_objects();
        assert_eq!(
            (listed.len(), truncated, book.sick.len()),
            (LISTED_SICK, true, MAX_SICK)
        );
        for i in 0..100 {
            book.record(&Report::new(i, Kind::Running, String::new()));
        }
        let (last, shortened) = book.last_events(&Identity::default());
        assert_eq!(
            (last.len(), last[0].time_usec, shortened),
            (LAST_EVENTS, 100 - LAST_EVENTS as u64, false)
        );
        // A LOST record is counted only through on_lost (as LostEvents
        // says), not by its arrival.
        book.on_event(&Event::Lost { count: 3 }, 0);
        assert_eq!(book.counters.lost_events, 0);
    }

    /// fdinfo tells of 2 lost events, then the kernel's LOST record of 3
    /// (the same 2 and one more): 3 were lost, not 5; and in the other
    /// order too.
    #[test]
    fn lost_events_are_told_once_whichever_source_is_first() {
        let mut lost = LostEvents::default();
        assert_eq!(lost.fdinfo(2), 2);
        assert_eq!(lost.record(3), 1);
        assert_eq!(lost.fdinfo(3), 0);
        assert_eq!(lost.record(4), 4);
        assert_eq!(lost.fdinfo(7), 0);
        assert_eq!(lost.fdinfo(8), 1);
        let mut lost = LostEvents::default();
        assert_eq!(lost.record(5), 5);
        assert_eq!(lost.fdinfo(5), 0);
        assert_eq!(lost.record(u64::MAX), u64::MAX - 5);
    }

    proptest::proptest! {
        /// For any interleaving of the two sources over one stream of
        /// losses, the sum told equals the number lost.
        #[test]
        fn lost_events_sum_to_the_losses(steps in proptest::collection::vec((1u64..50, proptest::bool::ANY, proptest::bool::ANY), 0..100)) {
            let (mut lost, mut told, mut total, mut unreported) = (LostEvents::default(), 0u64, 0u64, 0u64);
            for (n, record_now, fdinfo_now) in steps {
                total += n;
                unreported += n;
                if record_now {
                    told += lost.record(unreported);
                    unreported = 0;
                }
                if fdinfo_now {
                    told += lost.fdinfo(total);
                }
            }
            told += lost.fdinfo(total);
            proptest::prop_assert_eq!(told, total);
        }
    }

    /// Only final outcomes count as failures.
    #[test]
    fn transient_and_refused_attempts_are_not_failures() {
        for (outcome, retried, tally) in [
            (Outcome::Transient, true, RepairTally::Retried),
            (Outcome::Transient, false, RepairTally::Failed),
            (Outcome::Refused, false, RepairTally::Refused),
            (Outcome::ShutDown, false, RepairTally::Uncounted),
            (Outcome::NotNeeded, false, RepairTally::Succeeded),
            (Outcome::XrefFailed, false, RepairTally::Failed),
        ] {
            assert_eq!(RepairTally::of(outcome, retried), tally, "{outcome:?}");
        }
        let mut book = StatusBook::default();
        book.on_repair(Object::Fs, 1, RepairTally::Retried);
        book.on_repair(Object::Fs, 1, RepairTally::Refused);
        assert_eq!(
            (
                book.counters.repairs_failed,
                book.counters.repairs_retried,
                book.counters.repairs_refused
            ),
            (0, 1, 1)
        );
        book.on_full_scan(FullScanReason::EventsLost);
        let text = book.prometheus("/m", "u", Gauges::default());
        assert!(
            text.contains(
                "xfs_healer_full_scans_total{mountpoint=\"/m\",uuid=\"u\",reason=\"events_lost\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("outcome=\"retried\"} 1"), "{text}");
    }

    /// Hostile file names (4 KiB of control bytes, escaped to 16 KiB) in
    /// every kept event and a full sick list still make a status reply
    /// far below the API's per-client bound.
    #[test]
    fn status_replies_are_bounded_whatever_the_names() {
        let mut book = StatusBook::default();
        for agno in 0..(MAX_SICK as u32) {
            book.on_event(
                &Event::Health {
                    verdict: Verdict::Sick,
                    object: HealthObject::Ag {
                        agno,
                        mask: Mask(u32::MAX),
                    },
                },
                0,
            );
        }
        let hostile = "\\x01".repeat(4096);
        for i in 0..100 {
            let text = || Some(format!("ä{hostile}"));
            let mut report = Report::new(i, Kind::Sick, format!("{hostile} directory: sick"));
            report.object = Some(Object::Inode {
                ino: u64::MAX,
                generation: u32::MAX,
            });
            report.path = text();
            report.outcome = text().map(Cow::Owned);
            book.record(&report);
        }
        let fs = Identity::default();
        let (last_events, last_events_shortened) = book.last_events(&fs);
        assert!(last_events_shortened);
        assert!(last_events.iter().all(|e| {
            e.message.len() <= KEPT_FIELD
                && e.path
                    .as_ref()
                    .is_some_and(|p| p.len() <= KEPT_FIELD && p.ends_with(SHORTENED))
        }));
        let (sick, sick_truncated) = book.sick_objects();
        let status = xfs_varlink::Status {
            mountpoint: hostile.clone(),
            sick,
            sick_truncated,
            last_events,
            last_events_shortened,
            ..xfs_varlink::Status::default()
        };
        let bytes = serde_json::to_vec(&status).unwrap().len();
        assert!(bytes < 512 * 1024, "a status reply of {bytes} bytes");
        // Shortened events leave the count when they leave the book.
        for i in 0..LAST_EVENTS as u64 {
            book.record(&Report::new(i, Kind::Running, String::new()));
        }
        assert!(!book.last_events(&fs).1);
    }
}
