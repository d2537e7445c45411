//! Finding the XFS mount a path names, from `/proc/self/mountinfo` (pure
//! parser; the caller reads the file).

/// One mountinfo line, the fields the healer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_id: u32,
    pub root: Vec<u8>,
    pub mount_point: Vec<u8>,
    pub fs_type: Vec<u8>,
    pub source: Vec<u8>,
}

/// Undoes the kernel's octal escapes (`\040` for space, `\012` newline,
/// `\134` backslash, `\011` tab) in mountinfo path fields.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (field[i], octal) {
            (b'\\', Some(d)) => {
                let value = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Parses one line; None for a malformed one (skipped, never fatal).
pub fn parse_line(line: &[u8]) -> Option<MountEntry> {
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let separator = fields.iter().position(|f| *f == b"-")?;
    if separator < 6 {
        return None;
    }
    Some(MountEntry {
        mount_id: std::str::from_utf8(fields[0]).ok()?.parse().ok()?,
        root: unescape(fields[3]),
        mount_point: unescape(fields[4]),
        fs_type: fields.get(separator + 1)?.to_vec(),
        source: unescape(fields.get(separator + 2)?),
    })
}

/// The XFS mount whose mount point is exactly `path` (already canonical);
/// the last one listed wins, as it is the one on top of the stack.
pub fn find_xfs_mount(mountinfo: &[u8], path: &[u8]) -> Option<MountEntry> {
    mountinfo
        .split(|&b| b == b'\n')
        .filter_map(parse_line)
        .rfind(|m| m.fs_type == b"xfs" && m.mount_point == path)
}

/// Mount points of every XFS mounted at its filesystem's root, in
/// mountinfo order: the places a moved or hidden filesystem may still be
/// reached (the caller proves which one is the monitored filesystem).
pub fn whole_xfs_mounts(mountinfo: &[u8]) -> Vec<Vec<u8>> {
    mountinfo
        .split(|&b| b == b'\n')
        .filter_map(parse_line)
        .filter(|m| m.fs_type == b"xfs" && m.root == b"/")
        .map(|m| m.mount_point)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"22 1 0:21 / / rw,relatime shared:1 - rootfs rootfs rw\n\
30 22 253:0 / /mnt/test rw,relatime shared:7 - xfs /dev/vda rw,attr2,inode64\n\
31 22 253:16 / /mnt/my\\040data rw - xfs /dev/vdb rw\n\
32 22 0:30 / /tmp rw - tmpfs tmpfs rw\n\
33 22 253:0 /sub /mnt/bind rw - xfs /dev/vda rw\n\
40 30 253:32 / /mnt/test rw,relatime - xfs /dev/vdc rw\n";

    #[test]
    fn finds_the_top_xfs_mount() {
        let m = find_xfs_mount(SAMPLE, b"/mnt/test").unwrap();
        assert_eq!(m.mount_id, 40);
        assert_eq!(m.source, b"/dev/vdc");
    }

    #[test]
    fn lists_whole_filesystem_xfs_mounts() {
        let all = whole_xfs_mounts(SAMPLE);
        assert_eq!(
            all,
            vec![
                b"/mnt/test".to_vec(),
                b"/mnt/my data".to_vec(),
                b"/mnt/test".to_vec()
            ]
        );
    }

    #[test]
    fn unescapes_paths() {
        let m = find_xfs_mount(SAMPLE, b"/mnt/my data").unwrap();
        assert_eq!(m.source, b"/dev/vdb");
        assert_eq!(unescape(b"a\\012b\\134c\\9"), b"a\nb\\c\\9");
    }

    #[test]
    fn ignores_other_filesystems_and_garbage() {
        assert!(find_xfs_mount(SAMPLE, b"/tmp").is_none());
        assert!(find_xfs_mount(SAMPLE, b"/mnt").is_none());
        assert!(parse_line(b"garbage").is_none());
        assert!(parse_line(b"x 1 2 3 4 5 - xfs").is_none());
        assert_eq!(find_xfs_mount(SAMPLE, b"/mnt/bind").unwrap().root, b"/sub");
    }
}
