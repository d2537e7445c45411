//! The one typed event the core emits to every sink. Wire forms (the
//! varlink `Event`, JSON lines, journal fields, hook variables) are made
//! from it at each sink, never the other way round.

use crate::kinds::{HookClass, Kind};
use crate::status::object_text;
use xfs_policy::{FullScanReason, Object};

/// An event as the healer tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// CLOCK_REALTIME, microseconds.
    pub time_usec: u64,
    pub kind: Kind,
    /// The reference's line (text output, journal `MESSAGE=`).
    pub message: String,
    pub object: Option<Object>,
    /// The names of the structures it is about.
    pub structures: Option<Vec<String>>,
    /// The object's path, escaped for display.
    pub path: Option<String>,
    /// A repair's outcome sentence.
    pub outcome: Option<String>,
    /// How an outcome went: `Some(true)` done, `Some(false)` not; None
    /// for reports that are not outcomes.
    pub succeeded: Option<bool>,
    /// The scrub type a repair ran.
    pub scrub_type: Option<u32>,
    /// Why a full scan was started.
    pub reason: Option<FullScanReason>,
    /// A test event an operator asked for (`TestEvent`): nothing happened.
    pub test: bool,
}

impl Report {
    pub fn new(time_usec: u64, kind: Kind, message: String) -> Report {
        Report {
            time_usec,
            kind,
            message,
            object: None,
            structures: None,
            path: None,
            outcome: None,
            succeeded: None,
            scrub_type: None,
            reason: None,
            test: false,
        }
    }

    /// A test event of `class`: the kind (and, for repairs, the outcome)
    /// that gives that class, no object, `test` set.
    pub fn test(time_usec: u64, class: HookClass, message: String) -> Report {
        let (kind, succeeded) = match class {
            HookClass::Event(kind) => (kind, None),
            HookClass::Repaired => (Kind::Repair, Some(true)),
            HookClass::RepairFailed => (Kind::Repair, Some(false)),
        };
        let mut report = Report::new(time_usec, kind, message);
        report.succeeded = succeeded;
        report.test = true;
        report
    }

    pub fn hook_class(&self) -> HookClass {
        HookClass::of(self.kind, self.succeeded == Some(true))
    }

    /// syslog priority (the journal's `PRIORITY=`): a shutdown is
    /// critical (2); failed outcomes and media errors are errors (3);
    /// damage, file I/O errors and lost events warn (4); successful
    /// outcomes are notices (5); the rest is information (6).
    pub fn priority(&self) -> u8 {
        match self.kind {
            Kind::Shutdown => 2,
            Kind::MediaError => 3,
            Kind::Sick | Kind::Corrupt | Kind::FileIo | Kind::Lost => 4,
            // A repair's report is its outcome; one without a known
            // success counts as failed.
            Kind::Repair if self.succeeded == Some(true) => 5,
            Kind::Repair => 3,
            // A full scan's start has no outcome; its end has one.
            Kind::FullScan => match self.succeeded {
                Some(true) => 5,
                Some(false) => 3,
                None => 6,
            },
            Kind::Running | Kind::Healthy | Kind::Unmount | Kind::Unknown => 6,
        }
    }

    /// The status API's form.
    pub fn to_wire(&self) -> xfs_varlink::Event {
        xfs_varlink::Event {
            time_usec: self.time_usec,
            kind: self.kind.name().into(),
            message: self.message.clone(),
            object: self.object.map(object_text),
            structures: self.structures.clone(),
            path: self.path.clone(),
            outcome: self.outcome.clone(),
            reason: self.reason.map(|r| r.name().into()),
            test: self.test,
        }
    }

