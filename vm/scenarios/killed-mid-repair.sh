# summary: a healer killed (SIGKILL) with repairs pending is noticed by the next one, which runs one full scan so the lost work is not lost
# healers: ours
# timeout: 360
N=20
mkfs_scratch -m rmapbt=1 -d size=512m
mount_scratch
damaged_file_forks $N
start_healer --repair
kill -STOP "$HEALER_PID"
read_storm_files $N
kill -CONT "$HEALER_PID"
wait_for_output "datafork: Repairs successful." 20 || fail "no repair started"
kill -KILL "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
done_before=$(count_lines "datafork: Repairs successful.")
record repaired_before_kill "$done_before"
[ "$done_before" -lt $N ] || fail "all $N repairs finished before the kill; nothing to test"
ls /run/xfs_healer/*.pending > /dev/null 2>&1 || fail "no pending-work marker after the kill"
mv "$HEALER_OUT" /results/first-healer.out
start_healer --repair
expect_line "$MNT: The previous healer stopped with repairs pending."
wait_for_output "$MNT: Full repairs in progress." 20 || fail "no full scan after the interrupted run"
wait_for_output "$MNT: Full repairs complete." 300 || fail "the full scan did not complete: $(tail -3 "$HEALER_OUT")"
storm_files_readable $N
scrub_clean
ls /run/xfs_healer/*.pending > /dev/null 2>&1 && fail "the marker outlived the work"
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
