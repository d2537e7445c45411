# summary: a repair that fails escalates to one full xfs_scrub run (ours runs it as a child without systemd; the reference cannot)
# healers: reference ours
# timeout: 300
# Kernel 7.2.13 fails online repair of a directory while other directories
# of the filesystem are damaged too ("Repair unsuccessful"): a real failure.
mkfs_scratch -d size=512m
mount_scratch
damaged_directory d0
damaged_directory d1
damaged_directory d2
start_healer --repair
for d in d0 d1 d2; do ls "$MNT/$d" > /dev/null 2>&1; done
wait_for_output "directory: Repair unsuccessful; offline repair required." 60 || fail "no failed repair"
note "a repair failed"
if [ "$HEALER_KIND" = ours ]; then
	wait_for_output "$MNT: Full repairs in progress." 20 || fail "the failed repair did not start a full scan"
	wait_for_output "$MNT: Full repairs complete." 200 ||
		wait_for_output "$MNT: xfs_scrub exited with status" 1 || fail "the full scan did not finish"
	note "full scan over"
	# Failures of the other directories in the meantime start no second scan.
	scans=$(count_lines "Full repairs in progress.")
	record full_scans "$scans"
	[ "$scans" = 1 ] || fail "$scans full scans for one burst"
else
	# systemd is not running: the reference can only say it could not
	# start the xfs_scrub@ unit.
	wait_for_output "$MNT: Could not start xfs_scrub service unit: xfs_scrub@mnt-test.service" 20 ||
		fail "reference did not try a full scan"
	record full_scans 0
fi
# Nothing touches the directories now: does the healer keep repairing
# (its own repairs re-reading the damage make the kernel report it again)?
a=$(count_lines "Repair unsuccessful")
sleep 10
b=$(count_lines "Repair unsuccessful")
record failed_repairs total=$b,in_idle_10s=$((b - a))
if [ "$HEALER_KIND" = ours ]; then
	[ $((b - a)) = 0 ] || fail "$((b - a)) more failed repairs while nothing touched the filesystem (feedback loop)"
	umount "$MNT"
	wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
	expect_status 0 "$EXIT_STATUS" "healer after unmount"
else
	# The reference loops on its own echoes and keeps the fs busy.
	kill -TERM "$HEALER_PID"
	wait_exit "$HEALER_PID" 30 || fail "reference did not stop on SIGTERM"
fi
