# summary: journal: under the shipped unit, with our catalog installed as the package installs it and journalctl --update-catalog run, journalctl -x explains the sick, repaired, error and shutdown records with their fields filled in; the shutdown has PRIORITY=2 and shows in journalctl -p err, the repair PRIORITY=5, the sick report 4, a failed hook's error line 3 with the error MESSAGE_ID
# init: systemd
# healers: ours
# timeout: 400
sick_id=a75bfdad9c4b4bc1b9c861db87bb1daf
repair_id=751628b556e0482b8cfea452fa238ed5
shutdown_id=cdb15439e7af49c8a0e6902ad809508b
error_id=821b8ef7a11341c3a7c281f4476b523c
# field ID FIELD: FIELD's distinct values in the unit's records of
# MESSAGE_ID ID.
field() { journalctl -q -u "$unit" -o export MESSAGE_ID="$1" | sed -n "s/^$2=//p" | sort -u; }
# As the package's postinst: the catalog where `cargo xtask install` puts
# it, then the database rebuilt.
mkdir -p /usr/lib/systemd/catalog /var/lib/systemd/catalog
cp /payload/xfs_healer.catalog /usr/lib/systemd/catalog/ || fail "no catalog in the payload"
journalctl --update-catalog > /results/update-catalog.out 2>&1 || fail "journalctl --update-catalog: $(cat /results/update-catalog.out)"
journalctl --list-catalog > /results/list-catalog.out 2>&1
record catalog_entries "$(grep -c ' xfs-healer: ' /results/list-catalog.out)"
for id in $sick_id $repair_id $shutdown_id $error_id; do
	grep -q "^$id xfs-healer: " /results/list-catalog.out || fail "$id is not in the catalog database: $(grep -c xfs-healer /results/list-catalog.out) of ours listed"
done
# A hook that fails gives an error line (on the running report, at start).
mkdir -p /etc/xfs_healer/hooks.d
printf '#!/bin/sh\nexit 3\n' > /etc/xfs_healer/hooks.d/running-fails
chmod 755 /etc/xfs_healer/hooks.d/running-fails
printf '[hooks]\ndir = "/etc/xfs_healer/hooks.d"\nclasses = ["running"]\n' > /etc/xfs_healer.toml
mkfs_scratch
mount_scratch
damaged_directory victim
systemctl start "$unit" || fail "$unit did not start: $(systemctl status "$unit" 2>&1 | tail -5)"
deadline=$(( $(now_ms) + 30000 ))
until journal && grep -qF "$MNT: monitoring started" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit never reported monitoring: $(tail -5 /results/healer.out; systemctl status "$unit" 2>&1 | tail -3)"
	sleep 0.2
done
ls "$MNT/victim" > /dev/null 2>&1
deadline=$(( $(now_ms) + 60000 ))
until journal && grep -qF "$MNT/victim directory: Repairs successful." /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no repair under the unit: $(tail -5 /results/healer.out)"
	sleep 0.2
done
deadline=$(( $(now_ms) + 20000 ))
# Under systemd the hook ran in a unit of its own, whose journal says how
# it failed; the healer's line names that unit.
until journal && grep -qF "hooks.d/running-fails failed; journalctl -u xfs_healer-hook-" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the failing hook was not reported: $(grep -i hook /results/healer.out)"
	sleep 0.2
done
hook_unit=$(sed -n 's/.*running-fails failed; journalctl -u \(xfs_healer-hook-[0-9-]*\.service\) says why$/\1/p' /results/healer.out | head -n 1)
journalctl -q -u "$hook_unit" > /results/hook-unit.log 2>&1
grep -q "Failed with result 'exit-code'" /results/hook-unit.log || fail "the hook unit's journal does not say it failed: $(tail -3 /results/hook-unit.log)"
xfs_io -x -c "shutdown" "$MNT" || fail "xfs_io shutdown"
deadline=$(( $(now_ms) + 20000 ))
until journal && grep -qF "$MNT: filesystem shut down" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no shutdown report: $(tail -5 /results/healer.out)"
	sleep 0.2
