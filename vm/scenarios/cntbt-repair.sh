# summary: a damaged free-space-by-size btree (cntbt root of AG 1) is reported, repaired once, and xfs_scrub -n is clean afterwards
# healers: reference ours
# timeout: 150
mkfs_scratch -d agcount=4
mount_scratch
touch_every_ag
umount "$MNT"
daddr=$(metadata_daddr "agf 1" "addr cntroot")
[ -n "$daddr" ] || fail "no cntbt root daddr"
note "AG 1 cntbt root at sector $daddr"
smash "$daddr" 8
mount_scratch
start_healer --repair
touch_every_ag
touch_every_ag
wait_for_output "agno 0x1 cntbt: Repairs successful." 30 || fail "cntbt of AG 1 not repaired"
expect_line "$MNT agno 0x1 cntbt: sick"
record cntbt_repairs "$(count_lines 'agno 0x1 cntbt: Repairs successful.')"
record scrub_calls "$(count_lines 'agno 0x1 ')"
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
