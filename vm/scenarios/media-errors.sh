# summary: media errors found by XFS_IOC_VERIFY_MEDIA (dm-error) under a reflinked file and under AG 1's inode btree: both healers print the kernel's reports; ours also says the file blocks are shared and names the btree, rebuilds it off the failed sectors, and then finds the old block free
# healers: reference ours
# timeout: 200
dm_scratch
mkfs_scratch -d agcount=4 -m rmapbt=1,reflink=1
mount_scratch
victim_and_inobt --reflink
start_healer --repair
dm_fail "$file_daddr" 8 "$inobt_daddr" 8
# verify_range DADDR: XFS_IOC_VERIFY_MEDIA with reporting over one block.
verify_range() {
	xfs_io -c "verifymedia -R $(( $1 * 512 )) $(( ($1 + 8) * 512 ))" "$MNT" > /results/verify.out 2>&1
	note "verifymedia at $1: $(tr '\n' ' ' < /results/verify.out)"
}
verify_range "$file_daddr"
file_range=$(printf 'datadev daddr %#x bbcount 0x8: media error' "$file_daddr")
wait_for_output "$file_range" 10 || fail "no media error reported under the file"
wait_for_output "$MNT/victim pos 0 len 4096: media failed" 10 || fail "no lost file data reported"
verify_range "$inobt_daddr"
inobt_range=$(printf 'datadev daddr %#x bbcount 0x8: media error' "$inobt_daddr")
wait_for_output "$inobt_range" 10 || fail "no media error reported under the inode btree"
expect_line "$MNT $file_range"
expect_line "$MNT/twin pos 0 len 4096: media failed"
expect_line "$MNT $inobt_range"
if [ "$HEALER_KIND" = ours ]; then
	expect_line "$MNT $(printf 'datadev daddr %#x bbcount 0x8' "$file_daddr"): data of 2 files on failed media, in blocks shared between files (reflink)"
	# The files themselves are named by the kernel's own reports only.
	[ "$(count_lines 'victim')" = 1 ] || fail "the victim is named $(count_lines 'victim') times"
	expect_line "$MNT agno 0x1 inode btrees: on failed media"
	wait_for_output "$MNT agno 0x1 inobt: Repairs successful." 30 || fail "the inode btree on failed media was not rebuilt"
	# The rebuilt btree lives elsewhere; what it left behind is free.
	xfs_freeze -f "$MNT" && xfs_freeze -u "$MNT"
	moved=$(metadata_daddr "agi 1" "addr root")
	[ "$moved" != "$inobt_daddr" ] || fail "the inode btree root is still at sector $inobt_daddr"
	note "AG 1 inode btree root moved to sector $moved"
	verify_range "$inobt_daddr"
	wait_for_output "$MNT $(printf 'datadev daddr %#x bbcount 0x8' "$inobt_daddr"): free space, no data lost" 10 ||
		fail "the old btree block is not reported free: $(tail -3 "$HEALER_OUT")"
else
	sleep 3 # what the reference makes of it, for the comparison
fi
record owner_lines "$(count_lines 'on failed media')"
record inobt_rebuilds "$(count_lines 'agno 0x1 inobt: Repairs successful.')"
dm_fail
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
dmsetup remove healer-dm