done
journalctl -q -u "$unit" -o export > /results/journal.export 2>&1
# Priorities.
sick_priority=$(field $sick_id PRIORITY)
record sick_priority "$sick_priority"
[ "$sick_priority" = 4 ] || fail "the sick record has PRIORITY=$sick_priority, expected 4"
repaired_priority=$(journalctl -q -u "$unit" -o export MESSAGE_ID=$repair_id "XFS_OUTCOME=Repairs successful." | sed -n 's/^PRIORITY=//p' | sort -u)
record repaired_priority "$repaired_priority"
[ "$repaired_priority" = 5 ] || fail "the successful repair has PRIORITY=$repaired_priority, expected 5"
shutdown_priority=$(field $shutdown_id PRIORITY)
record shutdown_priority "$shutdown_priority"
[ "$shutdown_priority" = 2 ] || fail "the shutdown record has PRIORITY=$shutdown_priority, expected 2"
error_priority=$(field $error_id PRIORITY)
record error_priority "$error_priority"
[ "$error_priority" = 3 ] || fail "the hook's error line has PRIORITY=$error_priority (MESSAGE_ID $error_id), expected 3: $(grep -B3 -A3 'running-fails' /results/journal.export)"
field $error_id MESSAGE | grep -qF "hooks.d/running-fails failed; journalctl -u" || fail "the error record is not the hook's line: $(field $error_id MESSAGE)"
# What an operator filtering on errors sees: the shutdown and the error
# line, not the sick report or the repair.
journalctl -q -p err -u "$unit" -o export > /results/journal-err.export 2>&1
grep -qx "MESSAGE_ID=$shutdown_id" /results/journal-err.export || fail "journalctl -p err does not show the shutdown"
grep -qx "MESSAGE_ID=$error_id" /results/journal-err.export || fail "journalctl -p err does not show the error line"
grep -qx "MESSAGE_ID=$repair_id" /results/journal-err.export && fail "journalctl -p err shows the successful repair"
grep -qx "MESSAGE_ID=$sick_id" /results/journal-err.export && fail "journalctl -p err shows the sick report"
journalctl -q -p err -u "$unit" -o cat > /results/journal-err.txt 2>&1
record err_records "$(wc -l < /results/journal-err.txt)"
# The catalog's text beside each record, with its fields filled in.
journalctl -q -x --no-pager -u "$unit" > /results/journal-x.txt 2>&1
for subject in \
	"Subject: XFS metadata on $MNT is sick" \
	"Subject: Repair on $MNT finished" \
	"Subject: XFS filesystem on $MNT has shut down" \
	"Subject: xfs_healer error" \
	"Subject: Health monitoring of $MNT started"; do
	grep -qF "$subject" /results/journal-x.txt || fail "journalctl -x lacks \"$subject\": $(grep -c Subject: /results/journal-x.txt) subjects"
done
grep -qF "$MNT while using it (ino " /results/journal-x.txt || fail "the sick entry's @XFS_OBJECT@ is not filled in: $(grep -A6 'is sick' /results/journal-x.txt)"
grep -qF "unmount it, then run xfs_repair(8)" /results/journal-x.txt || fail "the shutdown entry's advice is missing"
grep -q '@XFS_\|@MESSAGE' /results/journal-x.txt && fail "an unsubstituted field in journalctl -x: $(grep '@XFS_\|@MESSAGE' /results/journal-x.txt | head -3)"
# (journalctl marks the catalog's lines "-- ", or "░░ " in a UTF-8 locale.)
record catalog_subjects "$(grep -c '^\(-- \|░░ \)Subject: ' /results/journal-x.txt)"
umount "$MNT" || fail "umount after shutdown"
deadline=$(( $(now_ms) + 30000 ))
while systemctl -q is-active "$unit"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit still active after unmount"
	sleep 0.1
done
systemctl show -p Result --value "$unit" | grep -qx success || fail "$unit ended with $(systemctl show -p Result --value "$unit")"
journal
exit 0
