# summary: repair mode, a damaged inode core: 7.2.13 reports the AG's inodes (no targeted repair), so a full xfs_scrub run repairs it; an oops in the kernel's inode repair (known-kernel-bug below) makes the run XFAIL, an expected kernel failure: neither PASS nor FAIL
# healers: reference ours
# timeout: 400
# known-kernel-bug: xrep_dinode_count_rtgroup_rmaps
mkfs_scratch -d size=512m
mount_scratch
damaged_inode_core
start_healer --repair
stat "$MNT/victim" > /dev/null 2>&1
wait_for_output "sick" 20 || fail "no sick report"
if [ "$HEALER_KIND" = ours ]; then
	wait_for_output "$MNT: Full repairs in progress." 20 || fail "no full scan for bits without a targeted repair"
	wait_for_output "$MNT: Full repairs complete." 300 || fail "the full scan did not repair everything: $(tail -5 "$HEALER_OUT")"
	cat "$MNT/victim" > /dev/null 2>&1 && note "the file is readable again" || note "the file is gone or still unreadable"
	scrub_clean
	record full_scans "$(count_lines 'Full repairs in progress.')"
	umount "$MNT" || fail "umount"
	wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
else
	# No running systemd: it can only say it could not start xfs_scrub@.
	wait_for_output "$MNT: Could not start xfs_scrub service unit" 20 || fail "reference did not try a full scan"
	kill -TERM "$HEALER_PID"
	wait_exit "$HEALER_PID" 30 || fail "reference did not stop on SIGTERM"
fi
