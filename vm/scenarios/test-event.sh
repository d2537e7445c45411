# summary: xfs_healerctl test-event (smartd -M test): a repairing healer with JSON output, hooks and metrics sends a test event of class sick to every sink, marked as a test: the JSON line ("test":true, with the filesystem's UUID and device, seq and class as the disk and /dev say), the sick and all- hooks (XFS_TEST=1, twice in a row, past the hooks' rate limit), xfs_healerctl events (the JSON line key for key; --follow --since resumes with it) and GetStatus, the metrics' xfs_healer_test_events_total; a class the hooks do not run on is said and runs none; nothing is repaired and no counter of real events moves; an unknown class fails (status 64, with the classes), and the API refuses it with InvalidParameter
# healers: ours
# timeout: 180
CTL=/payload/xfs_healerctl
mkfs_scratch
mount_scratch

# Hooks (root's, mode 0755, as the healer trusts them) that record what
# they were given.
mkdir -p /tmp/hooks /tmp/metrics
chmod 755 /tmp/hooks
cat > /tmp/hooks/sick-record <<'HOOK'
#!/bin/sh
echo "uuid=$XFS_UUID device=$XFS_DEVICE seq=$XFS_SEQ kind=$XFS_KIND class=$XFS_CLASS event=$XFS_EVENT test=${XFS_TEST:-unset} suppressed=$XFS_SUPPRESSED message=$XFS_MESSAGE stdin=$(cat)" >> /tmp/hook-runs
HOOK
printf '#!/bin/sh\necho "all event=$XFS_EVENT test=${XFS_TEST:-unset}" >> /tmp/all-runs\n' > /tmp/hooks/all-record
chmod 755 /tmp/hooks/sick-record /tmp/hooks/all-record
printf '[output]\nformat = "json"\n[hooks]\ndir = "/tmp/hooks"\n[metrics]\ntextfile_dir = "/tmp/metrics"\ninterval_seconds = 1\n' > /tmp/test-event.toml
XFS_HEALER_CONFIG=/tmp/test-event.toml start_healer --repair
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
[ -S "$sock" ] || fail "no varlink socket in /run/xfs_healer"

# The counters of real events, before.
counters() {
	varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > "/results/status-$1.json" 2>&1 ||
		fail "GetStatus: $(cat "/results/status-$1.json")"
	sed -n 's/.*"counters":{\([^}]*\)}.*/\1/p' "/results/status-$1.json"
}
real_counters() {
	counters "$1" | sed 's/,\{0,1\}"test_events":[0-9]*//'
}
before=$(real_counters before)
[ -n "$before" ] || fail "no counters in GetStatus: $(cat /results/status-before.json)"
note "counters before: $before"

# The test.
"$CTL" test-event "$MNT" --class sick > /results/ctl-test.out 2> /results/ctl-test.err
rc=$?
expect_status 0 "$rc" "xfs_healerctl test-event --class sick ($(cat /results/ctl-test.err))"
grep -qxF "$MNT: test event (sick) sent: log, status API, metrics, sick hooks" /results/ctl-test.out ||
	fail "xfs_healerctl test-event said: $(cat /results/ctl-test.out)"
message="$MNT: test event (sick) from the status API; this is only a test"

# 1. The log: one JSON line, marked.
wait_for_output "$message" 10 || fail "no line for the test event: $(tail -3 "$HEALER_OUT")"
line=$(grep -F "$message" "$HEALER_OUT")
note "output: $line"
echo "$line" | grep -q '"kind":"sick"' || fail "the test line is not of kind sick: $line"
echo "$line" | grep -q '"test":true' || fail "the test line is not marked as a test: $line"
echo "$line" | grep -q '"mountpoint":"/mnt/test"' || fail "the test line lacks the mount point: $line"
# The filesystem as every sink names it: its UUID as xfs_db reads it off
# the disk, the device as /dev names it; the event's seq, and its class.
uuid=$(xfs_db -r -c uuid "$DEV" | sed -n 's/^UUID = //p')
[ -n "$uuid" ] || fail "xfs_db gave no UUID"
names_the_fs() { grep -F "\"uuid\":\"$uuid\"" "$1" | grep -qF "\"device\":\"$DEV\""; }
echo "$line" > /results/test-line.json
names_the_fs /results/test-line.json || fail "the JSON line does not name the filesystem ($uuid, $DEV): $line"
echo "$line" | grep -q '"class":"sick"' || fail "the test line lacks its class: $line"
seq=$(echo "$line" | sed -n 's/.*"seq":\([0-9]*\).*/\1/p')
[ -n "$seq" ] && [ "$seq" -ge 1 ] || fail "the test line has no seq: $line"
note "seq $seq, uuid $uuid, device $DEV"

