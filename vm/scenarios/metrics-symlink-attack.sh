# summary: security: a non-root user who owns the metrics directory plants symlinks at the healer's file names to a root-only file; the healer refuses the directory (said once) and the file is untouched; in a sticky world-writable directory the planted links are replaced, never followed
# healers: ours
# timeout: 200
mkfs_scratch
mount_scratch
damaged_directory victim
# The name is predictable by anyone: the UUID (xfs_io fsuuid) and the
# device numbers are public.
uuid=$(xfs_io -c fsuuid "$MNT" | sed -n 's/^UUID = //p' | tr -d -)
majmin=$(cat /sys/block/vda/dev)
[ -n "$uuid" ] && [ -n "$majmin" ] || fail "no filesystem UUID or device numbers"
name="xfs_healer_$uuid-${majmin%:*}-${majmin#*:}.prom"
printf 'root:secret:1\n' > /etc/victim-file
chmod 600 /etc/victim-file
before=$(md5sum < /etc/victim-file)
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >> /etc/group
as_nobody() { su -s /bin/sh nobody -c "$*"; }

# 1. The directory belongs to the attacker (as the prometheus account's
# would): both names the healer used to write are planted.
mkdir /tmp/prom-nobody
chown 65534:65534 /tmp/prom-nobody
as_nobody ln -s /etc/victim-file "/tmp/prom-nobody/$name.tmp" || fail "could not plant the link as uid 65534"
as_nobody ln -s /etc/victim-file "/tmp/prom-nobody/$name"
printf '[metrics]\ntextfile_dir = "/tmp/prom-nobody"\ninterval_seconds = 1\n' > /tmp/attack.toml
XFS_HEALER_CONFIG=/tmp/attack.toml start_healer --no-autofsck
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: sick" 10 || fail "no sick report"
sleep 3
[ "$(md5sum < /etc/victim-file)" = "$before" ] || fail "the root-only file was written through the planted link: $(head -c 200 /etc/victim-file)"
[ "$(stat -c %a /etc/victim-file)" = 600 ] || fail "the victim's mode changed to $(stat -c %a /etc/victim-file)"
expect_line "$MNT: metrics: /tmp/prom-nobody: not used: owned by uid 65534, not root"
record refusal_lines "$(count_lines 'metrics: /tmp/prom-nobody: not used')"
[ "$(count_lines 'metrics: /tmp/prom-nobody')" = 1 ] || fail "the refusal was not said exactly once: $(grep metrics "$HEALER_OUT")"
kill -TERM "$HEALER_PID"
wait_exit "$HEALER_PID" 20 || fail "healer did not stop"
cp "$HEALER_OUT" /results/healer-refused.out

# 2. A sticky world-writable directory is usable (others cannot remove
# or rename what root makes there), and links planted in it are replaced.
mkdir -m 1777 /tmp/prom-sticky
as_nobody ln -s /etc/victim-file "/tmp/prom-sticky/$name.tmp"
as_nobody ln -s /etc/victim-file "/tmp/prom-sticky/$name"
printf '[metrics]\ntextfile_dir = "/tmp/prom-sticky"\ninterval_seconds = 1\n' > /tmp/sticky.toml
XFS_HEALER_CONFIG=/tmp/sticky.toml start_healer --no-autofsck
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: sick" 10 || fail "no sick report"
deadline=$(( $(now_ms) + 10000 ))
until [ ! -L "/tmp/prom-sticky/$name" ] && grep -q '^xfs_healer_reports_total{.*kind="sick"} [1-9]' "/tmp/prom-sticky/$name" 2>/dev/null; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the planted link was never replaced by the metrics file: $(ls -l /tmp/prom-sticky; tail -3 "$HEALER_OUT")"
	sleep 0.2
done
[ "$(md5sum < /etc/victim-file)" = "$before" ] || fail "the root-only file was written through a planted link"
[ "$(stat -c %a "/tmp/prom-sticky/$name")" = 644 ] || fail "metrics file mode $(stat -c %a "/tmp/prom-sticky/$name"), expected 644"
[ "$(stat -c %u "/tmp/prom-sticky/$name")" = 0 ] || fail "the metrics file is not root's"
cp "/tmp/prom-sticky/$name" /results/sticky.prom
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
[ "$(md5sum < /etc/victim-file)" = "$before" ] || fail "the root-only file changed at exit"
ls -A /tmp/prom-sticky > /results/sticky-dir.out
grep -q '^\.xfs_healer_.*\.tmp$' /results/sticky-dir.out && fail "a temporary was left behind: $(cat /results/sticky-dir.out)"
exit 0
