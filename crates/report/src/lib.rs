//! The text lines xfsprogs 7.2's `xfs_healer` prints, byte for byte, as
//! pure functions. One deliberate difference: mount points and file names
//! are escaped ([`escape_name`]) instead of printed raw. Whoever can create
//! a file can choose its name, so a name must not be able to forge a log
//! line (newline, U+2028 LINE SEPARATOR), drive a terminal (ESC), or make
//! the line read other than it is (bidi overrides such as U+202E, invisible
//! format characters such as U+200B). Every control, format, line or
//! paragraph separator, private-use and unassigned character is therefore
//! escaped as `\xNN` per UTF-8 byte, as are invalid bytes and the backslash
//! (`\\`); ordinary names, including non-ASCII letters and emoji, print
//! unchanged.

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt::Write as _;
use unicode_properties::UnicodeGeneralCategory as _;
use xfs_events::{Event, HealthObject, Mask, SHUTDOWN_NAMES};
use xfs_policy::Object;
use xfs_policy::media::Damage;

/// Escapes a name for a log line.
///
/// A character passes unchanged unless it is a backslash or its Unicode
/// general category is one of
///
/// - `Cc` control: C0, DEL and C1, so no newline, carriage return or
///   terminal escape sequence reaches the log;
/// - `Cf` format: the bidi controls (U+202A–202E, U+2066–2069, U+200E,
///   U+200F, U+061C), which reorder what follows so `invoice\u{202E}fdp.exe`
///   would read as `invoiceexe.pdf`; the invisible U+200B, U+200C, U+200D,
///   U+2060, U+FEFF and U+00AD; the tag characters U+E0001 and
///   U+E0020–E007F;
/// - `Zl` and `Zp`: U+2028 and U+2029, which end a line for Unicode-aware
///   readers (journal viewers, editors, JSON consumers);
/// - `Co` private use and `Cn` unassigned (noncharacters included): no
///   agreed rendering, and a later Unicode version may give them one;
/// - `Cs` surrogates cannot occur in a `str` (they arrive as invalid bytes).
///
/// A backslash becomes `\\`; an escaped character and every byte of
/// invalid UTF-8 become `\xNN` (two lowercase hex digits) per byte. Since
/// plain output characters are never a backslash, the mapping is injective
/// and reversible: distinct names give distinct text. Categories come from
/// the `unicode-properties` tables (their version is
/// `unicode_properties::UNICODE_VERSION`), so a character assigned after
/// that version is still escaped as `Cn`. Other spaces (`Zs`, such as
/// U+00A0) and combining marks are visible or attach to a visible
/// character, and pass. Printable ASCII is decided without a table lookup,
/// and a name needing no escape is returned borrowed.
pub fn escape_name(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.chars().all(plain)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if plain(c) {
                out.push(c);
            } else if c == '\\' {
                out.push_str("\\\\");
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// Whether [`escape_name`] prints `c` as itself: printable ASCII other than
/// the backslash (no table lookup), or a non-ASCII character outside the
/// categories Cc, Cf, Zl, Zp, Cs, Co and Cn.
#[inline]
fn plain(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, ' '..='~') && c != '\\';
    }
    use unicode_properties::GeneralCategory as Gc;
    !matches!(
        c.general_category(),
        Gc::Control
            | Gc::Format
            | Gc::LineSeparator
            | Gc::ParagraphSeparator
            | Gc::Surrogate
            | Gc::PrivateUse
            | Gc::Unassigned
    )
}

/// The names of the set bits, joined with ", "; unnamed bits as `0x<hex>`.
fn mask_words(mask: Mask, names: &[&str]) -> String {
    let mut out = String::new();
    push_mask_words(&mut out, mask, names);
    out
}

