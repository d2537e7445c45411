# summary: a forced shutdown is reported with its reason; unmount still ends the healer with 0
# healers: reference ours
# timeout: 90
mkfs_scratch
mount_scratch
start_healer --no-autofsck
xfs_io -x -c "shutdown -f" "$MNT" || fail "xfs_io shutdown"
wait_for_output "$MNT: filesystem shut down due to forced unmount" 10 || fail "no shutdown report"
umount "$MNT" || fail "umount after shutdown"
wait_exit "$HEALER_PID" 20 || fail "healer still running after unmount"
expect_status 0 "$EXIT_STATUS" "healer after shutdown and unmount"
expect_line "$MNT: filesystem shut down due to forced unmount"
