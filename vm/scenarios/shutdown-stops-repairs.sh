# summary: sick reports queued ahead of a shutdown are not repaired: the shutdown cancels them
# healers: reference ours
# timeout: 240
N=20
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks $N
start_healer --repair
kill -STOP "$HEALER_PID"
read_storm_files $N
xfs_io -x -c "shutdown -f" "$MNT" || fail "xfs_io shutdown"
note "$N files reported sick, then the filesystem shut down; resuming the healer"
kill -CONT "$HEALER_PID"
wait_for_output "$MNT: filesystem shut down due to forced unmount" 20 || fail "no shutdown report"
sleep 3
# Repair outcome lines: everything about a data fork but the reports.
attempts=$(grep 'datafork: ' "$HEALER_OUT" | grep -v 'datafork: sick\|datafork: healthy\|suppressed' | wc -l)
record sick_reports "$(count_lines 'datafork: sick')"
record repair_attempts_after_shutdown "$attempts"
[ "$HEALER_KIND" = ours ] && [ "$attempts" != 0 ] && fail "$attempts repairs attempted on a shut-down filesystem"
umount "$MNT" || fail "umount after shutdown"
wait_exit "$HEALER_PID" 30 || fail "healer still running after unmount"
expect_status 0 "$EXIT_STATUS" "healer after shutdown and unmount"