/// The names of `mask`'s bits, `, `-separated (an unnamed bit as its
/// value): each line is built in one buffer, as the core makes several a
/// report.
fn push_mask_words(out: &mut String, mask: Mask, names: &[&str]) {
    let mut first = true;
    for bit in 0..32 {
        if mask.0 & (1 << bit) != 0 {
            if !first {
                out.push_str(", ");
            }
            first = false;
            match names.get(bit) {
                Some(name) => out.push_str(name),
                None => {
                    let _ = write!(out, "{:#x}", 1u32 << bit);
                }
            }
        }
    }
}

/// `<mnt>`, or `<path>` / `<mnt> ino N gen 0xG` for inode reports.
fn push_inode_prefix(
    out: &mut String,
    mount: &[u8],
    path: Option<&[u8]>,
    ino: u64,
    generation: u32,
) {
    match path {
        Some(path) => out.push_str(&escape_name(path)),
        None => {
            let _ = write!(out, "{} ino {ino} gen {generation:#x}", escape_name(mount));
        }
    }
}

fn push_object_prefix(out: &mut String, mount: &[u8], object: &HealthObject, path: Option<&[u8]>) {
    let mnt = escape_name(mount);
    let _ = match *object {
        HealthObject::Fs { .. } => write!(out, "{mnt}"),
        HealthObject::Ag { agno, .. } => write!(out, "{mnt} agno {agno:#x}"),
        HealthObject::RtGroup { rgno, .. } => write!(out, "{mnt} rgno {rgno:#x}"),
        HealthObject::Inode {
            ino, generation, ..
        } => {
            push_inode_prefix(out, mount, path, ino, generation);
            Ok(())
        }
    };
}

