# summary: a healer on a quiet filesystem for 30 s with every optional feature on (ours: the status API with a client served, textfile metrics every 5 s, a hook directory for every class, the media patrol at 1 MiB/s, JSON lines; the reference has none and runs as in idle): resident memory (by mapping), threads, open files
# healers: reference ours
# timeout: 180
mkfs_scratch
mount_scratch
if [ "$HEALER_KIND" = ours ]; then
	mkdir -p /tmp/hooks.d /tmp/metrics
	printf '#!/bin/sh\nexit 0\n' > /tmp/hooks.d/noop
	chmod 755 /tmp/hooks.d/noop
	cat > /tmp/healer.toml <<'CONF'
[output]
format = "json"
[metrics]
textfile_dir = "/tmp/metrics"
interval_seconds = 5
[hooks]
dir = "/tmp/hooks.d"
classes = ["sick", "corrupt", "healthy", "media_error", "file_io", "lost", "shutdown", "unmount", "unknown", "running", "repair_failed", "repaired", "full_scan"]
[patrol]
enabled = true
bandwidth_mib_per_second = 1
state_dir = "/tmp/patrol-state"
CONF
	export XFS_HEALER_CONFIG=/tmp/healer.toml
fi
start_healer --repair
if [ "$HEALER_KIND" = ours ]; then
	sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
	[ -S "$sock" ] || fail "no status API socket"
	varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > /results/status.json 2>&1 || fail "GetStatus: $(cat /results/status.json)"
	wait_until 20 'no metrics file in /tmp/metrics' sh -c 'ls /tmp/metrics/*.prom'
	grep -q 'media patrol started' "$HEALER_OUT" || fail "the patrol did not start: $(tail -3 "$HEALER_OUT")"
fi
sleep 30
record idle_rss_kb "$(awk '/^VmRSS:/ { print $2 }' /proc/$HEALER_PID/status)"
record threads "$(ls /proc/$HEALER_PID/task | wc -l)"
record open_fds "$(ls /proc/$HEALER_PID/fd | wc -l)"
record_rss_by_mapping "$HEALER_PID"
note "threads: $(healer_threads)"
note "open files: $(healer_files)"
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit"
