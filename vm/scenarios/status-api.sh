# summary: JSON lines output, textfile metrics, and the io.xfs.Healer varlink API: its thread starts at the first client, and before it the healer holds one monitor fd and no socket but the API's; varlinkctl introspects it; GetStatus shows a damaged directory sick (log-only), then repaired; xfs_healerctl events --follow --json streams the sequence live; RequestFullScan starts a scan; the socket is root-only and goes away at exit
# healers: ours
# timeout: 300
CTL=/payload/xfs_healerctl
mkfs_scratch
mount_scratch
damaged_directory victim

# Log-only, JSON lines: the directory stays sick.
printf '[output]\nformat = "json"\n' > /tmp/json.toml
XFS_HEALER_CONFIG=/tmp/json.toml start_healer --no-autofsck
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
[ -S "$sock" ] || fail "no varlink socket in /run/xfs_healer"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), expected 600"
before=$(healer_threads)
note "threads before the first client: $before"
case " $before" in *" varlink "*) fail "the API thread runs before any client came: $before" ;; esac
# One fd for each thing: the monitor is not duplicated for the workers,
# and the wake-ups are eventfds, so the API's socket is the only one.
files=$(healer_files)
note "open files before the first client: $files"
case "$files" in *" 1 anon_inode:xfs_healthmon "*) ;; *) fail "not one health monitor fd: $files" ;; esac
case "$files" in *" 1 socket "*) ;; *) fail "sockets besides the API's: $files" ;; esac
varlinkctl introspect "$sock" io.xfs.Healer > /results/introspect.out 2>&1 || fail "varlinkctl introspect: $(tail -3 /results/introspect.out)"
after=$(healer_threads)
note "threads after it: $after"
case " $after" in *" varlink "*) ;; *) fail "no API thread after a client was served: $after" ;; esac
grep -q "^interface io.xfs.Healer" /results/introspect.out || fail "introspection lacks the interface: $(head -3 /results/introspect.out)"
grep -q "method GetStatus" /results/introspect.out || fail "introspection lacks GetStatus"
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: sick" 10 || fail "no sick report"
varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > /results/status-sick.json 2>&1 || fail "GetStatus: $(cat /results/status-sick.json)"
grep -q '"structures":\["directory"\]' /results/status-sick.json || fail "GetStatus does not show the sick directory: $(cat /results/status-sick.json)"
grep -q '"mode":"log_only"' /results/status-sick.json || fail "GetStatus mode: $(cat /results/status-sick.json)"
varlinkctl --json=short call "$sock" io.xfs.Healer.RequestFullScan '{}' > /results/scan-logonly.json 2>&1 && fail "a full scan was started in log-only mode"
grep -q RepairsDisabled /results/scan-logonly.json || fail "RequestFullScan in log-only mode: $(cat /results/scan-logonly.json)"
# A misspelt parameter is refused by name; Events without "more" is
# refused as sd-varlink refuses it.
varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{"verbose":true}' > /results/status-unknown.out 2>&1 && fail "GetStatus took an unknown parameter: $(cat /results/status-unknown.out)"
grep -q verbose /results/status-unknown.out || fail "the refusal does not name the parameter: $(cat /results/status-unknown.out)"
varlinkctl --json=short call "$sock" io.xfs.Healer.Events '{}' > /results/events-once.out 2>&1 && fail "Events answered without more: $(cat /results/events-once.out)"
grep -q "more" /results/events-once.out || fail "Events without more was not refused as ExpectedMore: $(cat /results/events-once.out)"
"$CTL" status > /results/ctl-status.out 2>&1 || fail "xfs_healerctl status: $(cat /results/ctl-status.out)"
grep -q "directory" /results/ctl-status.out || fail "xfs_healerctl status does not show the sick directory: $(cat /results/ctl-status.out)"
kill -TERM "$HEALER_PID"
wait_exit "$HEALER_PID" 20 || fail "healer did not stop"
cp "$HEALER_OUT" /results/healer-logonly.out
grep -v '^{"' /results/healer-logonly.out && fail "a line of JSON output is not a JSON object"
grep -q '"kind":"sick".*"message":"/mnt/test/victim directory: sick".*"v":1' /results/healer-logonly.out ||
	grep -q '"v":1.*"kind":"sick"' /results/healer-logonly.out || fail "no versioned JSON record of the sick report: $(cat /results/healer-logonly.out)"
grep -q '"mountpoint":"/mnt/test"' /results/healer-logonly.out || fail "JSON records lack the mount point"

# Repairing, with a live follower and textfile metrics.
printf '[metrics]\ntextfile_dir = "/tmp/metrics"\ninterval_seconds = 1\n' > /tmp/metrics.toml
mkdir -p /tmp/metrics
XFS_HEALER_CONFIG=/tmp/metrics.toml start_healer --repair
sock=$(ls /run/xfs_healer/*.varlink)
"$CTL" --json events --follow "$MNT" > /results/follow.json 2> /results/follow.err &
follower=$!
sleep 1
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: Repairs successful." 20 || fail "not repaired"
sleep 1
grep -q '"kind":"sick".*"structures":\["directory"\]' /results/follow.json || fail "the follower did not see the sick report: $(cat /results/follow.json /results/follow.err)"
grep -q '"kind":"repair".*"outcome":"Repairs successful."' /results/follow.json || fail "the follower did not see the repair: $(cat /results/follow.json)"
record followed_events "$(wc -l < /results/follow.json)"
varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > /results/status-repaired.json 2>&1 || fail "GetStatus after repair"
grep -q '"sick":\[\]' /results/status-repaired.json || fail "still sick after the repair: $(cat /results/status-repaired.json)"
grep -q '"repairs_succeeded":1' /results/status-repaired.json || fail "repair not counted: $(cat /results/status-repaired.json)"
# The host parses results/*.prom with a Prometheus text-format parser.
deadline=$(( $(now_ms) + 10000 ))
until grep -q 'xfs_healer_repairs_total{.*outcome="succeeded"} 1' /tmp/metrics/*.prom 2>/dev/null; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "metrics do not show the repair: $(cat /tmp/metrics/*.prom 2>&1 | head -20)"
	sleep 0.2
done
cp /tmp/metrics/*.prom /results/metrics.prom
grep -q 'xfs_healer_reports_total{mountpoint="/mnt/test",.*kind="sick"} [1-9]' /results/metrics.prom || fail "metrics lack the sick report"
grep -q 'xfs_healer_sick_objects{.*} 0' /results/metrics.prom || fail "metrics still count a sick object"
varlinkctl --json=short call "$sock" io.xfs.Healer.RequestFullScan '{}' > /results/scan.json 2>&1 || fail "RequestFullScan: $(cat /results/scan.json)"
grep -q '"started":true' /results/scan.json || fail "no full scan started: $(cat /results/scan.json)"
wait_for_output "$MNT: Full repairs in progress." 10 || fail "the requested full scan was not reported: $(tail -3 "$HEALER_OUT")"
# A whole scan takes minutes under TCG; its start is what was asked for.
killall xfs_scrub 2>/dev/null
wait_for_output "$MNT: xfs_scrub was killed by a signal." 20 || fail "the stopped scan was not reported: $(tail -3 "$HEALER_OUT")"
kill "$follower" 2>/dev/null
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
[ -e "$sock" ] && fail "the socket outlived the healer"
ls /tmp/metrics/*.prom > /dev/null 2>&1 && fail "the metrics file outlived the healer"
exit 0
