//! The GETFSMAP pager (`xfs_abi::fsmap::FsmapPager`) against a fake kernel
//! that answers from the input, and `describe_owner` on every record.
//!
//! Input: 20 bytes of query (device u32, first and end sector u64, little
//! endian), then replies: one control byte (0xff: the call fails; else
//! `fmh_entries` = byte % 8, which may exceed the 4-record buffer) and up
//! to 4 records of 64 bytes each (zero-padded at the end of the input).
//! Once the input is used up the fake returns no records.
//!
//! Checks: every call gets `fmh_count` = 4, the untouched high key, and as
//! low key the last record of the previous reply; no more calls than
//! replies + 1 (the pager always terminates); nothing after a record with
//! FMR_OF_LAST or after an error; records are yielded in reply order.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_abi::Errno;
use xfs_abi::fsmap::{
    FMR_OF_LAST, Fsmap, FsmapBuffer, FsmapPager, describe_owner, keys_for_sectors,
};

const N: usize = 4;

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn record(bytes: &[u8]) -> Fsmap {
    let mut b = [0u8; 64];
    b[..bytes.len()].copy_from_slice(bytes);
    Fsmap {
        fmr_device: u32_at(&b, 0),
        fmr_flags: u32_at(&b, 4),
        fmr_physical: u64_at(&b, 8),
        fmr_owner: u64_at(&b, 16),
        fmr_offset: u64_at(&b, 24),
        fmr_length: u64_at(&b, 32),
        fmr_reserved: [u64_at(&b, 40), u64_at(&b, 48), u64_at(&b, 56)],
    }
}

fuzz_target!(|data: &[u8]| {
    let mut query = [0u8; 20];
    let take = data.len().min(20);
    query[..take].copy_from_slice(&data[..take]);
    let keys = keys_for_sectors(u32_at(&query, 0), u64_at(&query, 4), u64_at(&query, 12));
    assert!(keys[1].fmr_physical >= keys[0].fmr_physical);

    let mut replies = &data[take..];
    let mut sent: Vec<Fsmap> = Vec::new();
    let mut expected_low = keys[0];
    let mut max_calls = 1u64;
    let mut fake = |buf: &mut FsmapBuffer<N>| -> Result<(), Errno> {
        assert_eq!(buf.head.fmh_count as usize, N);
        assert_eq!(
            buf.head.fmh_keys[0], expected_low,
            "low key is not the previous last record"
        );
        assert_eq!(buf.head.fmh_keys[1], keys[1], "high key changed");
        let Some((&control, rest)) = replies.split_first() else {
            buf.head.fmh_entries = 0;
            return Ok(());
        };
        if control == 0xff {
            replies = rest;
            return Err(Errno::IO);
        }
        let entries = usize::from(control % 8);
        let (payload, rest) = rest.split_at((entries.min(N) * 64).min(rest.len()));
        replies = rest;
        for (i, slot) in buf.recs.iter_mut().enumerate().take(entries.min(N)) {
            let bytes = payload.get(i * 64..).unwrap_or(&[]);
            *slot = record(&bytes[..bytes.len().min(64)]);
            sent.push(*slot);
            expected_low = *slot;
        }
        buf.head.fmh_entries = entries as u32;
        Ok(())
    };
    max_calls += data.len() as u64;

    let mut got: Vec<Fsmap> = Vec::new();
    let mut ended = false;
    {
        let mut pager = FsmapPager::new(keys, &mut fake);
        while let Some(item) = pager.next() {
            assert!(!ended, "item after LAST or an error");
            assert!(pager.calls() <= max_calls, "pager does not terminate");
            match item {
                Ok(rec) => {
                    let _ = describe_owner(&rec);
                    ended = rec.fmr_flags & FMR_OF_LAST != 0;
                    got.push(rec);
                }
                Err(_) => ended = true,
            }
        }
        assert!(pager.next().is_none(), "pager resumed after the end");
    }
    assert!(sent.starts_with(&got), "records out of order");
});
