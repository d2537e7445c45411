# summary: a damaged directory block is reported as "<path> directory: sick" in log-only mode
# healers: reference ours
# timeout: 120
mkfs_scratch
mount_scratch
damaged_directory victim
start_healer --no-autofsck
ls "$MNT/victim" > /dev/null 2>&1 # the read fails inside the kernel (busybox ls does not report it)
wait_for_output "directory: sick" 10 || fail "no 'directory: sick' report"
expect_line "$MNT/victim directory: sick"
expect_no_line "Repairs successful"
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
