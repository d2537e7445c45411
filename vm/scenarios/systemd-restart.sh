# summary: as deployed: under the shipped unit with our drop-ins (and the optional 60-api-group.conf), with an [api] group, metrics and a hook on, the socket belongs to the group and a member can call GetStatus, any user can read the metrics, the hook runs; a healer killed by SIGKILL is started again by systemd (10-restart.conf) and serves again; systemctl stop leaves no socket, metrics file or process behind and is not followed by a restart
# init: systemd
# healers: ours
# timeout: 300
[ -f /usr/lib/systemd/system/xfs_healer@.service.d/10-restart.conf ] || fail "the restart drop-in is not installed"
echo 'tester:x:4242:4242:tester:/:/bin/sh' >> /etc/passwd
printf 'tester:x:4242:\nhealerops:x:4243:tester\n' >> /etc/group
mkfs_scratch
mount_scratch
mkdir -p /var/lib/prometheus/node-exporter /etc/xfs_healer/hooks.d
cat > /etc/xfs_healer/hooks.d/running-log <<'HOOK'
#!/bin/sh
echo "$XFS_EVENT $XFS_MOUNTPOINT" >> /run/hook.log
HOOK
chmod 755 /etc/xfs_healer/hooks.d/running-log
# Hooks run in transient units of their own (UMask=0077): the log they
# append to exists with its mode.
: > /run/hook.log
chmod 666 /run/hook.log
# As the README says for [api] group under systemd: the optional drop-in.
mkdir -p /etc/systemd/system/xfs_healer@.service.d
cp /payload/optional-60-api-group.conf /etc/systemd/system/xfs_healer@.service.d/60-api-group.conf
systemctl daemon-reload
cat > /etc/xfs_healer.toml <<'CONF'
[api]
group = "healerops"
[metrics]
textfile_dir = "/var/lib/prometheus/node-exporter"
interval_seconds = 1
[hooks]
dir = "/etc/xfs_healer/hooks.d"
classes = ["running"]
CONF
systemctl start "$unit" || fail "$unit did not start: $(systemctl status "$unit" 2>&1 | tail -5)"
deadline=$(( $(now_ms) + 30000 ))
until [ "$(started)" -ge 1 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit never reported monitoring: $(tail -5 /results/healer.out; systemctl status "$unit" 2>&1 | tail -3)"
	sleep 0.2
done
# The group's access, as a member of it sees it.
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
[ -S "$sock" ] || fail "no API socket: $(grep -i 'api' /results/healer.out)"
record socket "$(stat -c '%a %G' "$sock")"
[ "$(stat -c '%a %G' "$sock")" = "660 healerops" ] || fail "socket is $(stat -c '%a %U:%G' "$sock"), expected 660 to group healerops: $(grep -i 'api' /results/healer.out)"
as tester varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus "'{}'" > /results/status-member.json 2>&1 ||
	fail "a member of the API group cannot call GetStatus: $(cat /results/status-member.json)"
prom=$(ls /var/lib/prometheus/node-exporter/*.prom 2>/dev/null)
[ -f "$prom" ] || fail "no metrics file: $(grep metrics /results/healer.out)"
as tester cat "$prom" > /results/metrics-as-tester.prom || fail "another user cannot read the metrics file ($(stat -c '%a %U:%G' "$prom"))"
grep -q '^xfs_healer_' /results/metrics-as-tester.prom || fail "the metrics file read as another user has no metrics"
deadline=$(( $(now_ms) + 20000 ))
until [ "$(grep -c '^running ' /run/hook.log 2>/dev/null)" -ge 1 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the running hook did not run: $(grep -i hook /results/healer.out)"
	sleep 0.2
done
# A healer that dies is started again.
first=$(main_pid)
t0=$(now_ms)
systemctl kill -s KILL "$unit"
deadline=$(( t0 + 30000 ))
until [ "$(started)" -ge 2 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no restart after SIGKILL: $(systemctl status "$unit" 2>&1 | tail -5)"
	sleep 0.2
done
record restart_ms $(( $(now_ms) - t0 ))
second=$(main_pid)
[ "$second" != "$first" ] && [ "$second" != 0 ] || fail "MainPID $first then $second"
record restarts "$(systemctl show -p NRestarts --value "$unit")"
# The restarted healer took its lock and files again: the first left them
# with the modes it set, not the unit's UMask=7777 (mode 0000, which root
# without CAP_DAC_OVERRIDE cannot open).
journal
grep -E "denied|not permitted" /results/healer.out && fail "refused under the unit: $(grep -E 'denied|not permitted' /results/healer.out | head -3)"
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
as tester varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus "'{}'" > /results/status-restarted.json 2>&1 ||
	fail "the restarted healer does not answer: $(cat /results/status-restarted.json)"
deadline=$(( $(now_ms) + 20000 ))
until [ "$(grep -c '^running ' /run/hook.log)" -ge 2 ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the restarted healer ran no hook"
	sleep 0.2
done
# systemctl reload (our 10-reload.conf) makes the healer read its settings
# again, without a restart.
systemctl reload "$unit" || fail "systemctl reload: $(systemctl status "$unit" 2>&1 | tail -3)"
deadline=$(( $(now_ms) + 20000 ))
until journal; grep -qF "$MNT: settings reloaded from /etc/xfs_healer.toml" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "no reload after systemctl reload: $(tail -3 /results/healer.out)"
	sleep 0.2
done
[ "$(main_pid)" = "$second" ] || fail "systemctl reload restarted the healer"
# An orderly stop leaves nothing behind, and is not restarted.
systemctl stop "$unit"
[ "$(systemctl show -p ActiveState --value "$unit")" = inactive ] || fail "$unit is $(systemctl show -p ActiveState --value "$unit") after stop"
ls /run/xfs_healer/*.varlink 2>/dev/null && fail "the socket is left behind"
ls /var/lib/prometheus/node-exporter/*.prom 2>/dev/null && fail "the metrics file is left behind"
[ -d "/proc/$second" ] && fail "the healer ($second) still runs after stop"
sleep 4
[ "$(systemctl show -p ActiveState --value "$unit")" = inactive ] || fail "$unit was started again after an orderly stop"
record restarts_after_stop "$(systemctl show -p NRestarts --value "$unit")"
umount "$MNT"
exit 0
