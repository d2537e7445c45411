# summary: SIGTERM ends the healer with status 143
# healers: reference ours
# timeout: 90
mkfs_scratch
mount_scratch
start_healer --no-autofsck
kill -TERM "$HEALER_PID"
wait_exit "$HEALER_PID" 10 || fail "healer ignored SIGTERM for 10 s"
expect_status 143 "$EXIT_STATUS" "healer after SIGTERM"
umount "$MNT" || fail "umount after SIGTERM"
