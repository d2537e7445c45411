# summary: as deployed: under the shipped unit, the shipped shutdown-mail example hook delivers its mail: the hook runs in a transient unit outside the healer's sandbox (whose private network cannot reach the host's loopback), its sendmail reaches an SMTP server on 127.0.0.1:25 with the subject and the event's JSON, and a hook that outlives its timeout is stopped by systemd and reported
# init: systemd
# healers: ours
# timeout: 240
mail_system
mkfs_scratch
mount_scratch
mkdir -p /etc/xfs_healer/hooks.d
# As the README says: the example, copied into the hooks directory.
cp /payload/shutdown-mail /etc/xfs_healer/hooks.d/shutdown-mail
chmod 755 /etc/xfs_healer/hooks.d/shutdown-mail
printf '#!/bin/sh\nsleep 30\n' > /etc/xfs_healer/hooks.d/shutdown-slow
chmod 755 /etc/xfs_healer/hooks.d/shutdown-slow
cat > /etc/xfs_healer.toml <<'CONF'
[hooks]
dir = "/etc/xfs_healer/hooks.d"
classes = ["shutdown"]
timeout_seconds = 3
CONF
systemctl start "$unit" || fail "$unit did not start: $(systemctl status "$unit" 2>&1 | tail -5)"
deadline=$(( $(now_ms) + 30000 ))
until journal; grep -qF "$MNT: monitoring started" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit never reported monitoring: $(tail -5 /results/healer.out)"
	sleep 0.2
done
# The healer's own network namespace cannot reach the server.
pid=$(systemctl show -p MainPID --value "$unit")
[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] || fail "the healer is not in a private network namespace"
xfs_io -x -c "shutdown" "$MNT" || fail "xfs_io shutdown"
deadline=$(( $(now_ms) + 30000 ))
until grep -q '^Subject: XFS shut down on ' /run/mailbox 2>/dev/null; do
	[ "$(now_ms)" -ge "$deadline" ] && { journal; fail "no mail arrived: $(grep -i hook /results/healer.out | tail -3)"; }
	sleep 0.2
done
sleep 1
cp /run/mailbox /results/mailbox
grep -qx "Subject: XFS shut down on .*: $MNT" /run/mailbox || fail "subject: $(grep Subject /run/mailbox)"
grep -q '^{.*"kind":"shutdown".*"mountpoint":"/mnt/test".*}$' /run/mailbox || fail "the mail lacks the event's JSON: $(tail -3 /run/mailbox)"
record mails "$(grep -c '^Subject:' /run/mailbox)"
[ "$(grep -c '^Subject:' /run/mailbox)" = 1 ] || fail "$(grep -c '^Subject:' /run/mailbox) mails for one shutdown"
# The slow hook: stopped at its timeout by systemd, and said so.
deadline=$(( $(now_ms) + 20000 ))
until journal; grep -qF "hook /etc/xfs_healer/hooks.d/shutdown-slow ran longer than 3 s; killed" /results/healer.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the slow hook was not stopped: $(grep -i hook /results/healer.out | tail -3)"
	sleep 0.2
done
sleep 3
ps -o pid,args | grep -v grep | grep -q 'sleep 30' && fail "the slow hook's process outlived its unit"
umount "$MNT"
deadline=$(( $(now_ms) + 20000 ))
while systemctl is-active -q "$unit"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$unit still active after unmount"
	sleep 0.2
done
kill $MAIL_PID 2>/dev/null
journal
