//! The one typed event the core emits to every sink. Wire forms (the
//! varlink `Event`, JSON lines, journal fields, hook variables) are made
//! from it at each sink, never the other way round.

use crate::kinds::{HookClass, Kind};
use crate::status::object_text;
use std::borrow::Cow;
use std::sync::Arc;
use xfs_policy::{FullScanReason, Object};

/// The filesystem every report is about, as each sink names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The mount point as given, escaped for display.
    pub mountpoint: Arc<str>,
    pub uuid: Arc<str>,
    /// The data device as /dev names it, or `major:minor`.
    pub device: Arc<str>,
}

/// The structures a report is about: the bits of a health mask, named
/// (as the wire form lists them) only when a sink asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Structures {
    pub mask: u32,
    /// The names of the mask's bits in the object's domain.
    pub names: &'static [&'static str],
}

impl Structures {
    pub fn names(self) -> Vec<Cow<'static, str>> {
        crate::status::structure_names(self.mask, self.names)
    }
}

/// An event as the healer tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// 1, 2, ... in the order the core emitted its reports.
    pub seq: u64,
    /// CLOCK_REALTIME, microseconds.
    pub time_usec: u64,
    pub kind: Kind,
    /// The reference's line (text output, journal `MESSAGE=`).
    pub message: String,
    pub object: Option<Object>,
    /// The structures it is about.
    pub structures: Option<Structures>,
    /// The object's path, escaped for display.
    pub path: Option<String>,
    /// A repair's outcome sentence (most are the reference's, static).
    pub outcome: Option<Cow<'static, str>>,
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
            seq: 0,
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

    /// The wire form (the status API's, and the field set of every sink).
    pub fn to_wire(&self, fs: &Identity) -> xfs_varlink::Event {
        xfs_varlink::Event {
            seq: self.seq,
            time_usec: self.time_usec,
            mountpoint: fs.mountpoint.clone(),
            uuid: fs.uuid.clone(),
            device: fs.device.clone(),
            kind: self.kind.name().into(),
            class: self.hook_class().name().into(),
            message: self.message.clone(),
            object: self.object.map(object_text),
            structures: self.structures.map(Structures::names),
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

/// The schema version of the JSON form (`packaging/schema/event.schema.json`).
pub const JSON_SCHEMA: u32 = 1;

/// The JSON form of an event (JSON lines, a hook's stdin, `xfs_healerctl
/// --json events`): the wire form and the schema version `v`.
pub fn json_line(event: &xfs_varlink::Event) -> serde_json::Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    value["v"] = JSON_SCHEMA.into();
    value
}

/// The `XFS_*` variables of an event (the hooks' environment; the
/// journal's fields but `XFS_MESSAGE`, which is its `MESSAGE`): one per
/// field of the wire form, named as its JSON key in capitals, and
/// `XFS_EVENT`, the class again, as hooks have always had it. The
/// destructuring names every field, so a new one cannot be left out.
pub fn variables(event: &xfs_varlink::Event) -> Vec<(&'static str, String)> {
    let xfs_varlink::Event {
        seq,
        time_usec,
        mountpoint,
        uuid,
        device,
        kind,
        class,
        message,
        object,
        structures,
        path,
        outcome,
        reason,
        test,
    } = event;
    let mut vars = vec![
        ("XFS_SEQ", seq.to_string()),
        ("XFS_TIME_USEC", time_usec.to_string()),
        ("XFS_MOUNTPOINT", mountpoint.to_string()),
        ("XFS_UUID", uuid.to_string()),
        ("XFS_DEVICE", device.to_string()),
        ("XFS_KIND", kind.to_string()),
        ("XFS_CLASS", class.to_string()),
        ("XFS_EVENT", class.to_string()),
        ("XFS_MESSAGE", message.clone()),
    ];
    vars.extend(object.iter().map(|o| ("XFS_OBJECT", o.clone())));
    vars.extend(structures.iter().map(|s| ("XFS_STRUCTURES", s.join(","))));
    vars.extend(path.iter().map(|p| ("XFS_PATH", p.clone())));
    vars.extend(outcome.iter().map(|o| ("XFS_OUTCOME", o.to_string())));
    vars.extend(reason.iter().map(|r| ("XFS_REASON", r.to_string())));
    if *test {
        vars.push(("XFS_TEST", "1".into()));
    }
    vars
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
        r.seq = 9;
        let fs = Identity {
            mountpoint: "/mnt".into(),
            uuid: "u".into(),
            device: "/dev/vdb".into(),
        };
        let wire = r.to_wire(&fs);
        assert_eq!((wire.seq, &*wire.mountpoint, &*wire.uuid), (9, "/mnt", "u"));
        assert_eq!(&*wire.device, "/dev/vdb");
        assert_eq!(wire.kind, "full_scan");
        assert_eq!(wire.class, "full_scan");
        assert_eq!(wire.object.as_deref(), Some("agno 0x3"));
        assert_eq!(wire.reason.as_deref(), Some("storm"));
        assert!(r.object_fields().contains(&("XFS_AGNO", "3".into())));
        assert!(r.object_fields().contains(&("XFS_REASON", "storm".into())));
        assert!(!wire.test);
    }

    /// Every key of the JSON form is a variable of the same name, with
    /// the same value; there is no other but `XFS_EVENT`.
    #[test]
    fn variables_are_the_json_keys() {
        let mut r = Report::new(5, Kind::Repair, "m\nx".into());
        r.seq = 3;
        r.object = Some(Object::Inode {
            ino: 131,
            generation: 7,
        });
        r.structures = Some(Structures {
            mask: 0x30,
            names: xfs_events::INODE_NAMES,
        });
        r.path = Some("/mnt/d".into());
        r.outcome = Some("Repairs successful.".into());
        r.succeeded = Some(true);
        r.reason = Some(FullScanReason::Storm);
        r.test = true;
        let fs = Identity {
            mountpoint: "/mnt".into(),
            uuid: "u".into(),
            device: "/dev/vdb".into(),
        };
        let event = r.to_wire(&fs);
        let vars = variables(&event);
        let json = serde_json::to_value(&event).unwrap();
        let json = json.as_object().unwrap();
        for (key, value) in json {
            let name = format!("XFS_{}", key.to_uppercase());
            let want = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
                serde_json::Value::Bool(true) => "1".into(),
                other => other.to_string(),
            };
            assert!(
                vars.iter().any(|(k, v)| *k == name && *v == want),
                "{name}={want} missing from {vars:?}"
            );
        }
        assert_eq!(vars.len(), json.len() + 1);
        assert!(vars.contains(&("XFS_EVENT", "repaired".into())));
        assert!(vars.contains(&("XFS_KIND", "repair".into())));
    }

    /// The IDL's `Event`, the Rust wire type and the JSON Schema's event
    /// have the same fields; the schema's enums are the IDL's.
    #[test]
    fn the_idl_the_wire_type_and_the_schema_agree() {
        use std::collections::BTreeSet;
        let idl = xfs_varlink::IDL;
        let body = &idl[idl.find("type Event (").unwrap()..];
        let body = &body[..body.find("\n)").unwrap()];
        let mut idl_fields = BTreeSet::new();
        let mut idl_enums = std::collections::BTreeMap::new();
        for line in body.lines().skip(1).map(str::trim) {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let (name, ty) = line.split_once(": ").unwrap();
            idl_fields.insert(name.to_string());
            if let Some(values) = ty.strip_prefix('(') {
                let values: Vec<String> = values
                    .trim_end_matches(',')
                    .trim_end_matches(')')
                    .split(", ")
                    .map(String::from)
                    .collect();
                idl_enums.insert(name.to_string(), values);
            }
        }
        let schema: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../packaging/schema/event.schema.json"
        ))
        .unwrap();
        let event = &schema["$defs"]["event"]["properties"];
        let schema_fields: BTreeSet<String> = event
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "v")
            .cloned()
            .collect();
        let mut full = Report::new(1, Kind::Repair, "m".into());
        full.object = Some(Object::Fs);
        full.structures = Some(Structures {
            mask: 0,
            names: &[],
        });
        full.path = Some("p".into());
        full.outcome = Some("o".into());
        full.reason = Some(FullScanReason::Storm);
        full.test = true;
        let wire = serde_json::to_value(full.to_wire(&Identity::default())).unwrap();
        let wire_fields: BTreeSet<String> = wire.as_object().unwrap().keys().cloned().collect();
        assert_eq!(idl_fields, wire_fields, "the IDL and the Rust type differ");
        assert_eq!(
            schema_fields, wire_fields,
            "the schema and the Rust type differ"
        );
        assert_eq!(idl_enums.keys().collect::<Vec<_>>(), ["class", "kind"]);
        for (name, values) in idl_enums {
            let listed: Vec<String> = event[&name]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(values, listed, "{name}: the IDL and the schema differ");
        }
        let reasons: Vec<&str> = event["reason"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(reasons, FullScanReason::ALL.map(FullScanReason::name));
    }

    /// A test event has the class it was asked for, hence its hooks and
    /// its priority, and says it is a test on the wire.
    #[test]
    fn a_test_event_is_of_its_class() {
        for class in HookClass::ALL {
            let r = Report::test(1, class, "t".into());
            assert_eq!(r.hook_class(), class);
            let wire = r.to_wire(&Identity::default());
            assert!(r.test && wire.test && r.object.is_none());
            assert_eq!(wire.class, class.name());
        }
        let shutdown = Report::test(1, HookClass::Event(Kind::Shutdown), "t".into());
        assert_eq!(shutdown.priority(), 2);
        let failed = Report::test(1, HookClass::RepairFailed, "t".into());
        assert_eq!(
            (
                failed.to_wire(&Identity::default()).kind.as_ref(),
                failed.priority()
            ),
            ("repair", 3)
        );
    }
}
