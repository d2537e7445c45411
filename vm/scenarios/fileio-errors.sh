# summary: read errors under a file (dm-error): direct and buffered reads are reported with the file's path, position and length
# healers: reference ours
# timeout: 150
dm_scratch
mkfs_scratch
mount_scratch
xfs_io -f -c "pwrite -q 0 64k" -c fsync "$MNT/victim" || fail "could not write the victim file"
daddr=$(first_daddr "$MNT/victim")
[ -n "$daddr" ] || fail "no block map for the victim"
start_healer --no-autofsck
# The file's first 4 KiB now fail with EIO; everything else still maps 1:1.
dm_fail "$daddr" 8
drop_caches
t0=$(now_ms)
xfs_io -d -c "pread -q 0 4096" "$MNT/victim" > /dev/null 2>&1 && fail "direct read of a failing block succeeded"
wait_for_output "$MNT/victim pos 0 len 4096: directio_read: Input/output error" 10 || fail "no report of the direct read error"
record dio_error_to_report_ms $(( $(now_ms) - t0 ))
cat "$MNT/victim" > /dev/null 2>&1 && fail "buffered read of a failing block succeeded"
wait_for_output "$MNT/victim pos 0 len " 10 || fail "no report of the buffered read error"
grep -qF ": buffered_read: Input/output error" "$HEALER_OUT" || fail "buffered read error not reported as such: $(tail -3 "$HEALER_OUT")"
sleep 1
record report_lines "$(grep -c 'victim pos ' "$HEALER_OUT")"
dm_fail
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
dmsetup remove healer-dm
