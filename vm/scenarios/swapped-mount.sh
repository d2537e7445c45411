# summary: the monitored path hidden under another XFS: repairs are refused (Stale file handle) and the other fs is never touched; once the monitored fs is mounted elsewhere too, it is found there and repaired
# healers: reference ours
# timeout: 180
mkfs_scratch
mount_scratch
damaged_directory victim
start_healer --repair
# A process whose working directory is in the monitored filesystem keeps
# it reachable (/proc/PID/cwd) after its mount point is covered.
(cd "$MNT" && exec sleep 1000) &
HOLDER=$!
mkdir -p /mnt/orig
mkfs.xfs -q -f "$DEV2" > /dev/null 2>&1 || fail "mkfs.xfs $DEV2"
mount -t xfs "$DEV2" "$MNT" || fail "mount $DEV2 over $MNT"
note "$MNT now leads to $DEV2; touching the damaged directory"
ls /proc/$HOLDER/cwd/victim > /dev/null 2>&1
wait_for_output "cannot open filesystem to repair: Stale file handle" 20 || fail "repair through a swapped mount was not refused"
expect_line "$MNT: cannot open filesystem to repair: Stale file handle"
expect_no_line "Repairs successful."
# The monitored filesystem, mounted whole at a second place, is found there.
mount --bind /proc/$HOLDER/cwd /mnt/orig || fail "bind mount of the hidden filesystem"
note "the monitored filesystem is also at /mnt/orig; touching the directory again"
sleep 6 # past the echo window of the refused attempt, for the reference too
ls /proc/$HOLDER/cwd/victim > /dev/null 2>&1
wait_for_output "/mnt/orig/victim directory: Repairs successful." 30 || fail "not repaired through the other mount of the same filesystem"
umount "$MNT" || fail "umount $DEV2"
xfs_repair -n "$DEV2" > /results/other.out 2>&1 || fail "the other filesystem was damaged: $(tail -3 /results/other.out)"
kill $HOLDER
umount /mnt/orig
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
