# summary: a stalled reader loses events; ours reports the loss as soon as it drains (fdinfo), the reference only when a later event arrives, and never twice
# healers: reference ours
# timeout: 240
mkfs_scratch
mount_scratch
damaged_directory d0
damaged_directory d1
start_healer --no-autofsck
kill -STOP "$HEALER_PID"
# Alternate two objects: the kernel merges a report into an identical
# queue tail, so repeats of one object would not fill the queue.
i=0
while [ $i -lt 400 ]; do ls "$MNT/d0" > /dev/null 2>&1; ls "$MNT/d1" > /dev/null 2>&1; i=$((i + 1)); done
lost=$(awk '/^lost:/ { print $2 }' /proc/$HEALER_PID/fdinfo/* 2>/dev/null | sort -n | tail -1)
record kernel_lost "$lost"
[ "${lost:-0}" -gt 0 ] || fail "the kernel lost no events (fdinfo lost: ${lost:-none})"
note "kernel dropped $lost events; resuming the healer"
kill -CONT "$HEALER_PID"
# The filesystem stays quiet now: the kernel queues no LOST record.
sleep 5
if grep -qxF "$MNT: $lost events lost" "$HEALER_OUT"; then quiet_report=yes; else quiet_report=no; fi
record reported_while_quiet "$quiet_report"
[ "$HEALER_KIND" = ours ] && [ "$quiet_report" = no ] && fail "the loss of $lost events was not reported while the fs was quiet"
# One more event makes the kernel queue its LOST record.
ls "$MNT/d0" > /dev/null 2>&1
wait_for_output "$MNT: $lost events lost" 20 || fail "the loss of $lost events was never reported"
sleep 1
n=$(count_lines "events lost")
record lost_lines "$n"
[ "$n" = 1 ] || fail "$n lines about lost events, expected 1"
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
