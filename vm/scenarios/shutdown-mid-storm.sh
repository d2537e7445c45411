# summary: a forced shutdown while a storm of repairs runs: the repair in flight is the last one, no repair starts after the shutdown, the healer stays up and exits 0 at unmount
# healers: reference ours
# timeout: 300
N=60
mkfs_scratch -m rmapbt=1
mount_scratch
repairs_in_flight $N
xfs_io -x -c "shutdown -f" "$MNT" || fail "xfs_io shutdown"
t0=$(now_ms)
wait_for_output "$MNT: filesystem shut down due to forced unmount" 20 || fail "no shutdown report"
# Outcome lines: everything about a data fork but the reports themselves.
outcomes() {
	grep 'datafork: ' "$HEALER_OUT" | grep -vc 'datafork: sick\|datafork: healthy\|suppressed'
}
at_report=$(outcomes)
last=$at_report
last_change_ms=0
while [ $(( $(now_ms) - t0 )) -lt 5000 ]; do
	now=$(outcomes)
	if [ "$now" != "$last" ]; then
		last=$now
		last_change_ms=$(( $(now_ms) - t0 ))
	fi
	sleep 0.1
done
record outcomes_after_shutdown_report "$(( last - at_report ))"
record last_outcome_after_shutdown_ms "$last_change_ms"
record repaired_before_shutdown "$at_report"
[ "$at_report" -lt $N ] || fail "all $N repairs were done before the shutdown; nothing was tested"
# One worker, one repair in flight: at most its outcome may follow.
[ "$HEALER_KIND" = ours ] && [ $(( last - at_report )) -gt 1 ] && fail "$(( last - at_report )) repair outcomes after the shutdown was reported"
kill -0 "$HEALER_PID" 2>/dev/null || fail "the healer died at the shutdown"
umount "$MNT" || fail "umount after shutdown"
wait_exit "$HEALER_PID" 30 || fail "healer still running after unmount"
expect_status 0 "$EXIT_STATUS" "healer after shutdown and unmount"
