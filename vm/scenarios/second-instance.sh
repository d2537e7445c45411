# summary: a second healer on the same filesystem is refused with "already running"
# healers: reference ours
# timeout: 90
mkfs_scratch
mount_scratch
start_healer --no-autofsck
"$HEALER" --no-autofsck "$MNT" > /results/second.out 2>&1
expect_status 1 $? "second instance"
grep -qxF "$MNT: XFS health monitoring already running." /results/second.out || fail "second instance said: $(cat /results/second.out)"
"$HEALER" --supported "$MNT" > /results/second-supported.out 2>&1
record second_supported_status $?
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "first healer did not exit"
