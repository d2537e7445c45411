# summary: unmounting the filesystem ends the healer with status 0 after "filesystem unmounted"
# healers: reference ours
# timeout: 90
mkfs_scratch
mount_scratch
start_healer --no-autofsck
t0=$(now_ms)
umount "$MNT" || fail "umount failed (the healer must not pin the mount)"
wait_exit "$HEALER_PID" 20 || fail "healer still running 20 s after unmount"
record exit_after_unmount_ms $(( $(now_ms) - t0 ))
expect_status 0 "$EXIT_STATUS" "healer after unmount"
expect_line "$MNT: filesystem unmounted"
