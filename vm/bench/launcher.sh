# summary: systemd boot, xfs_healer_start.service running: time from mount to the new unit's healer reporting "monitoring started"
# init: systemd
# healers: reference ours
# timeout: 300
unit=xfs_healer@mnt-test.service
mkfs_scratch
systemctl start system-xfs_healer.slice xfs_healer_start.service || fail "xfs_healer_start.service did not start"
sleep 2
t0=$(now_ms)
mount_scratch
deadline=$(( $(now_ms) + 60000 ))
until journalctl -q -o cat -u "$unit" 2>/dev/null | grep -qF "$MNT: monitoring started"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no healer for the mount"
	sleep 0.05
done
record mount_to_healer_ready_ms $(( $(now_ms) - t0 ))
umount "$MNT"
