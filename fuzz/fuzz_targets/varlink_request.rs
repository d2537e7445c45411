//! The varlink server's input path on arbitrary client bytes: framing
//! (split at NUL, bounded), request parsing and dispatch. Checks: no
//! panic; no message handed on exceeds the bound; every answer the
//! dispatcher writes itself is one NUL-terminated JSON object.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_varlink::{Call, Framer, MAX_MESSAGE, dispatch, parse_request};

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::default();
    // Feed in two pieces, split where the first byte says.
    let cut = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    for piece in [&data[..cut], &data[cut..]] {
        let Ok(messages) = framer.feed(piece) else { return };
        for message in messages {
            assert!(message.len() <= MAX_MESSAGE);
            let Ok(request) = parse_request(&message) else { continue };
            if let Call::Answered(bytes) = dispatch(&request) {
                assert_eq!(bytes.iter().filter(|&&b| b == 0).count(), 1);
                assert_eq!(bytes.last(), Some(&0));
                let reply: serde_json::Value = serde_json::from_slice(&bytes[..bytes.len() - 1]).expect("reply is JSON");
                assert!(reply.is_object());
            }
        }
    }
});
