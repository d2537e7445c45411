# summary: --quiet silences the report lines only: a damaged directory read by a quiet log-only healer prints no sick line, yet its sick hook runs, a streaming API client sees the event and GetStatus lists the sick directory
# healers: ours
# timeout: 200
CTL=/payload/xfs_healerctl
mkfs_scratch
mount_scratch
damaged_directory victim
mkdir -p /tmp/hooks
printf '#!/bin/sh\necho "event=$XFS_EVENT path=$XFS_PATH" >> /tmp/hook-runs\n' > /tmp/hooks/sick-record
chmod 755 /tmp/hooks/sick-record
printf '[hooks]\ndir = "/tmp/hooks"\n' > /tmp/quiet.toml
XFS_HEALER_CONFIG=/tmp/quiet.toml start_healer --no-autofsck --quiet
"$CTL" --json events --follow "$MNT" > /results/follow.json 2> /results/follow.err &
follower=$!
sleep 1
ls "$MNT/victim" > /dev/null 2>&1
deadline=$(( $(now_ms) + 15000 ))
until [ -f /tmp/hook-runs ] && grep -q '"kind":"sick"' /results/follow.json; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "a quiet healer kept the event from its sinks: hook $(cat /tmp/hook-runs 2>&1); follower $(cat /results/follow.json /results/follow.err)"
	sleep 0.2
done
grep -q "^event=sick path=$MNT/victim$" /tmp/hook-runs || fail "the hook's event: $(cat /tmp/hook-runs)"
expect_no_line "directory: sick"
"$CTL" --json status "$MNT" > /results/status.json 2>&1 || fail "xfs_healerctl status: $(cat /results/status.json)"
grep -q '"structures":\["directory"\]' /results/status.json || fail "the status lacks the sick directory: $(cat /results/status.json)"
kill "$follower" 2>/dev/null
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
exit 0
