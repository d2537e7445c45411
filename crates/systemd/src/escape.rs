//! `systemd-escape --path` and `--template`, byte for byte (systemd's
//! `unit_name_path_escape` and `unit_name_replace_instance`).

use thiserror::Error;

/// systemd's limit on a unit name, including the suffix (`UNIT_NAME_MAX - 1`).
const UNIT_NAME_MAX_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EscapeError {
    /// The path has a `..` component; systemd refuses to escape it.
    #[error("path is not normalized")]
    NotNormalized,
    /// The template is not of the form `name@.suffix`.
    #[error("{0:?} is not a unit template")]
    NotATemplate(String),
    /// The resulting unit name exceeds systemd's 255-byte limit.
    #[error("unit name would be {0} bytes long, longer than systemd allows")]
    TooLong(usize),
}

/// Characters systemd leaves alone in unit names (apart from a leading `.`).
fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b':' | b'_' | b'.')
}

fn push_hex_escape(out: &mut String, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\x");
    out.push(HEX[usize::from(byte >> 4)] as char);
    out.push(HEX[usize::from(byte & 0xf)] as char);
}

/// Escapes a path like `systemd-escape --path`: duplicate slashes and `.`
/// components are dropped, `/` becomes `-`, the root is `-`, and every byte
/// outside `[A-Za-z0-9:_.]` (and a leading `.`) becomes `\xNN`.
pub fn escape_path(path: &[u8]) -> Result<String, EscapeError> {
    let components: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if components.iter().any(|c| *c == b"..") {
        return Err(EscapeError::NotNormalized);
    }
    if components.is_empty() {
        return Ok("-".to_string());
    }
    let mut out = String::with_capacity(path.len() * 2);
    for (i, component) in components.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        for (j, &byte) in component.iter().enumerate() {
            let leading_dot = i == 0 && j == 0 && byte == b'.';
            if is_plain(byte) && !leading_dot {
                out.push(byte as char);
            } else {
                push_hex_escape(&mut out, byte);
            }
        }
    }
    Ok(out)
}

/// `systemd-escape --template TEMPLATE --path PATH`, e.g.
/// `xfs_scrub@.service` and `/mnt/data` give `xfs_scrub@mnt-data.service`.
pub fn template_instance(template: &str, path: &[u8]) -> Result<String, EscapeError> {
    let (prefix, suffix) = template
        .split_once("@.")
        .filter(|(p, s)| !p.is_empty() && !s.is_empty() && !s.contains('@'))
        .ok_or_else(|| EscapeError::NotATemplate(template.to_string()))?;
    let name = format!("{prefix}@{}.{suffix}", escape_path(path)?);
    if name.len() > UNIT_NAME_MAX_LEN {
        return Err(EscapeError::TooLong(name.len()));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples_match_systemd_escape() {
        // Outputs of systemd 252's systemd-escape for the same inputs.
        let cases: &[(&[u8], &str)] = &[
            (b"/", "-"),
            (b"//", "-"),
            (b"/mnt", "mnt"),
            (b"/mnt/data/", "mnt-data"),
            (b"//a//./b/", "a-b"),
            (
                b"/mnt/a b/.x/\xc3\xbc-\\",
                "mnt-a\\x20b-.x-\\xc3\\xbc\\x2d\\x5c",
            ),
            (b"/.hidden/x", "\\x2ehidden-x"),
            (b"/a:b_c.d", "a:b_c.d"),
            (b"/new\nline", "new\\x0aline"),
        ];
        for (path, want) in cases {
            assert_eq!(
                escape_path(path).as_deref(),
                Ok(*want),
                "{:?}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn dot_dot_is_refused() {
        assert_eq!(escape_path(b"/a/../b"), Err(EscapeError::NotNormalized));
    }

    #[test]
    fn template_names() {
        assert_eq!(
            template_instance("xfs_scrub@.service", b"/").as_deref(),
            Ok("xfs_scrub@-.service")
        );
        assert_eq!(
            template_instance("xfs_healer@.service", b"/mnt/test").as_deref(),
            Ok("xfs_healer@mnt-test.service")
        );
        assert!(matches!(
            template_instance("plain.service", b"/x"),
            Err(EscapeError::NotATemplate(_))
        ));
        let long = format!("/{}", "a".repeat(250));
        assert!(matches!(
            template_instance("x@.service", long.as_bytes()),
            Err(EscapeError::TooLong(_))
        ));
    }

    /// The escaped name only holds characters valid in a unit name.
    fn valid_unit_chars(s: &str) -> bool {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\".contains(&b))
    }

    proptest! {
        #[test]
        fn escape_is_valid_and_injective_on_normalized_paths(
            a in proptest::collection::vec(1u8..=255, 1..40),
            b in proptest::collection::vec(1u8..=255, 1..40),
        ) {
            let norm = |v: &[u8]| -> Vec<u8> {
                let mut p = b"/".to_vec();
                p.extend(v.split(|&c| c == b'/').filter(|c| !c.is_empty() && *c != b"." && *c != b"..").collect::<Vec<_>>().join(&b'/'));
                p
            };
            let (pa, pb) = (norm(&a), norm(&b));
            let (ea, eb) = (escape_path(&pa).unwrap(), escape_path(&pb).unwrap());
            prop_assert!(valid_unit_chars(&ea));
            prop_assert_eq!(pa == pb, ea == eb);
        }
    }

    /// Compares with the host's systemd-escape, which `cargo xtask test`
    /// installs: a missing one fails the test, unless
    /// `XFS_HEALER_NO_SYSTEMD_ESCAPE=1` says to skip the comparison.
    #[test]
    fn agrees_with_the_real_systemd_escape() {
        let probe = match std::process::Command::new("systemd-escape")
            .arg("--version")
            .output()
        {
            Ok(probe) => probe,
            Err(_)
                if std::env::var_os("XFS_HEALER_NO_SYSTEMD_ESCAPE").is_some_and(|v| v == "1") =>
            {
                eprintln!("systemd-escape not installed: skipped (XFS_HEALER_NO_SYSTEMD_ESCAPE=1)");
                return;
            }
            Err(e) => panic!(
                "systemd-escape: {e}; install it (package systemd) or set XFS_HEALER_NO_SYSTEMD_ESCAPE=1"
            ),
        };
        assert!(probe.status.success());
        use std::os::unix::ffi::OsStrExt;
        let mut rng: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..200 {
            let mut path = vec![b'/'];
            for _ in 0..(rng % 24) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let byte = [
                    b'/', b'.', b'-', b' ', b'a', b'Z', b'9', b'\\', 0xc3, 0xbc, b'\n', b':', b'_',
                    0xff,
                ][(rng % 14) as usize];
                path.push(byte);
            }
            rng = rng.wrapping_add(0x632be59bd9b4e019);
            let out = std::process::Command::new("systemd-escape")
                .args(["--template", "xfs_scrub@.service", "--path", "--"])
                .arg(std::ffi::OsStr::from_bytes(&path))
                .output()
                .unwrap();
            let ours = template_instance("xfs_scrub@.service", &path);
            if out.status.success() {
                let theirs = String::from_utf8(out.stdout).unwrap();
                assert_eq!(
                    ours.as_deref(),
                    Ok(theirs.trim_end_matches('\n')),
                    "{path:?}"
                );
            } else {
                assert!(
                    ours.is_err(),
                    "{path:?}: systemd-escape refused, we gave {ours:?}"
                );
            }
        }
    }
}
