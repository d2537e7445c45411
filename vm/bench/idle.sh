# summary: a healer on a quiet filesystem for 60 s: CPU ticks, context switches (wake-ups), resident memory
# healers: reference ours
# timeout: 180
mkfs_scratch
mount_scratch
start_healer --repair
sleep 1
before_ticks=$(cpu_ticks "$HEALER_PID")
before_switches=$(context_switches "$HEALER_PID")
sleep 60
record idle_cpu_ticks $(( $(cpu_ticks "$HEALER_PID") - before_ticks ))
record idle_wakeups $(( $(context_switches "$HEALER_PID") - before_switches ))
record idle_rss_kb "$(awk '/^VmRSS:/ { print $2 }' /proc/$HEALER_PID/status)"
record threads "$(ls /proc/$HEALER_PID/task | wc -l)"
record open_fds "$(ls /proc/$HEALER_PID/fd | wc -l)"
note "open files: $(healer_files)"
t0=$(now_ms)
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit"
record unmount_to_exit_ms $(( $(now_ms) - t0 ))
