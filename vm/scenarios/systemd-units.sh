# summary: under systemd, xfs_healer_start.service starts xfs_healer@mnt-test.service for a new mount, and the sandboxed service repairs a damaged directory
# init: systemd
# healers: reference ours
# timeout: 400
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
# Ours writes native journal records: the same text, plus fields.
if [ "$HEALER_KIND" = ours ]; then
	journalctl -q -u "$unit" -o export > /results/journal.export 2>&1
	sick=$(journalctl -q -u "$unit" -o export MESSAGE_ID=a75bfdad9c4b4bc1b9c861db87bb1daf)
	echo "$sick" | grep -qx "MESSAGE=$MNT/victim directory: sick" || fail "no sick record with its MESSAGE_ID: $(grep -c MESSAGE= /results/journal.export) records"
	uuid=$(xfs_db -r -c uuid "$DEV" | sed -n 's/^UUID = //p')
	[ -n "$uuid" ] || fail "xfs_db gave no UUID"
	for field in XFS_MOUNTPOINT=$MNT XFS_UUID=$uuid XFS_DEVICE=$DEV XFS_KIND=sick XFS_CLASS=sick XFS_EVENT=sick XFS_DOMAIN=inode XFS_PATH=$MNT/victim XFS_STRUCTURES=directory PRIORITY=4; do
		echo "$sick" | grep -qx "$field" || fail "the sick record lacks $field: $(echo "$sick" | grep '^XFS_\|^PRIORITY')"
	done
	echo "$sick" | grep -q '^XFS_INO=[0-9]' || fail "the sick record lacks XFS_INO"
	echo "$sick" | grep -q '^XFS_SEQ=[1-9]' || fail "the sick record lacks XFS_SEQ"
	repaired=$(journalctl -q -u "$unit" -o export MESSAGE_ID=751628b556e0482b8cfea452fa238ed5)
	echo "$repaired" | grep -qx "XFS_OUTCOME=Repairs successful." || fail "the repair record lacks XFS_OUTCOME"
	echo "$repaired" | grep -qx "XFS_SCRUB_TYPE=15" || fail "the repair record lacks XFS_SCRUB_TYPE"
	echo "$repaired" | grep -qx "XFS_CLASS=repaired" && echo "$repaired" | grep -qx "XFS_KIND=repair" ||
		fail "the repair record's kind and class: $(echo "$repaired" | grep '^XFS_KIND\|^XFS_CLASS\|^XFS_EVENT')"
	record journal_records_with_fields "$(grep -c '^XFS_EVENT=' /results/journal.export)"
fi
# The sandbox as systemd scores it (the host's packaging check compares
# our unit files with xfsprogs' offline; this is the live unit).
systemd-analyze security --no-pager "$unit" > /results/security.out 2>&1
score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' /results/security.out)
[ -n "$score" ] || fail "systemd-analyze security gave no score: $(tail -3 /results/security.out)"
record exposure_score "$score"
