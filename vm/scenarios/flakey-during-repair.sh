# summary: every write fails (dm-flakey error_writes) while a damaged directory is repaired: the repair's changes cannot reach the log and the filesystem shuts down, which 7.2.13 does not report (pinned); ours starts nothing after it, neither healer crashes, both exit 0 at unmount
# healers: reference ours
# timeout: 240
dm_scratch
mkfs_scratch
mount_scratch
damaged_directory victim
start_healer --repair
dm_flakey_writes
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "victim directory: sick" 20 || fail "no report of the damaged directory"
wait_for_output "victim directory: " 20 || fail "no repair outcome"
sleep 2
# The repair committed in memory; forcing its log out hits the failing disk.
sync
deadline=$(( $(now_ms) + 20000 ))
until dmesg | grep -q "Filesystem has been shut down due to log error"; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "the failing log write did not shut the filesystem down"
	sleep 0.2
done
before=$(wc -l < "$HEALER_OUT")
sleep 5
record shutdown_reported_within_5s "$(count_lines 'filesystem shut down')"
ls "$MNT/victim" > /dev/null 2>&1
sleep 1
outcomes_after=$(tail -n +"$((before + 1))" "$HEALER_OUT" | grep -c 'directory: [A-Z]')
record outcomes_after_shutdown "$outcomes_after"
[ "$HEALER_KIND" = ours ] && [ "$outcomes_after" != 0 ] && fail "$outcomes_after repairs after the shutdown"
kill -0 "$HEALER_PID" 2>/dev/null || fail "the healer died"
dm_fail
umount "$MNT" || fail "umount after the shutdown"
wait_exit "$HEALER_PID" 30 || fail "healer still running after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
record shutdown_reported_by_exit "$(count_lines 'filesystem shut down')"
# Pinned (the health monitor's documentation says every first forced
# shutdown is reported): on 7.2.13 a shutdown caused by a log I/O error
# sends no SHUTDOWN record at all, not even before UNMOUNT. A later kernel
# that reports it fails here on purpose, so RELIABILITY.md is revisited.
case "$(uname -r)" in
7.2.13*) [ "$(count_lines 'filesystem shut down')" = 0 ] || fail "7.2.13 now reports a log-error shutdown: update the pin" ;;
esac
cp "$HEALER_OUT" /results/healer-final.out
