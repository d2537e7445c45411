# summary: the healer in a cgroup whose memory limit (1536 KiB, no swap) is below the reference's resident size: it still repairs a damaged directory, and is not OOM-killed
# healers: reference ours
# timeout: 180
mkdir -p /sys/fs/cgroup
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup || fail "no cgroup2"
echo +memory > /sys/fs/cgroup/cgroup.subtree_control || fail "no memory controller"
mkdir /sys/fs/cgroup/healer
echo 1536K > /sys/fs/cgroup/healer/memory.max
echo 0 > /sys/fs/cgroup/healer/memory.swap.max 2>/dev/null
mkfs_scratch
mount_scratch
damaged_directory victim
drop_caches
: > "$HEALER_OUT"
sh -c 'echo $$ > /sys/fs/cgroup/healer/cgroup.procs && exec "$0" --repair "$1"' "$HEALER" "$MNT" >> "$HEALER_OUT" 2>&1 &
HEALER_PID=$!
wait_for_output "$MNT: monitoring started" 30 || fail "healer did not start under the limit: $(cat "$HEALER_OUT")"
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: Repairs successful." 30 || fail "directory not repaired under the memory limit: $(tail -3 "$HEALER_OUT")"
record memory_peak_kb $(( $(cat /sys/fs/cgroup/healer/memory.peak) / 1024 ))
record oom_kills "$(awk '/^oom_kill / { print $2 }' /sys/fs/cgroup/healer/memory.events)"
record memory_high_events "$(awk '/^max / { print $2 }' /sys/fs/cgroup/healer/memory.events)"
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
