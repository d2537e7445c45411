//! Writing report lines: stdout for events and outcomes, stderr for
//! errors, one whole line per write so lines of the two streams and of
//! other processes never interleave mid-line.

use std::borrow::Cow;
use std::io::Write;

/// A mount point or path as it appears in messages: printable text
/// unchanged, control bytes and invalid UTF-8 escaped (see `xfs-report`).
pub fn display(bytes: &[u8]) -> Cow<'_, str> {
    xfs_report::escape_name(bytes)
}

/// Prints one line on stdout. A closed stdout (EPIPE) must not kill the
/// daemon: the line is dropped, monitoring goes on.
pub fn out(line: &str) {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    let _ = std::io::stdout().lock().write_all(&buf);
}

/// Prints one line on stderr.
pub fn err(line: &str) {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&buf);
}
