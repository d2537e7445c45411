//! `xfs_report::escape_name` on arbitrary bytes. Checks: the output has no
//! ASCII control byte (so no newline, no terminal escape) and no character
//! of category Cc, Cf, Zl, Zp, Co, Cn or Cs (so no bidi override, invisible
//! format character, U+2028/U+2029 line split, private-use or unassigned
//! character); undoing the escapes gives back the input exactly (so the
//! mapping is injective); names that need no escaping come out unchanged
//! and borrowed, and only those.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::borrow::Cow;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

fuzz_target!(|data: &[u8]| {
    let out = xfs_report::escape_name(data);
    assert!(
        !out.bytes().any(|b| b < 0x20 || b == 0x7f),
        "control byte in {out:?}"
    );
    assert_eq!(
        unescape(&out),
        data,
        "escape_name is not reversible for {data:?} -> {out:?}"
    );
    if let Some(c) = out.chars().find(|&c| forbidden(c)) {
        panic!(
            "U+{:04X} ({:?}) printed raw in {out:?}",
            c as u32,
            c.general_category()
        );
    }
    let plain = std::str::from_utf8(data)
        .ok()
        .filter(|text| text.chars().all(|c| !forbidden(c) && c != '\\'));
    match plain {
        Some(text) => {
            assert_eq!(&*out, text);
            assert!(
                matches!(out, Cow::Borrowed(_)),
                "plain name {text:?} copied"
            );
        }
        None => assert_ne!(out.as_bytes(), data, "{data:?} needs escaping"),
    }
});

/// The characters escape_name must never print raw, straight from the
/// Unicode tables: controls, format characters (bidi overrides, zero-width
/// characters, tags), line and paragraph separators, surrogates, private
/// use and unassigned code points.
fn forbidden(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
            | GeneralCategory::PrivateUse
            | GeneralCategory::Unassigned
    )
}

/// The inverse of the documented escaping: `\\` is a backslash, `\xNN` (two
/// lowercase hex digits) a byte, anything else itself. Panics on any other
/// backslash sequence, which escape_name must never produce.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            Some(b'x') => {
                let hex = bytes.get(i + 2..i + 4).expect("\\x with two digits");
                assert!(
                    hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                    "bad hex in {text:?}"
                );
                let hex = std::str::from_utf8(hex).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 4;
            }
            other => panic!("stray backslash ({other:?}) in {text:?}"),
        }
    }
    out
}
