//! Health monitor records: `xfs_events::decode` on every 64-byte record of
//! the input, `RecordAssembler` fed the same stream in arbitrary pieces,
//! and the report line of every decoded event.
//!
//! Input: `[n % 8] [n piece lengths] [stream...]`. Checks: decoding keeps
//! the raw bytes and timestamp; `raw_key` only clears the timestamp; the
//! pieces give exactly the records of the whole stream, with `len % 64`
//! bytes pending; every report line is a single line, even for a mount
//! point and path with newlines in them.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_events::{RECORD_LEN, Record, RecordAssembler, decode};

fuzz_target!(|data: &[u8]| {
    let (cuts, stream) = match data.split_first() {
        Some((&n, rest)) => rest.split_at(usize::from(n % 8).min(rest.len())),
        None => (&[][..], &[][..]),
    };

    let mut whole: Vec<Record> = Vec::new();
    for (i, chunk) in stream.chunks_exact(RECORD_LEN).enumerate() {
        let raw: &[u8; RECORD_LEN] = chunk.try_into().expect("chunks_exact");
        let record = decode(raw);
        assert_eq!(&record.raw, raw);
        assert_eq!(
            record.time_ns,
            u64::from_le_bytes(raw[8..16].try_into().expect("8 bytes"))
        );
        let key = record.raw_key();
        assert_eq!(key[..8], raw[..8]);
        assert_eq!(key[8..16], [0u8; 8]);
        assert_eq!(key[16..], raw[16..]);

        let path: Option<&[u8]> = if i % 2 == 0 {
            None
        } else {
            Some(b"/mnt/dir\nfake: line\x1b[0m")
        };
        if let Some(line) =
            xfs_report::event_line(b"/mnt\n", &record.event, path, |e| format!("errno {e}"))
        {
            assert!(!line.contains('\n'), "multi-line report: {line:?}");
        }
        whole.push(record);
    }

    let mut assembler = RecordAssembler::default();
    let mut pieces: Vec<Record> = Vec::new();
    let mut rest = stream;
    for &cut in cuts {
        let (piece, tail) = rest.split_at(usize::from(cut).min(rest.len()));
        assembler.feed(piece, |r| pieces.push(r));
        rest = tail;
    }
    assembler.feed(rest, |r| pieces.push(r));
    assert_eq!(pieces, whole);
    assert_eq!(assembler.pending(), stream.len() % RECORD_LEN);
});
