# summary: xfs_healer_start (no systemd): a new XFS gets a healer within about a second; ext4, autofsck=none and a second mount of the same fs get none; a killed healer is restarted; unmount leaves no orphan
# healers: reference ours
# timeout: 240
LOG=/results/launcher.out
healers_running() {
	n=0
	for s in /proc/[0-9]*/cmdline; do
		cat "$s" 2>/dev/null | tr '\0' ' ' | grep -q "^$HEALER " && n=$((n + 1))
	done
	echo $n
}
wait_in_log() {
	deadline=$(( $(now_ms) + $2 * 1000 ))
	while ! grep -qF -- "$1" "$LOG"; do
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}
"$LAUNCHER" > "$LOG" 2>&1 &
LAUNCHER_PID=$!
sleep 1
kill -0 $LAUNCHER_PID || fail "launcher exited at start: $(cat $LOG)"
mkfs_scratch
t0=$(now_ms)
mount_scratch
if [ "$HEALER_KIND" = reference ]; then
	# No systemd: the reference can only say it could not start a unit.
	wait_in_log "$MNT: Could not" 10 || fail "reference launcher did not react to the mount"
	record mount_to_reaction_ms $(( $(now_ms) - t0 ))
	kill -TERM $LAUNCHER_PID
	umount "$MNT"
	exit 0
fi
wait_in_log "$MNT: monitoring started" 10 || fail "no healer for the new mount: $(cat $LOG)"
record mount_to_healer_ready_ms $(( $(now_ms) - t0 ))
expect_in_log() { grep -qF -- "$1" "$LOG" || fail "launcher log lacks '$1'"; }
[ "$(healers_running)" = 1 ] || fail "$(healers_running) healers for one filesystem"
# A bind mount of the same filesystem: still one healer.
mkdir -p /mnt/bind && mount --bind "$MNT" /mnt/bind
# ext4: ignored.
mkdir -p /mnt/ext4
mke2fs -q "$DEV2" > /dev/null 2>&1 || fail "mke2fs"
mount -t ext4 "$DEV2" /mnt/ext4 || fail "mount ext4"
sleep 1
umount /mnt/ext4
grep -qF "/mnt/ext4" "$LOG" && fail "the launcher acted on an ext4 mount: $(grep -F /mnt/ext4 $LOG)"
[ "$(healers_running)" = 1 ] || fail "$(healers_running) healers after a bind mount and an ext4 mount"
# autofsck=none: the healer's own check declines.
mkdir -p /mnt/none
mkfs.xfs -q -f -m autofsck=none "$DEV2" > /dev/null 2>&1 || fail "mkfs.xfs -m autofsck=none"
mount -t xfs "$DEV2" /mnt/none || fail "mount autofsck=none fs"
wait_in_log "/mnt/none: xfs_healer does not apply to this filesystem; not started." 10 || fail "autofsck=none not declined: $(cat $LOG)"
[ "$(healers_running)" = 1 ] || fail "$(healers_running) healers after an autofsck=none mount"
umount /mnt/none
# A crashed healer is restarted.
victim=$(for s in /proc/[0-9]*/cmdline; do cat "$s" 2>/dev/null | tr '\0' ' ' | grep -q "^$HEALER $MNT" && basename "$(dirname "$s")"; done | head -1)
[ -n "$victim" ] || fail "cannot find the healer process"
kill -KILL "$victim"
wait_in_log "$MNT: xfs_healer was killed by a signal; restarting in 1 s." 10 || fail "no restart notice: $(cat $LOG)"
deadline=$(( $(now_ms) + 10000 ))
while [ "$(grep -cF "$MNT: monitoring started" "$LOG")" -lt 2 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the healer was not restarted: $(cat $LOG)"
	sleep 0.05
done
# Unmount: the healer exits 0 and is not restarted; nothing is left over.
umount /mnt/bind
umount "$MNT"
sleep 2
[ "$(healers_running)" = 0 ] || fail "$(healers_running) healers left after unmount"
grep -c "restarting" "$LOG" | grep -qx 1 || fail "a healer was restarted after unmount: $(cat $LOG)"
kill -0 $LAUNCHER_PID || fail "the launcher died"
kill -TERM $LAUNCHER_PID
cat "$LOG" > /dev/null
