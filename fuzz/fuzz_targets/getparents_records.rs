//! `xfs_abi::parents::records` on an arbitrary GETPARENTS buffer. Checks:
//! every name lies inside the buffer, after its 32-byte header, with no NUL
//! in it and its terminating NUL still inside the buffer; records never
//! overlap and there are at most `len / 32` of them.

#![no_main]

use libfuzzer_sys::fuzz_target;

const REC_HEADER: usize = 32;

fuzz_target!(|data: &[u8]| {
    let base = data.as_ptr() as usize;
    let mut previous_end = 0usize;
    let mut count = 0usize;
    for record in xfs_abi::parents::records(data) {
        count += 1;
        assert!(
            count <= data.len() / REC_HEADER,
            "more records than headers fit"
        );
        let start = record.name.as_ptr() as usize - base;
        let end = start + record.name.len();
        assert!(
            start >= previous_end + REC_HEADER,
            "name overlaps a header or an earlier record"
        );
        assert!(end < data.len(), "name or its NUL outside the buffer");
        assert_eq!(data[end], 0, "name not NUL-terminated");
        assert!(!record.name.contains(&0));
        previous_end = end + 1;
    }
});
