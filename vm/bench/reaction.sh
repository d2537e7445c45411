# summary: one damaged directory, accessed once: time to the "sick" report and to "Repairs successful."
# healers: reference ours
# timeout: 120
mkfs_scratch
mount_scratch
damaged_directory victim
start_healer --repair --debug
t0=$(now_ms)
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: sick" 20 || fail "no sick report"
record access_to_sick_ms $(( $(now_ms) - t0 ))
wait_for_output "$MNT/victim directory: Repairs successful." 30 || fail "not repaired"
record access_to_repaired_ms $(( $(now_ms) - t0 ))
unmount_retrying
wait_exit "$HEALER_PID" 20 || fail "healer did not exit"
record_repair_latency
