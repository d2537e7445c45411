# summary: the opt-in media patrol (XFS_IOC_VERIFY_MEDIA at a limited rate) shows its progress, resumes where it stopped after a restart, pinpoints the failing block under a file and the one under AG 1's inode btree, and the btree is rebuilt
# healers: ours
# timeout: 300
dm_scratch
mkfs_scratch -d agcount=4,size=320m -m rmapbt=1
mount_scratch
victim_and_inobt
dm_fail "$file_daddr" 8 "$inobt_daddr" 8
cat > /tmp/healer.toml <<'CONF'
[patrol]
enabled = true
bandwidth_mib_per_second = 8
state_dir = "/tmp/patrol-state"
CONF
export XFS_HEALER_CONFIG=/tmp/healer.toml

# 320 MiB at 8 MiB/s: stopped part way.
start_healer --repair
wait_for_output "$MNT: media patrol started." 10 || fail "the patrol did not start"
wait_for_output "$MNT: media patrol: 30% of the data device verified." 60 || fail "no progress: $(tail -3 "$HEALER_OUT")"
kill -TERM "$HEALER_PID"
wait_exit "$HEALER_PID" 20 || fail "healer did not stop on SIGTERM"
cp "$HEALER_OUT" /results/healer-first.out
cat /tmp/patrol-state/*.patrol > /results/patrol-state || fail "no patrol state saved"
note "saved: $(tr '\n' ' ' < /results/patrol-state)"

# Resumed at full speed.
sed -i 's/= 8$/= 1024/' /tmp/healer.toml
start_healer --repair
wait_for_output "$MNT: media patrol resumed at " 10 || fail "the patrol did not resume: $(tail -3 "$HEALER_OUT")"
resumed=$(sed -n 's/.*media patrol resumed at \([0-9]*\)%.*/\1/p' "$HEALER_OUT")
[ "$resumed" -ge 10 ] || fail "resumed at $resumed%, expected where it stopped (10% or more)"
record resumed_at_percent "$resumed"
wait_for_output "$MNT: media patrol complete: 2 bad blocks." 120 || fail "the patrol did not complete: $(tail -3 "$HEALER_OUT")"
cat /results/healer-first.out "$HEALER_OUT" > /results/healer-both.out
grep -qxF "$MNT $(printf 'datadev daddr %#x bbcount 0x8' "$file_daddr"): media error" /results/healer-both.out ||
	fail "the failing block under the file was not pinpointed"
grep -qxF "$MNT/victim pos 0 len 4096: media failed" /results/healer-both.out || fail "the lost file range was not reported"
grep -qxF "$MNT $(printf 'datadev daddr %#x bbcount 0x8' "$inobt_daddr"): media error" /results/healer-both.out ||
	fail "the failing block under the inode btree was not pinpointed"
grep -qxF "$MNT agno 0x1 inode btrees: on failed media" /results/healer-both.out || fail "the inode btree was not named"
grep -qxF "$MNT agno 0x1 inobt: Repairs successful." /results/healer-both.out || fail "the inode btree was not rebuilt"
record media_error_lines "$(cat /results/healer-both.out | grep -c ': media error')"
grep ': media error' /results/healer-both.out | grep -v 'bbcount 0x8:' && fail "a media error wider than one block was reported"
dm_fail
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
dmsetup remove healer-dm
