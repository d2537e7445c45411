# summary: two clones of one XFS (same UUID, as LVM or dm snapshots are) mounted at once with nouuid each get their own healer, API socket, metrics file, lock and pending marker; a damaged directory on one is repaired there and the other healer stays idle
# healers: ours
# timeout: 240
CTL=/payload/xfs_healerctl
# Small, so that the whole filesystem (its log is in a middle AG) is cloned.
mkfs_scratch -d size=300m
mount_scratch
damaged_directory victim
umount "$MNT"
# The clone: the same bytes, hence the same UUID, on the second disk.
dd if="$DEV" of="$DEV2" bs=1M count=300 conv=fsync 2> /dev/null || fail "could not clone $DEV to $DEV2"
mount_scratch
mkdir -p /mnt/clone
mount -t xfs -o nouuid "$DEV2" /mnt/clone || fail "could not mount the clone with nouuid"
uuid1=$(xfs_io -c fsuuid "$MNT" | sed -n 's/^UUID = //p')
uuid2=$(xfs_io -c fsuuid /mnt/clone | sed -n 's/^UUID = //p')
[ -n "$uuid1" ] && [ "$uuid1" = "$uuid2" ] || fail "the clones do not share a UUID: $uuid1 / $uuid2"
mkdir -p /tmp/metrics
printf '[metrics]\ntextfile_dir = "/tmp/metrics"\ninterval_seconds = 1\n' > /tmp/clones.toml
export XFS_HEALER_CONFIG=/tmp/clones.toml
start_healer --repair
first=$HEALER_PID
"$HEALER" --repair /mnt/clone > /results/clone.out 2>&1 &
second=$!
deadline=$(( $(now_ms) + 30000 ))
until grep -qF "/mnt/clone: monitoring started" /results/clone.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the clone's healer did not start: $(cat /results/clone.out)"
	kill -0 "$second" 2>/dev/null || fail "the clone's healer exited: $(cat /results/clone.out)"
	sleep 0.2
done
sockets=$(ls /run/xfs_healer/*.varlink 2>/dev/null | wc -l)
locks=$(ls /run/xfs_healer/*.lock 2>/dev/null | wc -l)
record sockets "$sockets"
[ "$sockets" = 2 ] || fail "$sockets API sockets for two healers: $(ls /run/xfs_healer)"
[ "$locks" = 2 ] || fail "$locks locks for two healers: $(ls /run/xfs_healer)"
"$CTL" status > /results/ctl-status.out 2>&1 || fail "xfs_healerctl status: $(cat /results/ctl-status.out)"
grep -q "^$MNT " /results/ctl-status.out || fail "xfs_healerctl does not show $MNT: $(cat /results/ctl-status.out)"
grep -q "^/mnt/clone " /results/ctl-status.out || fail "xfs_healerctl does not show the clone: $(cat /results/ctl-status.out)"
deadline=$(( $(now_ms) + 10000 ))
until [ "$(ls /tmp/metrics/*.prom 2>/dev/null | wc -l)" = 2 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "not one metrics file per healer: $(ls /tmp/metrics)"
	sleep 0.2
done
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: Repairs successful." 30 || fail "the damaged clone was not repaired"
grep -q "Repairs successful\|sick" /results/clone.out && fail "the other clone's healer acted: $(cat /results/clone.out)"
grep -q 'mountpoint="/mnt/clone"' /tmp/metrics/*.prom || fail "no metrics file speaks of the clone"
umount /mnt/clone
wait_exit "$second" 20 || fail "the clone's healer did not exit after its unmount"
expect_status 0 "$EXIT_STATUS" "the clone's healer after unmount"
kill -0 "$first" 2>/dev/null || fail "the first healer died with the clone's unmount"
[ "$(ls /run/xfs_healer/*.varlink 2>/dev/null | wc -l)" = 1 ] || fail "the clone's exit took the wrong socket: $(ls /run/xfs_healer)"
"$CTL" status "$MNT" > /dev/null 2>&1 || fail "the first healer's API is gone after the clone's exit"
unmount_retrying
HEALER_PID=$first
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
exit 0