/// What lies on a failed media range (ours; the reference prints only
/// the range): a line per AG structure, the log, free space or unknown
/// owner, and one count of the files hit. Files are not named here: the
/// kernel reports each lost file range itself (DATALOST, printed as the
/// reference does) and marks a hit block map sick, and extra lines naming
/// a file would change what tests that grep for it see.
pub fn media_lines(
    mount: &[u8],
    range: (xfs_events::Device, u64, u64),
    damages: &[Damage],
    more: usize,
) -> Vec<String> {
    let mnt = escape_name(mount);
    let (device, daddr, bbcount) = range;
    let range = format!(
        "{mnt} {} daddr {daddr:#x} bbcount {bbcount:#x}",
        device.word()
    );
    let mut lines = Vec::new();
    let mut files: Vec<u64> = Vec::new();
    let mut maps: Vec<u64> = Vec::new();
    let mut shared = false;
    for damage in damages {
        let line = match *damage {
            Damage::FileData { ino, shared: s, .. } => {
                shared |= s;
                if !files.contains(&ino) {
                    files.push(ino);
                }
                continue;
            }
            Damage::FileMap { ino, .. } => {
                if !maps.contains(&ino) {
                    maps.push(ino);
                }
                continue;
            }
            Damage::AgMetadata { agno, what, .. } => {
                format!("{mnt} agno {agno:#x} {what}: on failed media")
            }
            Damage::Log => format!("{range}: log on failed media, which online repair cannot move"),
            Damage::Free => format!("{range}: free space, no data lost"),
            Damage::Unknown => format!("{range}: owner unknown without a reverse-mapping btree"),
            Damage::Defective => format!("{range}: already marked defective"),
            Damage::Other(code) => format!("{range}: owner {code:#x}"),
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if !files.is_empty() {
        let reflink = if shared {
            ", in blocks shared between files (reflink)"
        } else {
            ""
        };
        lines.push(format!(
            "{range}: data of {} file{} on failed media{reflink}",
            files.len(),
            plural(files.len())
        ));
    }
    if !maps.is_empty() {
        lines.push(format!(
            "{range}: block maps of {} file{} on failed media",
            maps.len(),
            plural(maps.len())
        ));
    }
    if more > 0 {
        lines.push(format!("{range}: {more} more owners not listed"));
    }
    lines
}

/// The line for one event, or None where the reference prints nothing.
/// `path` is the resolved path for inode and file events; `strerror` maps
/// a positive errno to glibc's text.
pub fn event_line(
    mount: &[u8],
    event: &Event,
    path: Option<&[u8]>,
    strerror: impl Fn(u32) -> String,
) -> Option<String> {
    let mnt = escape_name(mount);
    Some(match *event {
        Event::Running => format!("{mnt}: monitoring started"),
        Event::Lost { count } => format!("{mnt}: {count} events lost"),
        Event::Unmount => format!("{mnt}: filesystem unmounted"),
        Event::Shutdown { reasons } => {
            format!(
                "{mnt}: filesystem shut down due to {}",
                mask_words(Mask(reasons.0), SHUTDOWN_NAMES)
            )
        }
        Event::Health { verdict, object } => {
            let mut line = String::with_capacity(80);
            push_object_prefix(&mut line, mount, &object, path);
            line.push(' ');
            push_mask_words(&mut line, object.mask(), object.names());
            line.push_str(": ");
            line.push_str(verdict.word());
            line
        }
        Event::Media {
            device,
            daddr,
            bbcount,
        } => {
            format!(
                "{mnt} {} daddr {daddr:#x} bbcount {bbcount:#x}: media error",
                device.word()
            )
        }
        Event::FileIo {
            kind,
            ino,
            generation,
            pos,
            len,
            error,
        } => {
            let mut line = String::with_capacity(80);
            push_inode_prefix(&mut line, mount, path, ino, generation);
            let _ = if error == 0 || kind == xfs_events::FileIoKind::DataLost {
                write!(line, " pos {pos} len {len}: {} failed", kind.word())
            } else {
                write!(
                    line,
                    " pos {pos} len {len}: {}: {}",
                    kind.word(),
                    strerror(error)
                )
            };
            line
        }
        // The reference drops these silently; we say what arrived.
        Event::Unknown { domain, kind } => {
            format!("{mnt}: unknown event domain {domain:#x} type {kind:#x}")
        }
    })
}

/// The reference's verdict on a repair, from the scrub output flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairOutcome {
    Failed,
    CrossReferenceFailed,
    NotNeeded,
    Success,
}

const OFLAG_CORRUPT: u32 = 0x2;
const OFLAG_XFAIL: u32 = 0x8;
const OFLAG_XCORRUPT: u32 = 0x10;
const OFLAG_INCOMPLETE: u32 = 0x20;
const OFLAG_NO_REPAIR_NEEDED: u32 = 0x80;

impl RepairOutcome {
    /// Decision order of xfsprogs 7.2 (PREEN and WARNING are ignored).
    pub fn from_oflags(flags: u32) -> RepairOutcome {
        if flags & (OFLAG_CORRUPT | OFLAG_INCOMPLETE) != 0 {
            RepairOutcome::Failed
        } else if flags & (OFLAG_XFAIL | OFLAG_XCORRUPT) != 0 {
            RepairOutcome::CrossReferenceFailed
        } else if flags & OFLAG_NO_REPAIR_NEEDED != 0 {
            RepairOutcome::NotNeeded
        } else {
            RepairOutcome::Success
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            RepairOutcome::Failed => "Repair unsuccessful; offline repair required.",
            RepairOutcome::CrossReferenceFailed => {
                "Seems correct but cross-referencing failed; offline repair recommended."
            }
            RepairOutcome::NotNeeded => "No modification needed.",
            RepairOutcome::Success => "Repairs successful.",
        }
    }
}

/// `<prefix> <struct>: <text>` for one repaired structure (`bit` is the
/// single sick bit repaired; an unnamed one prints `unknown flag`).
pub fn repair_line(
    mount: &[u8],
    object: &Object,
    bit: u32,
    path: Option<&[u8]>,
    text: &str,
) -> String {
    let mut line = String::with_capacity(80);
    let mnt = escape_name(mount);
    let names = match *object {
        Object::Fs => {
            line.push_str(&mnt);
            xfs_events::FS_NAMES
        }
        Object::Ag(agno) => {
            let _ = write!(line, "{mnt} agno {agno:#x}");
            xfs_events::AG_NAMES
        }
        Object::RtGroup(rgno) => {
            let _ = write!(line, "{mnt} rgno {rgno:#x}");
            xfs_events::RTGROUP_NAMES
        }
        Object::Inode { ino, generation } => {
            push_inode_prefix(&mut line, mount, path, ino, generation);
            xfs_events::INODE_NAMES
        }
    };
    let name = names
        .get(bit.trailing_zeros() as usize)
        .filter(|_| bit.is_power_of_two())
        .copied()
        .unwrap_or("unknown flag");
    let _ = write!(line, " {name}: {text}");
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use xfs_events::{Device, FileIoKind, ShutdownReasons, Verdict};

    fn line(event: Event, path: Option<&[u8]>) -> String {
        event_line(b"/mnt", &event, path, |e| {
            if e == 5 {
                "Input/output error".into()
            } else {
                format!("E{e}")
            }
        })
        .unwrap()
    }

    #[test]
    fn reference_formats() {
        let health = |verdict, object| Event::Health { verdict, object };
        let cases: Vec<(Event, Option<&[u8]>, &str)> = vec![
            (Event::Lost { count: 32 }, None, "/mnt: 32 events lost"),
            (Event::Running, None, "/mnt: monitoring started"),
            (Event::Unmount, None, "/mnt: filesystem unmounted"),
            (
                Event::Shutdown {
                    reasons: ShutdownReasons(4),
                },
                None,
                "/mnt: filesystem shut down due to forced unmount",
            ),
            (
                Event::Shutdown {
                    reasons: ShutdownReasons(6),
                },
                None,
                "/mnt: filesystem shut down due to log I/O error, forced unmount",
            ),
            (
                health(Verdict::Sick, HealthObject::Fs { mask: Mask(0x81) }),
                None,
                "/mnt fscounters, nlinks: sick",
            ),
            (
                health(
                    Verdict::Sick,
                    HealthObject::Ag {
                        agno: 5,
                        mask: Mask(0x110),
                    },
                ),
                None,
                "/mnt agno 0x5 bnobt, rmapbt: sick",
            ),
            (
                health(
                    Verdict::Sick,
                    HealthObject::RtGroup {
                        rgno: 5,
                        mask: Mask(2),
                    },
                ),
                None,
                "/mnt rgno 0x5 bitmap: sick",
            ),
            (
                health(
                    Verdict::Healthy,
                    HealthObject::Inode {
                        ino: 13,
                        generation: 3,
                        mask: Mask(1),
                    },
                ),
                None,
                "/mnt ino 13 gen 0x3 core: healthy",
            ),
            (
                health(
                    Verdict::Corrupt,
                    HealthObject::Inode {
                        ino: 13,
                        generation: 3,
                        mask: Mask(0x10),
                    },
                ),
                Some(b"/mnt/a"),
                "/mnt/a directory: corrupt",
            ),
            (
                health(
                    Verdict::Sick,
                    HealthObject::Ag {
                        agno: 0,
                        mask: Mask(0x1_0001),
                    },
                ),
                None,
                "/mnt agno 0x0 super, 0x10000: sick",
            ),
            (
                Event::Media {
                    device: Device::Data,
                    daddr: 0x13,
                    bbcount: 5,
                },
                None,
                "/mnt datadev daddr 0x13 bbcount 0x5: media error",
            ),
            (
                Event::FileIo {
                    kind: FileIoKind::DirectRead,
                    ino: 9,
                    generation: 1,
                    pos: 4096,
                    len: 4096,
                    error: 5,
                },
                Some(b"/mnt/a"),
                "/mnt/a pos 4096 len 4096: directio_read: Input/output error",
            ),
            (
                Event::FileIo {
                    kind: FileIoKind::DataLost,
                    ino: 9,
                    generation: 1,
                    pos: 0,
                    len: 4096,
                    error: 5,
                },
                Some(b"/mnt/a"),
                "/mnt/a pos 0 len 4096: media failed",
            ),
            (
                Event::FileIo {
                    kind: FileIoKind::BufferedWrite,
                    ino: 9,
                    generation: 0xa,
                    pos: 0,
                    len: 0,
                    error: 0,
                },
                None,
                "/mnt ino 9 gen 0xa pos 0 len 0: buffered_write failed",
            ),
            (
                Event::Unknown { domain: 9, kind: 2 },
                None,
                "/mnt: unknown event domain 0x9 type 0x2",
            ),
        ];
        for (event, path, want) in cases {
            assert_eq!(line(event, path), want);
        }
    }

    #[test]
    fn repair_outcomes() {
        assert_eq!(RepairOutcome::from_oflags(0x1), RepairOutcome::Success);
        assert_eq!(RepairOutcome::from_oflags(0x81), RepairOutcome::NotNeeded);
        assert_eq!(RepairOutcome::from_oflags(0x3), RepairOutcome::Failed);
        assert_eq!(RepairOutcome::from_oflags(0x21), RepairOutcome::Failed);
        assert_eq!(
            RepairOutcome::from_oflags(0x99),
            RepairOutcome::CrossReferenceFailed
        );
        assert_eq!(RepairOutcome::from_oflags(0x45), RepairOutcome::Success);
        let ok = RepairOutcome::Success.message();
        assert_eq!(
            repair_line(b"/mnt", &Object::Ag(1), 0x2, None, ok),
            "/mnt agno 0x1 agf: Repairs successful."
        );
        assert_eq!(
            repair_line(b"/mnt", &Object::Fs, 0x1, None, ok),
            "/mnt fscounters: Repairs successful."
        );
        assert_eq!(
            repair_line(
                b"/mnt",
                &Object::Inode {
                    ino: 131,
                    generation: 2
                },
                0x10,
                Some(b"/mnt/d"),
                ok
            ),
            "/mnt/d directory: Repairs successful."
        );
        assert_eq!(
            repair_line(
                b"/mnt",
                &Object::Inode {
                    ino: 131,
                    generation: 2
                },
                0x10,
                None,
                ok
            ),
            "/mnt ino 131 gen 0x2 directory: Repairs successful."
        );
        assert_eq!(
            repair_line(b"/mnt", &Object::RtGroup(0), 1 << 20, None, ok),
            "/mnt rgno 0x0 unknown flag: Repairs successful."
        );
    }

    #[test]
    fn media_lines_name_structures_and_count_files() {
        let range = (Device::Data, 0x4c0, 8);
        let data = |ino, shared| Damage::FileData {
            ino,
            attr_fork: false,
            pos: 0,
            len: 4096,
            shared,
        };
        let damages = [
            data(9, true),
            data(10, true),
            data(9, false),
            Damage::FileMap {
                ino: 11,
                attr_fork: true,
            },
            Damage::AgMetadata {
                agno: 1,
                mask: 0xc0,
                what: "inode btrees",
            },
            Damage::AgMetadata {
                agno: 1,
                mask: 0xc0,
                what: "inode btrees",
            },
            Damage::Free,
        ];
        assert_eq!(
            media_lines(b"/mnt", range, &damages, 2),
            [
                "/mnt agno 0x1 inode btrees: on failed media",
                "/mnt datadev daddr 0x4c0 bbcount 0x8: free space, no data lost",
                "/mnt datadev daddr 0x4c0 bbcount 0x8: data of 2 files on failed media, in blocks shared between files (reflink)",
                "/mnt datadev daddr 0x4c0 bbcount 0x8: block maps of 1 file on failed media",
                "/mnt datadev daddr 0x4c0 bbcount 0x8: 2 more owners not listed",
            ]
        );
        assert_eq!(
            media_lines(b"/mnt", range, &[data(9, false)], 0),
            ["/mnt datadev daddr 0x4c0 bbcount 0x8: data of 1 file on failed media"]
        );
        assert_eq!(
            media_lines(b"/mnt", range, &[Damage::Unknown], 0),
            ["/mnt datadev daddr 0x4c0 bbcount 0x8: owner unknown without a reverse-mapping btree"]
        );
        assert!(media_lines(b"/mnt", range, &[], 0).is_empty());
    }

    #[test]
    fn hostile_names_are_escaped() {
        assert_eq!(escape_name(b"/mnt/plain name"), "/mnt/plain name");
        assert_eq!(escape_name("/mnt/üñí".as_bytes()), "/mnt/üñí");
        assert_eq!(escape_name(b"/mnt/a\nb"), "/mnt/a\\x0ab");
        assert_eq!(escape_name(b"/mnt/\xff\\"), "/mnt/\\xff\\\\");
        assert_eq!(escape_name(b"\x1b[31m"), "\\x1b[31m");
    }

    /// The code points the escaping exists for: bidi controls, invisible
    /// format characters, line and paragraph separators, soft hyphen, tag
    /// characters, private use, unassigned and noncharacters, C1 controls.
    const HOSTILE: &str = concat!(
        "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}\u{200E}\u{200F}\u{061C}",
        "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}\u{2028}\u{2029}\u{00AD}",
        "\u{E0000}\u{E0001}\u{E0020}\u{E0041}\u{E007F}",
        "\u{E000}\u{F8FF}\u{F0000}\u{10FFFD}\u{0378}\u{FFFF}\u{10FFFF}\u{0085}\u{009B}",
    );

    /// Characters that must print as themselves (letters, CJK, RTL
    /// letters, emoji, a combining mark, a variation selector, NBSP).
    const ORDINARY: &str = "éüñ日本Жعא\u{1F600}\u{0301}\u{FE0F}\u{00A0}€";

    fn hex(c: char) -> String {
        c.to_string()
            .bytes()
            .map(|b| format!("\\x{b:02x}"))
            .collect()
    }

    /// Whether a character has a category escape_name must never print raw,
    /// checked against the tables directly rather than through `plain`.
    fn forbidden(c: char) -> bool {
        use unicode_properties::GeneralCategory as Gc;
        use unicode_properties::GeneralCategoryGroup as Group;
        c.general_category_group() == Group::Other
            || matches!(
                c.general_category(),
                Gc::LineSeparator | Gc::ParagraphSeparator
            )
    }

    /// The inverse of the documented escaping (`\\` and `\xNN`).
    fn unescape(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1)) {
                (b'\\', Some(b'\\')) => {
                    out.push(b'\\');
                    i += 2;
                }
                (b'\\', Some(b'x')) => {
                    let digits = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                    assert!(
                        digits
                            .bytes()
                            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                        "{text:?}"
                    );
                    out.push(u8::from_str_radix(digits, 16).unwrap());
                    i += 4;
                }
                (b'\\', other) => panic!("stray backslash before {other:?} in {text:?}"),
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }

    #[test]
    fn bidi_invisible_and_separator_characters_are_escaped() {
        assert_eq!(escape_name("\u{202E}".as_bytes()), "\\xe2\\x80\\xae");
        assert_eq!(
            escape_name("/mnt/invoice\u{202E}fdp.exe".as_bytes()),
            "/mnt/invoice\\xe2\\x80\\xaefdp.exe"
        );
        assert_eq!(
            escape_name("/mnt/a\u{2028}b".as_bytes()),
            "/mnt/a\\xe2\\x80\\xa8b"
        );
        assert_eq!(escape_name("\u{FEFF}".as_bytes()), "\\xef\\xbb\\xbf");
        assert_eq!(escape_name("\u{00AD}".as_bytes()), "\\xc2\\xad");
        assert_eq!(escape_name("\u{E0041}".as_bytes()), "\\xf3\\xa0\\x81\\x81");
        for c in HOSTILE.chars() {
            let name = format!("/mnt/a{c}b");
            let want = format!("/mnt/a{}b", hex(c));
            assert_eq!(escape_name(name.as_bytes()), want, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn tag_characters_are_all_escaped() {
        for cp in 0xE0000..=0xE007F {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(escape_name(c.to_string().as_bytes()), hex(c), "U+{cp:04X}");
        }
    }

    #[test]
    fn private_use_and_unassigned_are_escaped() {
        assert_eq!(escape_name("\u{E000}".as_bytes()), "\\xee\\x80\\x80");
        assert_eq!(escape_name("\u{0378}".as_bytes()), "\\xcd\\xb8");
        assert_eq!(escape_name("\u{10FFFF}".as_bytes()), "\\xf4\\x8f\\xbf\\xbf");
    }

    #[test]
    fn ordinary_unicode_passes_unchanged() {
        for name in [
            "/mnt/café",
            "/mnt/über",
            "/mnt/日本",
            "/mnt/\u{1F600}",
            "/mnt/e\u{0301}",
            "/mnt/Жук عربي עברית",
        ] {
            assert!(
                matches!(escape_name(name.as_bytes()), Cow::Borrowed(n) if n == name),
                "{name:?}"
            );
        }
        for c in ORDINARY.chars() {
            let name = format!("x{c}y");
            assert_eq!(escape_name(name.as_bytes()), name, "U+{:04X}", c as u32);
        }
        let ascii: Vec<u8> = (0x20..=0x7e).filter(|&b| b != b'\\').collect();
        assert!(matches!(escape_name(&ascii), Cow::Borrowed(_)));
    }

    /// Names mixing raw bytes, ASCII, any char, and the hostile and
    /// ordinary characters above.
    fn names() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            (0x20u8..0x7f).prop_map(|b| vec![b]),
            any::<char>().prop_map(|c| c.to_string().into_bytes()),
            proptest::sample::select(HOSTILE.chars().collect::<Vec<_>>())
                .prop_map(|c| c.to_string().into_bytes()),
            proptest::sample::select(ORDINARY.chars().collect::<Vec<_>>())
                .prop_map(|c| c.to_string().into_bytes()),
            Just(b"\\x41".to_vec()),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn escaping_is_injective_and_line_safe(a in names(), b in names()) {
            let (ea, eb) = (escape_name(&a), escape_name(&b));
            prop_assert!(!ea.chars().any(char::is_control));
            prop_assert!(!ea.chars().any(forbidden), "{:?}", ea);
            prop_assert_eq!(a == b, ea == eb);
        }

        #[test]
        fn escaping_round_trips(name in names()) {
            let escaped = escape_name(&name);
            prop_assert!(!escaped.chars().any(forbidden), "{:?}", escaped);
            prop_assert_eq!(unescape(&escaped), name.clone());
            let needs_none = std::str::from_utf8(&name).is_ok_and(|t| t.chars().all(|c| !forbidden(c) && c != '\\'));
            prop_assert_eq!(needs_none, matches!(escaped, Cow::Borrowed(_)));
        }

        #[test]
        fn event_lines_never_contain_control_characters(mount in names(), path in names(), raw in proptest::collection::vec(any::<u8>(), 64)) {
            let record = xfs_events::decode(&raw.clone().try_into().unwrap());
            if let Some(l) = event_line(&mount, &record.event, Some(&path), |_| "x".into()) {
                prop_assert!(!l.chars().any(char::is_control));
                prop_assert!(!l.chars().any(forbidden), "{:?}", l);
            }
        }
    }
}
