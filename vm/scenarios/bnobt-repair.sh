# summary: a damaged free-space btree (bnobt root of AG 1) is reported, repaired once, and xfs_scrub -n is clean afterwards
# healers: reference ours
# timeout: 150
mkfs_scratch -d agcount=4
mount_scratch
touch_every_ag
umount "$MNT"
daddr=$(metadata_daddr "agf 1" "addr bnoroot")
[ -n "$daddr" ] || fail "no bnobt root daddr"
note "AG 1 bnobt root at sector $daddr"
smash "$daddr" 8
mount_scratch
start_healer --repair
touch_every_ag
touch_every_ag
wait_for_output "agno 0x1 bnobt: Repairs successful." 30 || fail "bnobt of AG 1 not repaired"
expect_line "$MNT agno 0x1 bnobt: sick"
record bnobt_repairs "$(count_lines 'agno 0x1 bnobt: Repairs successful.')"
record scrub_calls "$(count_lines 'agno 0x1 ')"
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
