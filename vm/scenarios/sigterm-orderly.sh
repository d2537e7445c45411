# summary: SIGTERM stops the healer in order, during a storm of repairs and during a supervised xfs_scrub: status 143 as before, no API socket, no metrics file, no xfs_scrub process left, the repair in flight finished and said; the next healer starts cleanly
# healers: ours
# timeout: 300
N=40
mkfs_scratch -m rmapbt=1
mount_scratch
mkdir -p /tmp/metrics
printf '[metrics]\ntextfile_dir = "/tmp/metrics"\ninterval_seconds = 1\n' > /tmp/orderly.toml
export XFS_HEALER_CONFIG=/tmp/orderly.toml
# (busybox here has no pgrep)
scrub_running() {
	for comm in /proc/[0-9]*/comm; do
		[ "$(cat "$comm" 2>/dev/null)" = xfs_scrub ] && return 0
	done
	return 1
}
gone() {
	ls /run/xfs_healer/*.varlink > /dev/null 2>&1 && fail "$1: the API socket was left behind: $(ls /run/xfs_healer)"
	ls /tmp/metrics/*.prom > /dev/null 2>&1 && fail "$1: the metrics file was left behind"
	return 0
}

# 1. In a storm of repairs.
repairs_in_flight $N
ls /run/xfs_healer/*.varlink > /dev/null 2>&1 || fail "no API socket during the storm"
deadline=$(( $(now_ms) + 10000 ))
until ls /tmp/metrics/*.prom > /dev/null 2>&1; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no metrics file during the storm"
	sleep 0.2
done
kill -TERM "$HEALER_PID"
t0=$(now_ms)
wait_exit "$HEALER_PID" 30 || fail "healer still running 30 s after SIGTERM"
record storm_sigterm_to_exit_ms $(( $(now_ms) - t0 ))
expect_status 143 "$EXIT_STATUS" "healer after SIGTERM mid-storm"
gone "SIGTERM mid-storm"
cp "$HEALER_OUT" /results/healer-storm.out
# A repair issued is finished and said: its line is whole, the last line.
tail -1 "$HEALER_OUT" | grep -qE 'datafork: (Repairs successful\.|Repair unsuccessful|No modification needed|Corruption remains)' ||
	tail -1 "$HEALER_OUT" | grep -q 'monitoring' || note "last line after SIGTERM: $(tail -1 "$HEALER_OUT")"

# 2. The next healer finds the pending marker and runs a full scan as
# its child; SIGTERM then stops the scan too.
start_healer --repair
expect_line "$MNT: The previous healer stopped with repairs pending."
wait_for_output "$MNT: Full repairs in progress." 20 || fail "no full scan after the interrupted storm"
deadline=$(( $(now_ms) + 10000 ))
until scrub_running; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no xfs_scrub process"
	sleep 0.1
done
kill -TERM "$HEALER_PID"
wait_exit "$HEALER_PID" 30 || fail "healer still running 30 s after SIGTERM during a full scan"
expect_status 143 "$EXIT_STATUS" "healer after SIGTERM during a full scan"
scrub_running && fail "xfs_scrub outlived the healer"
expect_line "$MNT: xfs_scrub was killed by a signal."
gone "SIGTERM during a full scan"
cp "$HEALER_OUT" /results/healer-scan.out

# 3. Nothing stale is left for the next one.
start_healer --repair
expect_no_line "previous healer stopped"
ls /run/xfs_healer/*.varlink > /dev/null 2>&1 || fail "the next healer has no API socket"
unmount_retrying
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
gone "unmount"
exit 0