    /// The journal's `XFS_*` fields beyond those of the wire form.
    pub fn object_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = Vec::new();
        match self.object {
            Some(Object::Fs) => fields.push(("XFS_DOMAIN", "fs".into())),
            Some(Object::Ag(agno)) => {
                fields.extend([("XFS_DOMAIN", "ag".into()), ("XFS_AGNO", agno.to_string())])
            }
            Some(Object::RtGroup(rgno)) => fields.extend([
                ("XFS_DOMAIN", "rtgroup".into()),
                ("XFS_RGNO", rgno.to_string()),
            ]),
            Some(Object::Inode { ino, generation }) => fields.extend([
                ("XFS_DOMAIN", "inode".into()),
                ("XFS_INO", ino.to_string()),
                ("XFS_GEN", generation.to_string()),
            ]),
            None => {}
        }
        fields.extend(self.scrub_type.map(|t| ("XFS_SCRUB_TYPE", t.to_string())));
        fields.extend(self.reason.map(|r| ("XFS_REASON", r.name().to_string())));
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_follows_kind_and_outcome() {
        let at = |kind, succeeded| {
            let mut r = Report::new(1, kind, "x".into());
            r.succeeded = succeeded;
            r.priority()
        };
        // Every kind as the core reports it: events and a full scan's
        // start without an outcome, repairs and a full scan's end with one.
        let table = [
            (Kind::Shutdown, None, 2),
            (Kind::MediaError, None, 3),
            (Kind::Repair, Some(false), 3),
            (Kind::FullScan, Some(false), 3),
            (Kind::Sick, None, 4),
            (Kind::Corrupt, None, 4),
            (Kind::FileIo, None, 4),
            (Kind::Lost, None, 4),
            (Kind::Repair, Some(true), 5),
            (Kind::FullScan, Some(true), 5),
            (Kind::Running, None, 6),
            (Kind::Healthy, None, 6),
            (Kind::Unmount, None, 6),
            (Kind::Unknown, None, 6),
            (Kind::FullScan, None, 6),
            (Kind::Repair, None, 3),
        ];
        for (kind, succeeded, priority) in table {
            assert_eq!(at(kind, succeeded), priority, "{kind:?} {succeeded:?}");
        }
        for kind in Kind::ALL {
            assert!(
                table.iter().any(|(k, ..)| *k == kind),
                "{kind:?} has no pinned priority"
            );
        }
        // `journalctl -p err` shows a shutdown and failed repairs.
        assert!(at(Kind::Shutdown, None) <= 3);
        let mut r = Report::new(1, Kind::Repair, "x".into());
        r.succeeded = Some(true);
        assert_eq!(r.hook_class(), HookClass::Repaired);
        r.succeeded = Some(false);
        assert_eq!(r.hook_class(), HookClass::RepairFailed);
    }

    #[test]
    fn wire_form_names_things() {
        let mut r = Report::new(7, Kind::FullScan, "m".into());
        r.object = Some(Object::Ag(3));
        r.reason = Some(FullScanReason::Storm);
        let wire = r.to_wire();
        assert_eq!(wire.kind, "full_scan");
        assert_eq!(wire.object.as_deref(), Some("agno 0x3"));
        assert_eq!(wire.reason.as_deref(), Some("storm"));
        assert!(r.object_fields().contains(&("XFS_AGNO", "3".into())));
        assert!(r.object_fields().contains(&("XFS_REASON", "storm".into())));
        assert!(!wire.test);
    }

    /// A test event has the class it was asked for, hence its hooks and
    /// its priority, and says it is a test on the wire.
    #[test]
    fn a_test_event_is_of_its_class() {
        for class in HookClass::ALL {
            let r = Report::test(1, class, "t".into());
            assert_eq!(r.hook_class(), class);
            assert!(r.test && r.to_wire().test && r.object.is_none());
        }
        let shutdown = Report::test(1, HookClass::Event(Kind::Shutdown), "t".into());
        assert_eq!(shutdown.priority(), 2);
        let failed = Report::test(1, HookClass::RepairFailed, "t".into());
        assert_eq!(
            (failed.to_wire().kind.as_str(), failed.priority()),
            ("repair", 3)
        );
    }
}
