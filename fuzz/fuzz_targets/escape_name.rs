//! `xfs_report::escape_name` on arbitrary bytes. Checks: the output has no
//! ASCII control byte (so no newline, no terminal escape); undoing the
//! escapes gives back the input exactly (so the mapping is injective);
//! names that need no escaping come out unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;

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
    if let Ok(text) = std::str::from_utf8(data)
        && text.chars().all(|c| !c.is_control() && c != '\\')
    {
        assert_eq!(&*out, text);
    }
});

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
