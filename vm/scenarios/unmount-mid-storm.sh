# summary: the filesystem is unmounted while a storm of repairs runs: the unmount succeeds (retried while a repair holds it, as fstests does), and the healer exits 0 with no thread left behind
# healers: reference ours
# timeout: 300
N=60
mkfs_scratch -m rmapbt=1
mount_scratch
repairs_in_flight $N
record repaired_before_unmount "$(count_lines 'datafork: Repairs successful.')"
t0=$(now_ms)
unmount_retrying
record unmount_tries "$UNMOUNT_TRIES"
record unmount_ms $(( $(now_ms) - t0 ))
wait_exit "$HEALER_PID" 30 || fail "healer still running 30 s after the unmount"
record unmount_to_exit_ms $(( $(now_ms) - t0 ))
expect_status 0 "$EXIT_STATUS" "healer after unmount mid-storm"
expect_line "$MNT: filesystem unmounted"
