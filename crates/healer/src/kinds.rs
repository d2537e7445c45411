//! What the healer tells: the kinds of its events and the classes hooks
//! run on, each one enum with its one name. The names are the wire form
//! (JSON `kind`, journal `XFS_EVENT`, varlink, metrics labels, hook file
//! names); everything inside the daemon uses the enums.

/// The kind of an event the healer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Running,
    Sick,
    Corrupt,
    Healthy,
    MediaError,
    FileIo,
    Lost,
    Shutdown,
    Unmount,
    Unknown,
    /// A targeted repair's outcome.
    Repair,
    /// A full `xfs_scrub` run started or ended.
    FullScan,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Running,
        Kind::Sick,
        Kind::Corrupt,
        Kind::Healthy,
        Kind::MediaError,
        Kind::FileIo,
        Kind::Lost,
        Kind::Shutdown,
        Kind::Unmount,
        Kind::Unknown,
        Kind::Repair,
        Kind::FullScan,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Kind::Running => "running",
            Kind::Sick => "sick",
            Kind::Corrupt => "corrupt",
            Kind::Healthy => "healthy",
            Kind::MediaError => "media_error",
            Kind::FileIo => "file_io",
            Kind::Lost => "lost",
            Kind::Shutdown => "shutdown",
            Kind::Unmount => "unmount",
            Kind::Unknown => "unknown",
            Kind::Repair => "repair",
            Kind::FullScan => "full_scan",
        }
    }
}

/// What a hook can run on: an event's kind, with repairs split by how
/// they went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookClass {
    Event(Kind),
    Repaired,
    RepairFailed,
}

impl HookClass {
    /// Every class, in the order the documentation lists them.
    pub const ALL: [HookClass; 13] = [
        HookClass::Event(Kind::Running),
        HookClass::Event(Kind::Sick),
        HookClass::Event(Kind::Corrupt),
        HookClass::Event(Kind::Healthy),
        HookClass::Event(Kind::MediaError),
        HookClass::Event(Kind::FileIo),
        HookClass::Event(Kind::Lost),
        HookClass::Event(Kind::Shutdown),
        HookClass::Event(Kind::Unmount),
        HookClass::Event(Kind::Unknown),
        HookClass::Repaired,
        HookClass::RepairFailed,
        HookClass::Event(Kind::FullScan),
    ];

    /// The class of a test event when none is named.
    pub const TEST_DEFAULT: HookClass = HookClass::Event(Kind::Sick);

    /// The class of an event of `kind`; `repaired` says how a repair went.
    pub fn of(kind: Kind, repaired: bool) -> HookClass {
        match kind {
            Kind::Repair if repaired => HookClass::Repaired,
            Kind::Repair => HookClass::RepairFailed,
            kind => HookClass::Event(kind),
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            HookClass::Event(kind) => kind.name(),
            HookClass::Repaired => "repaired",
            HookClass::RepairFailed => "repair_failed",
        }
    }

    pub fn from_name(name: &str) -> Option<HookClass> {
        HookClass::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_round_trip() {
        let names: std::collections::HashSet<_> = HookClass::ALL.map(HookClass::name).into();
        assert_eq!(names.len(), HookClass::ALL.len());
        for class in HookClass::ALL {
            assert_eq!(HookClass::from_name(class.name()), Some(class));
        }
        assert_eq!(HookClass::from_name("repair"), None);
        let kinds: std::collections::HashSet<_> = Kind::ALL.map(Kind::name).into();
        assert_eq!(kinds.len(), Kind::ALL.len());
    }

    /// The values of the IDL's enum field `field`, in order.
    fn idl_enum(field: &str) -> Vec<String> {
        let at = xfs_varlink::IDL
            .find(&format!("{field}: ("))
            .unwrap_or_else(|| panic!("no enum {field} in the IDL"));
        let rest = &xfs_varlink::IDL[at + field.len() + 3..];
        rest[..rest.find(')').unwrap()]
            .split(',')
            .map(|v| v.trim().to_string())
            .collect()
    }

    #[test]
    fn the_idl_enums_are_the_wire_values() {
        assert_eq!(idl_enum("kind"), Kind::ALL.map(|k| k.name().to_string()));
        let modes = idl_enum("mode");
        assert_eq!(modes, ["repair", "log_only"]);
        for repair in [true, false] {
            let setup = crate::core::Setup {
                mount_arg: b"/mnt".to_vec(),
                uuid: "u".into(),
                device: "/dev/vdb".into(),
                repair,
                quiet: false,
                paths: false,
                policy: xfs_policy::Config::default(),
                hook_classes: Vec::new(),
                hook_interval_ms: 0,
                metrics_interval_ms: None,
                started_usec: 0,
            };
            let status = crate::core::Core::new(setup).status();
            assert!(modes.contains(&status.mode), "{}", status.mode);
        }
    }

    #[test]
    fn repairs_split_by_outcome() {
        assert_eq!(HookClass::of(Kind::Repair, true), HookClass::Repaired);
        assert_eq!(HookClass::of(Kind::Repair, false), HookClass::RepairFailed);
        assert_eq!(HookClass::of(Kind::Sick, false).name(), "sick");
    }
}
