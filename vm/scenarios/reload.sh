# summary: SIGHUP reloads the settings: a file that does not parse changes nothing and is said with its line; a good one switches the hooks from sick to repaired at once, keeps every counter, and switches the output to JSON lines at once; the healer goes on repairing
# healers: ours
# timeout: 180
CTL=/payload/xfs_healerctl
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks 2
mkdir -p /tmp/hooks
printf '#!/bin/sh\necho "$XFS_EVENT $XFS_PATH" >> /tmp/hook-runs\n' > /tmp/hooks/all-record
chmod 755 /tmp/hooks/all-record
printf '[hooks]\ndir = "/tmp/hooks"\nclasses = ["sick"]\n' > /tmp/healer.toml
XFS_HEALER_CONFIG=/tmp/healer.toml start_healer
cat "$MNT/storm/f0" > /dev/null 2>&1
wait_for_output "$MNT/storm/f0 datafork: Repairs successful." 20 || fail "f0 not repaired"
deadline=$(( $(now_ms) + 10000 ))
until grep -q "^sick $MNT/storm/f0" /tmp/hook-runs 2>/dev/null; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the sick hook did not run: $(cat /tmp/hook-runs 2>/dev/null)"
	sleep 0.1
done
"$CTL" --json status > /results/status-before.json || fail "status: $(cat /results/status-before.json)"
# A broken file: nothing changes, and the healer says where it broke.
printf '[hooks]\ndir = "/tmp/hooks"\nclasses = ["repaired"\n' > /tmp/healer.toml
kill -HUP "$HEALER_PID"
wait_for_output "reload: /tmp/healer.toml:" 10 || fail "the broken file was not reported: $(tail -3 "$HEALER_OUT")"
grep -q "the settings stay as they were" "$HEALER_OUT" || fail "the refusal does not say the settings stay: $(tail -3 "$HEALER_OUT")"
kill -0 "$HEALER_PID" || fail "the healer died of a reload"
# A good one: repaired hooks instead of sick ones, and JSON output.
printf '[hooks]\ndir = "/tmp/hooks"\nclasses = ["repaired"]\n[output]\nformat = "json"\n' > /tmp/healer.toml
kill -HUP "$HEALER_PID"
wait_for_output "$MNT: settings reloaded from /tmp/healer.toml" 10 ||
	fail "no reload line: $(tail -3 "$HEALER_OUT")"
grep -q "take effect at the next start" "$HEALER_OUT" && fail "a reload of [hooks] and [output] waits for a restart: $(tail -2 "$HEALER_OUT")"
cat "$MNT/storm/f1" > /dev/null 2>&1
wait_for_output "$MNT/storm/f1 datafork: Repairs successful." 20 || fail "f1 not repaired after the reload"
deadline=$(( $(now_ms) + 10000 ))
until grep -q "^repaired $MNT/storm/f1" /tmp/hook-runs 2>/dev/null; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the repaired hook did not run after the reload: $(cat /tmp/hook-runs)"
	sleep 0.1
done
cp /tmp/hook-runs /results/hook-runs
grep -q "^sick $MNT/storm/f1" /tmp/hook-runs && fail "the sick hook still ran after the reload"
"$CTL" --json status > /results/status-after.json || fail "status: $(cat /results/status-after.json)"
count() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2"; }
before=$(count repairs_succeeded /results/status-before.json)
after=$(count repairs_succeeded /results/status-after.json)
record repairs_before "$before"
record repairs_after "$after"
[ "$after" -gt "$before" ] || fail "counters after the reload ($after) do not go on from before it ($before)"
# From the reload on, JSON lines: the repair of f1 is one.
grep -q '^{.*"message":"'"$MNT"'/storm/f1 datafork: Repairs successful."' "$HEALER_OUT" ||
	fail "the repair after the reload is not a JSON line: $(grep -F 'storm/f1' "$HEALER_OUT")"
grep -qx "$MNT/storm/f0 datafork: Repairs successful." "$HEALER_OUT" || fail "the repair before the reload is not a text line"
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
