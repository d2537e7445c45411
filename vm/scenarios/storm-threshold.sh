# summary: a configured storm threshold (more than 5 new targets) turns a burst into one full xfs_scrub run that repairs everything; a config typo is refused
# healers: ours
# timeout: 360
N=10
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks $N
printf '[repair]\nstorm_target = 5\n' > /tmp/bad.toml
XFS_HEALER_CONFIG=/tmp/bad.toml "$HEALER" --supported "$MNT" > /results/bad.out 2>&1
expect_status 255 $? "--supported with a misspelt key"
grep -qF "/tmp/bad.toml: line 2, column 1: unknown field \`storm_target\`" /results/bad.out || fail "config error not named: $(cat /results/bad.out)"
printf '[repair]\nstorm_targets = 5\nstorm_window_seconds = 60\n' > /tmp/healer.toml
XFS_HEALER_CONFIG=/tmp/healer.toml
export XFS_HEALER_CONFIG
start_healer --repair
# All reports in one batch, so none is repaired before the threshold.
kill -STOP "$HEALER_PID"
read_storm_files $N
kill -CONT "$HEALER_PID"
wait_for_output "$MNT: Full repairs in progress." 20 || fail "the storm did not start a full scan"
wait_for_output "$MNT: Full repairs complete." 300 || fail "the full scan did not complete: $(tail -3 "$HEALER_OUT")"
targeted=$(count_lines "datafork: Repairs successful.")
record targeted_repairs "$targeted"
[ "$targeted" = 0 ] || fail "$targeted targeted repairs although the full scan covered them"
storm_files_readable $N
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
