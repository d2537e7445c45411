# summary: under systemd the healer follows the xfs_scrub@ unit it starts: while the unit runs GetStatus says full_scan_running and a second request is deferred, not dropped; when the unit ends the deferred scan starts
# init: systemd
# healers: ours
# timeout: 400
scrub=xfs_scrub@mnt-test.service
scrub_state() { systemctl show -p ActiveState --value "$scrub"; }
mkfs_scratch
mount_scratch
# Enough to scrub that the scan outlasts a few API calls under TCG.
mkdir "$MNT/files"
i=0
while [ $i -lt 2000 ]; do : > "$MNT/files/f$i"; i=$((i + 1)); done
printf '[repair]\nfull_scan_interval_seconds = 0\n' > /etc/xfs_healer.toml
systemctl start "$unit" || fail "$unit did not start: $(systemctl status "$unit" 2>&1 | tail -5)"
deadline=$(( $(now_ms) + 30000 ))
until journal && grep -qF "$MNT: monitoring started" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit never reported monitoring: $(tail -5 /results/healer.out)"
	sleep 0.2
done
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
[ -S "$sock" ] || fail "no API socket"
varlinkctl --json=short call "$sock" io.xfs.Healer.RequestFullScan '{}' > /results/scan1.json 2>&1 || fail "RequestFullScan: $(cat /results/scan1.json)"
grep -q '"started":true' /results/scan1.json || fail "no scan started: $(cat /results/scan1.json)"
deadline=$(( $(now_ms) + 30000 ))
until [ "$(scrub_state)" = activating ] || [ "$(scrub_state)" = active ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$scrub never ran: $(scrub_state); $(journalctl -q -o cat -u "$scrub" | tail -5)"
	sleep 0.1
done
varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > /results/status-scanning.json 2>&1 || fail "GetStatus"
state=$(scrub_state)
record scrub_state_at_status "$state"
if [ "$state" = activating ] || [ "$state" = active ]; then
	grep -q '"full_scan_running":true' /results/status-scanning.json || fail "the scan runs ($state) but the healer says it does not: $(cat /results/status-scanning.json)"
	varlinkctl --json=short call "$sock" io.xfs.Healer.RequestFullScan '{}' > /results/scan2.json 2>&1 || fail "second RequestFullScan: $(cat /results/scan2.json)"
	grep -q '"started":false' /results/scan2.json && grep -q '"deferred":true' /results/scan2.json || fail "a request during the scan was not deferred: $(cat /results/scan2.json)"
else
	fail "$scrub ended before the healer could be asked (state $state): make the filesystem bigger"
fi
# When the unit ends, the deferred scan starts (the interval is 0).
deadline=$(( $(now_ms) + 300000 ))
until journal && [ "$(grep -cF "$MNT: Full repairs in progress." /results/healer.out)" -ge 2 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the deferred scan never started: $(tail -5 /results/healer.out); $scrub is $(scrub_state)"
	sleep 0.5
done
record scrub_result "$(systemctl show -p Result --value "$scrub")"
journalctl -q -u "$unit" -o export | grep -q '^XFS_REASON=requested' || fail "the full scan records lack XFS_REASON=requested"
umount "$MNT" 2>/dev/null || { sleep 5; umount "$MNT"; } || true
exit 0
