# summary: security: under the shipped unit with our least-privilege drop-in (CAP_SYS_ADMIN and CAP_DAC_READ_SEARCH only, no DAC_OVERRIDE, SystemCallErrorNumber=EPERM), with metrics and the status API on (an [api] group without the optional drop-in is refused, said, and the socket stays root-only), a damaged directory inside another user's 0700 directory is repaired, GetStatus answers, and the files the healer writes have their modes
# init: systemd
# healers: ours
# timeout: 400
[ -f /usr/lib/systemd/system/xfs_healer@.service.d/10-least-privilege.conf ] || fail "the drop-in is not installed"
mkfs_scratch
mount_scratch
mkdir "$MNT/home"
chown 1000:1000 "$MNT/home"
chmod 700 "$MNT/home"
damaged_directory home/victim
mkdir -p /var/lib/prometheus/node-exporter
# [api] group without the optional 60-api-group.conf drop-in: the chown is
# refused (EPERM, not SIGSYS), said, and the socket stays root's.
grep -q '^root:' /etc/group 2>/dev/null || echo 'root:x:0:' >> /etc/group
printf '[metrics]\ntextfile_dir = "/var/lib/prometheus/node-exporter"\ninterval_seconds = 1\n[api]\ngroup = "root"\n' > /etc/xfs_healer.toml
systemctl start "$unit" || fail "$unit did not start: $(systemctl status "$unit" 2>&1 | tail -5)"
caps=$(systemctl show -p CapabilityBoundingSet --value "$unit")
record capability_bounding_set "$(echo "$caps" | tr ' ' ,)"
echo "$caps" | grep -qw cap_dac_override && fail "the unit still has CAP_DAC_OVERRIDE: $caps"
echo "$caps" | grep -qw cap_dac_read_search || fail "the unit lacks CAP_DAC_READ_SEARCH: $caps"
deadline=$(( $(now_ms) + 30000 ))
until journal && grep -qF "$MNT: monitoring started" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit never reported monitoring: $(tail -5 /results/healer.out; systemctl status "$unit" 2>&1 | tail -3)"
	sleep 0.2
done
capeff=$(awk '/^CapEff/ { print $2 }' "/proc/$(systemctl show -p MainPID --value "$unit")/status")
record cap_eff "$capeff"
# CAP_DAC_OVERRIDE is bit 1 (0x2): it must be clear.
[ $(( 0x$capeff & 2 )) = 0 ] || fail "the healer runs with CAP_DAC_OVERRIDE (CapEff $capeff)"
ls "$MNT/home/victim" > /dev/null 2>&1
deadline=$(( $(now_ms) + 60000 ))
until journal && grep -qF "$MNT/home/victim directory: Repairs successful." /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "not repaired under least privilege: $(tail -5 /results/healer.out)"
	sleep 0.2
done
n=$(ls "$MNT/home/victim" | wc -l)
[ "$n" = 200 ] || fail "directory has $n entries after repair, expected 200"
[ "$(stat -c %a /run/xfs_healer)" = 755 ] || fail "/run/xfs_healer mode $(stat -c %a /run/xfs_healer), expected 755"
sock=$(ls /run/xfs_healer/*.varlink 2>/dev/null)
[ -S "$sock" ] || fail "no varlink socket: $(ls -la /run/xfs_healer; grep -i 'status API' /results/healer.out)"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), expected 600"
grep -qF "under systemd add the 60-api-group.conf drop-in" /results/healer.out || fail "the refused chown was not said: $(grep -i 'api' /results/healer.out)"
varlinkctl --json=short call "$sock" io.xfs.Healer.GetStatus '{}' > /results/status.json 2>&1 || fail "GetStatus: $(cat /results/status.json)"
grep -q '"repairs_succeeded":1' /results/status.json || fail "GetStatus does not count the repair: $(cat /results/status.json)"
prom=$(ls /var/lib/prometheus/node-exporter/*.prom 2>/dev/null)
[ -f "$prom" ] || fail "no metrics file: $(grep metrics /results/healer.out)"
[ "$(stat -c %a "$prom")" = 644 ] || fail "metrics file mode $(stat -c %a "$prom"), expected 644"
cp "$prom" /results/metrics.prom
systemd-analyze security --no-pager "$unit" > /results/security.out 2>&1
score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' /results/security.out)
[ -n "$score" ] || fail "systemd-analyze security gave no score: $(tail -3 /results/security.out)"
record exposure_score "$score"
grep -iE 'not available|refused|not used' /results/healer.out && fail "a feature was refused under the drop-in"
umount "$MNT"
deadline=$(( $(now_ms) + 30000 ))
while systemctl -q is-active "$unit"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit still active after unmount"
	sleep 0.1
done
systemctl show -p Result --value "$unit" | grep -qx success || fail "$unit ended with $(systemctl show -p Result --value "$unit")"
journal
exit 0
