//! What the healer does for a filesystem: the `autofsck` property and the
//! command-line overrides, decided exactly as xfsprogs 7.2 does (pure).

/// The daemon's mode of operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report events and repair sick metadata.
    Repair,
    /// Report events only.
    LogOnly,
    /// Exit: the property says `none`, or nothing tells us to run.
    Disabled,
}

/// The property's recognised values (`xfs_property` accepts no others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    Repair,
    Check,
    Optimize,
    None,
    /// Unset, unreadable, or a value the reference does not know.
    Unset,
}

/// Name of the extended attribute holding the property on the root directory.
pub const XATTR_NAME: &str = "trusted.xfs:autofsck";

impl Property {
    /// Parses the raw attribute value. Like the reference (`strcmp` on a
    /// zeroed buffer), only the exact words count: `"repair\n"` is unknown.
    /// An embedded NUL ends the string, as it does for C.
    pub fn parse(raw: Option<&[u8]>) -> Property {
        let Some(raw) = raw else {
            return Property::Unset;
        };
        let word = raw.split(|&b| b == 0).next().unwrap_or_default();
        match word {
            b"repair" => Property::Repair,
            b"check" => Property::Check,
            b"optimize" => Property::Optimize,
            b"none" => Property::None,
            _ => Property::Unset,
        }
    }
}

/// The outcome of the decision: the mode and the line the reference prints
/// on stdout (after `<mnt>: `), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub mode: Mode,
    pub message: Option<&'static str>,
}

const REPAIRING: &str = "Automatically repairing per autofsck directive.";
const LOGGING: &str = "Only logging errors per autofsck directive.";
const DISABLING: &str = "Disabling daemon per autofsck directive.";

/// Decides the mode when the property is consulted (no `--repair`, no
/// `--no-autofsck`). `has_backrefs` = the fs has rmapbt or parent pointers.
pub fn decide(property: Property, has_backrefs: bool, quiet: bool) -> Decision {
    let logging = Decision {
        mode: Mode::LogOnly,
        message: (!quiet).then_some(LOGGING),
    };
    let disabled = Decision {
        mode: Mode::Disabled,
        message: Some(DISABLING),
    };
    match property {
        Property::Repair => Decision {
            mode: Mode::Repair,
            message: Some(REPAIRING),
        },
        Property::Check | Property::Optimize => logging,
        Property::None => disabled,
        Property::Unset if has_backrefs => logging,
        Property::Unset => disabled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_words_only() {
        assert_eq!(Property::parse(Some(b"repair")), Property::Repair);
        assert_eq!(Property::parse(Some(b"repair\0garbage")), Property::Repair);
        assert_eq!(Property::parse(Some(b"repair\n")), Property::Unset);
        assert_eq!(Property::parse(Some(b"Repair")), Property::Unset);
        assert_eq!(Property::parse(Some(b"")), Property::Unset);
        assert_eq!(Property::parse(None), Property::Unset);
        assert_eq!(Property::parse(Some(b"check")), Property::Check);
        assert_eq!(Property::parse(Some(b"optimize")), Property::Optimize);
        assert_eq!(Property::parse(Some(b"none")), Property::None);
    }

    #[test]
    fn decision_table() {
        use Mode::*;
        let cases = [
            (Property::Repair, false, false, Repair, Some(REPAIRING)),
            (Property::Repair, true, true, Repair, Some(REPAIRING)),
            (Property::Check, true, false, LogOnly, Some(LOGGING)),
            (Property::Optimize, false, false, LogOnly, Some(LOGGING)),
            (Property::Check, true, true, LogOnly, None),
            (Property::None, true, false, Disabled, Some(DISABLING)),
            (Property::None, true, true, Disabled, Some(DISABLING)),
            (Property::Unset, true, false, LogOnly, Some(LOGGING)),
            (Property::Unset, false, false, Disabled, Some(DISABLING)),
        ];
        for (property, backrefs, quiet, mode, message) in cases {
            assert_eq!(
                decide(property, backrefs, quiet),
                Decision { mode, message },
                "{property:?} {backrefs} {quiet}"
            );
        }
    }
}