# 2. The hooks: the sick hook and the all- hook, with XFS_TEST=1.
deadline=$(( $(now_ms) + 10000 ))
until [ -s /tmp/hook-runs ] && [ -s /tmp/all-runs ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the hooks did not run for the test event: $(tail -3 "$HEALER_OUT")"
	sleep 0.05
done
grep -qF "event=sick test=1 suppressed=0 message=$message stdin={" /tmp/hook-runs ||
	fail "the sick hook's environment: $(cat /tmp/hook-runs)"
grep -q 'stdin={.*"test":true' /tmp/hook-runs || fail "the hook's stdin is not marked as a test: $(cat /tmp/hook-runs)"
grep -qF "uuid=$uuid device=$DEV seq=$seq kind=sick class=sick " /tmp/hook-runs ||
	fail "the hook's environment does not name the filesystem and the event: $(cat /tmp/hook-runs)"
names_the_fs /tmp/hook-runs || fail "the hook's stdin does not name the filesystem: $(cat /tmp/hook-runs)"
grep -qx "all event=sick test=1" /tmp/all-runs || fail "the all- hook: $(cat /tmp/all-runs)"

# 3. The status API: the event stream's record and GetStatus.
"$CTL" --json events "$MNT" > /results/ctl-events.json 2>&1 || fail "xfs_healerctl events: $(cat /results/ctl-events.json)"
grep -F "$message" /results/ctl-events.json | grep -q '"test":true' ||
	fail "xfs_healerctl events does not show the test event marked: $(cat /results/ctl-events.json)"
# Its object is the JSON line, key for key.
[ "$(grep -F "$message" /results/ctl-events.json)" = "$line" ] ||
	fail "xfs_healerctl's object differs from the JSON line: $(grep -F "$message" /results/ctl-events.json)"
# A follower that resumes after the event before it gets this one first.
timeout 5 "$CTL" --json events --follow --since $((seq - 1)) "$MNT" > /results/ctl-since.json 2> /results/ctl-since.err
[ "$(head -n1 /results/ctl-since.json)" = "$line" ] ||
	fail "events --follow --since $((seq - 1)) did not resume with seq $seq: $(head -n2 /results/ctl-since.json) $(cat /results/ctl-since.err)"
[ "$(grep -c . /results/ctl-since.json)" = 1 ] || fail "events --since gave more than the one event after it: $(cat /results/ctl-since.json)"
after=$(real_counters after)
grep -q '"last_events":\[.*"test":true' /results/status-after.json || fail "GetStatus's last_events lack the test: $(cat /results/status-after.json)"
grep -q '"test_events":1' /results/status-after.json || fail "GetStatus does not count the test: $(cat /results/status-after.json)"
grep -q '"sick":\[\]' /results/status-after.json || fail "the test made something sick: $(cat /results/status-after.json)"
[ "$after" = "$before" ] || fail "counters of real events moved: before $before, after $after"

# 4. The metrics: the test counter, and no report of the kernel's.
deadline=$(( $(now_ms) + 10000 ))
until grep -q '^xfs_healer_test_events_total{mountpoint="/mnt/test",.*} 1$' /tmp/metrics/*.prom 2>/dev/null; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the metrics do not count the test: $(grep test_events /tmp/metrics/*.prom 2>&1)"
	sleep 0.1
done
cp /tmp/metrics/*.prom /results/metrics.prom
grep -q 'xfs_healer_reports_total{.*kind="sick"}' /results/metrics.prom && fail "the test is counted as a kernel report: $(grep reports_total /results/metrics.prom)"
grep -q 'xfs_healer_repairs_total{.*} [1-9]' /results/metrics.prom && fail "a repair was counted: $(grep repairs_total /results/metrics.prom)"

# Again at once: the hooks run again (a test is not rate limited, as a
# real report of the same object would be within the minute).
"$CTL" test-event "$MNT" > /results/ctl-test2.out 2>&1 || fail "a second test-event: $(cat /results/ctl-test2.out)"
deadline=$(( $(now_ms) + 10000 ))
until [ "$(grep -c 'test=1' /tmp/hook-runs)" = 2 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the second test did not run the sick hook: $(cat /tmp/hook-runs)"
	sleep 0.05
done

# A class the hooks do not run on by default: said, and no hook runs.
"$CTL" test-event --class healthy "$MNT" > /results/ctl-healthy.out 2>&1 || fail "test-event --class healthy: $(cat /results/ctl-healthy.out)"
grep -q "^$MNT: test event (healthy) sent: log, status API, metrics; no hooks" /results/ctl-healthy.out ||
	fail "test-event --class healthy said: $(cat /results/ctl-healthy.out)"
wait_for_output "$MNT: test event (healthy) from the status API" 10 || fail "no line for the healthy test"
sleep 1
[ "$(wc -l < /tmp/all-runs)" = 2 ] || fail "a hook ran for a class the hooks do not run on: $(cat /tmp/all-runs)"

# An unknown class: xfs_healerctl refuses it with the list, and so does
# the API itself.
"$CTL" test-event "$MNT" --class bogus > /results/ctl-bogus.out 2> /results/ctl-bogus.err
rc=$?
expect_status 64 "$rc" "xfs_healerctl test-event --class bogus ($(cat /results/ctl-bogus.err))"
grep -q "invalid value 'bogus'" /results/ctl-bogus.err || fail "no clear message for a bad class: $(cat /results/ctl-bogus.err)"
grep -q "possible values: .*sick.*repair_failed" /results/ctl-bogus.err || fail "the message lacks the classes: $(cat /results/ctl-bogus.err)"
varlinkctl --json=short call "$sock" io.xfs.Healer.TestEvent '{"class":"bogus"}' > /results/api-bogus.out 2>&1 &&
	fail "the API took an unknown class: $(cat /results/api-bogus.out)"
# varlinkctl says org.varlink.service.InvalidParameter as EINVAL, with
# its parameters.
grep -q "InvalidParameter\|Invalid argument" /results/api-bogus.out && grep -q '"parameter":"class"' /results/api-bogus.out ||
	fail "the API's answer to an unknown class: $(cat /results/api-bogus.out)"
varlinkctl --json=short call "$sock" io.xfs.Healer.TestEvent '{}' > /results/api-default.json 2>&1 ||
	fail "TestEvent through varlinkctl: $(cat /results/api-default.json)"
grep -q '"message":"/mnt/test: test event (sick) from the status API; this is only a test"' /results/api-default.json ||
	fail "TestEvent's answer: $(cat /results/api-default.json)"
grep -q '"hooks":true' /results/api-default.json || fail "TestEvent's answer: $(cat /results/api-default.json)"

# Four tests, nothing else: no repair, no full scan, no real counter moved.
final=$(real_counters final)
grep -q '"test_events":4' /results/status-final.json || fail "four tests, counted: $(cat /results/status-final.json)"
[ "$final" = "$before" ] || fail "counters of real events moved: before $before, at the end $final"
record test_lines "$(count_lines '"test":true')"
record hook_runs "$(wc -l < /tmp/hook-runs)"
expect_no_line '"kind":"repair"'
expect_no_line 'Full repairs'
expect_no_line 'Repairs successful'
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
cp "$HEALER_OUT" /results/healer-final.out
exit 0
