# summary: GETFSMAP over one block that one file maps 4096 times (reflink) must return all 4096 mappings; 7.2.13 returns the first page of 2048 and then no more (its continuation key leaves out rm_offset), which is XFAIL, a known kernel bug; a kernel that returns them all passes (then update ARCHITECTURE.md's media section)
# healers: ours
# timeout: 200
# known-kernel-bug: xfs_getfsmap_frec_before_start
mkfs_scratch -m rmapbt=1,reflink=1
mount_scratch
xfs_io -f -c "pwrite -S 0x5a 0 4096" -c fsync "$MNT/f" > /dev/null || fail "could not write the file"
# One block mapped at 4096 offsets of the same file, by doubling.
n=1
while [ $n -lt 4096 ]; do
	xfs_io -c "reflink $MNT/f 0 $((n * 4096)) $((n * 4096))" "$MNT/f" > /dev/null || fail "reflink of $n blocks failed"
	n=$((n * 2))
done
xfs_io -c fsync "$MNT/f"
daddr=$(first_daddr "$MNT/f")
[ -n "$daddr" ] || fail "no block map for the file"
# The rmap btree is on disk: GETFSMAP reads it through a fresh cache.
umount "$MNT" && mount_scratch
# Records of the file's block: xfs_io pages GETFSMAP, 2048 records a call.
xfs_io -c "fsmap -d -n 2048 $daddr $((daddr + 8))" "$MNT" > /results/fsmap.out 2>&1 || fail "fsmap: $(tail -3 /results/fsmap.out)"
# The file's data mappings of that block (its block map btree block may
# follow, just past the range's end).
got=$(grep -cE "^[[:space:]]*[0-9]+: [0-9]+:[0-9]+ \[$daddr\.\.[0-9]+\]: inode [0-9]+ data " /results/fsmap.out)
record mappings_expected 4096
record mappings_returned "$got"
note "GETFSMAP returned $got of the 4096 mappings of the block"
case $got in
4096) ;;
2048) known_kernel_bug "GETFSMAP returned 2048 of the block's 4096 mappings: the continuation key leaves out rm_offset (xfs_getfsmap_frec_before_start in fs/xfs/xfs_fsmap.c)" ;;
*) fail "GETFSMAP returned $got of the block's 4096 mappings" ;;
esac
umount "$MNT"
exit 0
