# summary: security: 40 damaged files under a path of 3.5 KB of control bytes (any user can make one) fill the healer's last events; GetStatus still answers every client (fields shortened and said so), GetInfo and xfs_healerctl status too
# healers: ours
# timeout: 300
CTL=/payload/xfs_healerctl
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks 40
# 14 levels of 250-byte names of \001: each byte is escaped to 4.
name=$(head -c 250 /dev/zero | tr '\000' '\001')
deep="$MNT"
i=0
while [ $i -lt 14 ]; do deep="$deep/$name"; i=$((i + 1)); done
mkdir -p "$deep" || fail "could not make the deep path"
mv "$MNT/storm" "$deep/storm" || fail "could not move the damaged files under it"
record path_bytes "${#deep}"
start_healer --no-autofsck
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
[ -S "$sock" ] || fail "no varlink socket"
f=0
while [ $f -lt 40 ]; do cat "$deep/storm/f$f" > /dev/null 2>&1; f=$((f + 1)); done
deadline=$(( $(now_ms) + 30000 ))
until [ "$(count_lines 'datafork: sick')" -ge 40 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "only $(count_lines 'datafork: sick') of 40 sick reports"
	sleep 0.5
done
varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > /results/status.json 2> /results/status.err ||
	fail "GetStatus failed: $(head -c 300 /results/status.err)"
record status_reply_bytes "$(wc -c < /results/status.json)"
grep -q '"last_events_shortened":true' /results/status.json || fail "the reply does not say its events were shortened"
grep -q '"kind":"sick"' /results/status.json || fail "the reply lacks the sick events: $(head -c 300 /results/status.json)"
[ "$(wc -c < /results/status.json)" -lt 524288 ] || fail "a status reply of $(wc -c < /results/status.json) bytes"
varlinkctl call "$sock" org.varlink.service.GetInfo '{}' > /results/info.out 2>&1 || fail "GetInfo: $(cat /results/info.out)"
"$CTL" status > /results/ctl-status.out 2>&1 || fail "xfs_healerctl status: $(head -c 300 /results/ctl-status.out)"
grep -q "sick now: [1-9]" /results/ctl-status.out || fail "xfs_healerctl status lacks the sick files: $(head -c 300 /results/ctl-status.out)"
# Several clients at once, all answered.
pids=
c=0
while [ $c -lt 8 ]; do
	varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > "/tmp/status-$c.json" 2>&1 &
	pids="$pids $!"
	c=$((c + 1))
done
for p in $pids; do wait "$p" || fail "a concurrent GetStatus failed"; done
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
exit 0
