# `cargo xtask demo`: damage a directory on a real XFS and watch the healer
# notice and mend it. Lines passed to note() are printed live by the host.
note "making an XFS with mkfs.xfs 7.2 defaults (rmapbt, reflink, parent pointers, autofsck=repair)"
mkfs_scratch
mount_scratch
damaged_directory photos
note "zeroed the header of /photos' first directory block (sector $daddr) on the unmounted device"
start_healer
note "ls $MNT/photos -> $(ls "$MNT/photos" 2>&1 >/dev/null | head -n 1)"
if wait_for_output "directory: Repairs successful." 30; then
	note "healer says: $(grep -F 'directory: Repairs successful.' "$HEALER_OUT" | head -n 1)"
else
	note "no successful repair reported within 30 s"
fi
note "ls $MNT/photos -> $(ls "$MNT/photos" 2>&1 | wc -l) entries"
umount "$MNT"
note "unmounted; the healer exits"
wait_exit "$HEALER_PID" 10 || fail "healer did not exit after unmount"
note "healer exit status $EXIT_STATUS"
if xfs_repair -n "$DEV" > /results/repair.out 2>&1; then
	note "xfs_repair -n: the filesystem is clean"
else
	note "xfs_repair -n: problems remain (see results/repair.out)"
	fail "filesystem not clean after the demo"
fi
grep -q "Repairs successful." "$HEALER_OUT" || fail "the healer did not repair the directory"
