# summary: as deployed from the package: on a server whose xfsprogs 7.2 healer runs under its launcher, dpkg -i of our .deb diverts xfsprogs' seven healer files, and its postinst restarts the launcher, which puts our healer on the mounted XFS; configured as the README says (metrics, [api] group with its drop-in, JSON output, the shutdown-mail example hook, the patrol) and applied with a restart of the launcher, our healer repairs a damaged directory, another user reads the metrics, a group member runs xfs_healerctl status, the hook's mail is delivered, the patrol completes, a SIGKILL is followed by a restart; dpkg -r puts xfsprogs' files back, and xfsprogs' healer runs again and repairs; dpkg -P removes the settings
# init: systemd
# healers: ours
# install: deb
# timeout: 480
DPKG=/usr/bin/dpkg # the shell's own busybox applet would answer to "dpkg"
HEALER=/usr/libexec/xfsprogs/xfs_healer
said() { journal; grep -q"${2:-}"F "$1" /results/healer.out; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# wait_started N: the unit's Nth "monitoring started" since boot.
wait_started() {
	wait_until 60 "$unit never reported monitoring ($1): \$(tail -3 /results/healer.out; systemctl status $unit 2>&1 | tail -3)" \
		started_at_least "$1"
}
started_at_least() { [ "$(started)" -ge "$1" ]; }
# The program the healer of $MNT runs, by its hash.
running_healer() {
	pid=$(main_pid)
	[ "$pid" -gt 0 ] || fail "$unit has no main process"
	sha "/proc/$pid/exe"
}
echo 'tester:x:4242:4242:tester:/:/bin/sh' >> /etc/passwd
echo 'prometheus:x:4244:4244:prometheus:/:/bin/sh' >> /etc/passwd
printf 'tester:x:4242:\nhealerops:x:4243:tester\nprometheus:x:4244:\n' >> /etc/group
mail_system

# The server before: xfsprogs' healer, started by its launcher (which
# xfsprogs' own postinst enables) for a mounted XFS.
theirs=$(sha "$HEALER")
$DPKG -S "$HEALER" | grep -qx "xfsprogs: $HEALER" || fail "xfsprogs does not own $HEALER: $($DPKG -S "$HEALER" 2>&1)"
systemctl enable --now xfs_healer_start.service 2>/results/enable.err || fail "enabling xfsprogs' launcher: $(cat /results/enable.err)"
mkfs_scratch -d size=320m
mount_scratch
wait_started 1
[ "$(running_healer)" = "$theirs" ] || fail "the healer before the package is not xfsprogs'"

# Installed.
t0=$(now_ms)
$DPKG -i /payload/xfs-healer.deb > /results/dpkg-install.out 2>&1 || fail "dpkg -i: $(tail -5 /results/dpkg-install.out)"
record diversions "$(dpkg-divert --list | grep -c 'by xfs-healer$')"
[ "$(dpkg-divert --list | grep -c 'by xfs-healer$')" = 7 ] || fail "diversions: $(dpkg-divert --list)"
[ "$(sha "$HEALER.xfsprogs")" = "$theirs" ] || fail "xfsprogs' healer is not at $HEALER.xfsprogs"
ours=$(sha "$HEALER")
[ "$ours" != "$theirs" ] || fail "$HEALER is still xfsprogs'"
$DPKG -S "$HEALER" | grep -q "^diversion by xfs-healer from: $HEALER$" || fail "$HEALER is not ours to dpkg: $($DPKG -S "$HEALER" 2>&1)"
# The postinst restarted the launcher, which restarted the healer.
wait_started 2
record install_to_ours_ms $(( $(now_ms) - t0 ))
[ "$(running_healer)" = "$ours" ] || fail "after dpkg -i the healer of $MNT is not ours"
systemctl is-enabled -q xfs_healer_start.service || fail "the launcher is not enabled"
[ -f /etc/xfs_healer.toml ] || fail "no /etc/xfs_healer.toml"
"$HEALER" -V > /results/version.out
xfs_healerctl --version > /results/ctl-version.out || fail "xfs_healerctl is not on PATH"
xfs_healerctl check-config > /results/check-config-shipped.out 2>&1 || fail "the shipped settings do not check: $(cat /results/check-config-shipped.out)"

# Configured as the README says.
examples=/usr/share/doc/xfs-healer/examples
cp "$examples/hooks.d/shutdown-mail" /etc/xfs_healer/hooks.d/ && chmod 755 /etc/xfs_healer/hooks.d/shutdown-mail ||
	fail "the shutdown-mail example is not installed"
mkdir -p /etc/systemd/system/xfs_healer@.service.d /var/lib/prometheus/node-exporter
cp "$examples/60-api-group.conf" /etc/systemd/system/xfs_healer@.service.d/ || fail "the [api] group drop-in is not installed"
cat >> /etc/xfs_healer.toml <<'CONF'

[patrol]
enabled = true

[api]
group = "healerops"

[output]
format = "json"

[metrics]
textfile_dir = "/var/lib/prometheus/node-exporter"
interval_seconds = 1

[hooks]
dir = "/etc/xfs_healer/hooks.d"
classes = ["shutdown", "repair_failed"]
CONF
xfs_healerctl check-config > /results/check-config.out 2>&1 || fail "check-config: $(cat /results/check-config.out)"
systemctl daemon-reload
systemctl restart xfs_healer_start.service
wait_started 3
wait_until 30 'the patrol did not start: $(tail -3 /results/healer.out)' \
	said "$MNT: media patrol started."

# A damaged directory: the launcher starts our healer on the new mount,
# and it repairs.
damaged_directory victim
record unmount_tries_during_patrol "$UNMOUNT_TRIES"
wait_started 4
[ "$(running_healer)" = "$ours" ] || fail "the healer of the new mount is not ours"
ls "$MNT/victim" > /dev/null 2>&1
wait_until 30 'no repair: $(tail -3 /results/healer.out)' \
	said "\"message\":\"$MNT/victim directory: Repairs successful.\""
# Every JSON line, reports and other lines alike, says where and when.
grep '^{' /results/healer.out | grep -v "\"mountpoint\":\"$MNT\".*\"time_usec\":[0-9]" > /results/json-without-keys
[ -s /results/json-without-keys ] && fail "JSON lines without mountpoint or time_usec: $(head -2 /results/json-without-keys)"
[ "$(ls "$MNT/victim" | wc -l)" = 200 ] || fail "the directory lost entries"

# Another user reads the metrics, a member of the group asks for the status.
prom=$(ls /var/lib/prometheus/node-exporter/*.prom 2>/dev/null)
as prometheus cat "$prom" > /results/metrics.prom || fail "another user cannot read $prom ($(stat -c '%a %U:%G' "$prom"))"
grep -q '^xfs_healer_up{.*} 1$' /results/metrics.prom || fail "the metrics do not say the healer is up"
# Rewritten every second: the repair shows within a few.
metrics_count_the_repair() {
	as prometheus cat "$prom" > /results/metrics.prom &&
		grep -q '^xfs_healer_repairs_total{.*outcome="succeeded".*} [1-9]' /results/metrics.prom
}
wait_until 10 'the metrics count no repair: $(grep "^xfs_healer_repairs_total" /results/metrics.prom)' metrics_count_the_repair
as tester xfs_healerctl status > /results/status.out 2>&1 || fail "a member of the API group: $(cat /results/status.out)"
grep -qF "$MNT" /results/status.out || fail "xfs_healerctl status: $(cat /results/status.out)"

# The example hook delivers (a test event: the filesystem stays up).
xfs_healerctl test-event "$MNT" --class shutdown > /results/test-event.out 2>&1 || fail "test-event: $(cat /results/test-event.out)"
wait_until 30 'no mail: $(grep -i hook /results/healer.out | tail -3)' grep -q '^Subject: \[TEST\] ' /run/mailbox
cp /run/mailbox /results/mailbox

# The patrol went on through the remount, and is done.
wait_until 180 'the patrol did not complete: $(grep -i patrol /results/healer.out | tail -2)' \
	said "$MNT: media patrol complete: 0 bad blocks."
ls /var/lib/xfs_healer/*.patrol > /dev/null 2>&1 || fail "no patrol state in /var/lib/xfs_healer"
# Nothing our healers did was refused by the sandbox.
grep -E "denied|not permitted" /results/healer.out && fail "refused under the unit: $(grep -E 'denied|not permitted' /results/healer.out | head -3)"
# The unmount stopped the patrol without an error line.
grep -F "media patrol stopped" /results/healer.out && fail "the unmount was said as a patrol error"

# Killed, started again by systemd.
first=$(main_pid)
systemctl kill -s KILL "$unit"
wait_started 5
[ "$(main_pid)" != "$first" ] || fail "no new healer after SIGKILL"
record restarts "$(systemctl show -p NRestarts --value "$unit")"

# Removed: xfsprogs' files come back, and its healer runs and repairs.
t0=$(now_ms)
$DPKG -r xfs-healer > /results/dpkg-remove.out 2>&1 || fail "dpkg -r: $(tail -5 /results/dpkg-remove.out)"
dpkg-divert --list | grep -q 'by xfs-healer$' && fail "diversions left: $(dpkg-divert --list)"
[ "$(sha "$HEALER")" = "$theirs" ] || fail "$HEALER is not xfsprogs' after dpkg -r"
[ -e "$HEALER.xfsprogs" ] && fail "$HEALER.xfsprogs is left behind"
[ -d /usr/lib/systemd/system/xfs_healer@.service.d ] && fail "our drop-ins are left behind: $(ls /usr/lib/systemd/system/xfs_healer@.service.d)"
[ -e /usr/sbin/xfs_healerctl ] && fail "xfs_healerctl is left behind"
wait_started 6
record remove_to_theirs_ms $(( $(now_ms) - t0 ))
[ "$(running_healer)" = "$theirs" ] || fail "after dpkg -r the healer of $MNT is not xfsprogs'"
damaged_directory again
wait_started 7
ls "$MNT/again" > /dev/null 2>&1
wait_until 30 'xfsprogs healer did not repair: $(tail -3 /results/healer.out)' \
	said "$MNT/again directory: Repairs successful." x
[ -f /etc/xfs_healer.toml ] || fail "dpkg -r removed the settings (a conffile stays until purge)"
$DPKG -P xfs-healer > /results/dpkg-purge.out 2>&1 || fail "dpkg -P: $(tail -5 /results/dpkg-purge.out)"
[ -e /etc/xfs_healer.toml ] && fail "dpkg -P left /etc/xfs_healer.toml"
umount "$MNT"
exit 0
