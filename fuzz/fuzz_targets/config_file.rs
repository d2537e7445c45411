//! The configuration file parser on arbitrary text: it must refuse or
//! accept without panicking, and whatever it accepts must be usable (no
//! zero where the daemon divides or bounds by it).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(settings) = xfs_healer::config::parse(&text) {
        assert!(settings.policy.max_pending >= 1);
        assert!(settings.policy.storm_targets >= 1);
        assert!(settings.patrol.bytes_per_second >= 1);
    }
});
