# summary: under systemd, xfs_healer_start.service starts xfs_healer@mnt-test.service for a new mount, and the sandboxed service repairs a damaged directory
# init: systemd
# healers: reference ours
# timeout: 400
unit=xfs_healer@mnt-test.service
journal() { journalctl -q -o cat -u "$unit" > /results/healer.out 2>&1; }
mkfs_scratch
mount_scratch
mkdir "$MNT/victim"
i=0
while [ $i -lt 200 ]; do : > "$MNT/victim/a-long-file-name-to-fill-blocks-$i"; i=$((i + 1)); done
daddr=$(first_daddr "$MNT/victim")
umount "$MNT"
smash "$daddr" 64
systemctl start system-xfs_healer.slice xfs_healer_start.service || fail "xfs_healer_start.service did not start: $(systemctl status xfs_healer_start.service 2>&1 | tail -5)"
t0=$(now_ms)
mount_scratch
deadline=$(( $(now_ms) + 30000 ))
until systemctl -q is-active "$unit"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit not active: $(journalctl -q -o cat -u xfs_healer_start.service | tail -5)"
	sleep 0.1
done
record mount_to_unit_active_ms $(( $(now_ms) - t0 ))
deadline=$(( $(now_ms) + 30000 ))
until journal && grep -qF "$MNT: monitoring started" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit never reported monitoring: $(tail -5 /results/healer.out)"
	sleep 0.2
done
ls "$MNT/victim" > /dev/null 2>&1
deadline=$(( $(now_ms) + 30000 ))
until journal && grep -qF "$MNT/victim directory: Repairs successful." /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no repair under the sandboxed unit: $(tail -5 /results/healer.out)"
	sleep 0.2
done
n=$(ls "$MNT/victim" | wc -l)
[ "$n" = 200 ] || fail "directory has $n entries after repair, expected 200"
journalctl -q -o cat -u xfs_healer_start.service > /results/launcher.out 2>&1
umount "$MNT"
deadline=$(( $(now_ms) + 30000 ))
while systemctl -q is-active "$unit"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit still active after unmount"
	sleep 0.1
done
systemctl show -p Result --value "$unit" | grep -qx success || fail "$unit ended with $(systemctl show -p Result --value "$unit")"
journal
