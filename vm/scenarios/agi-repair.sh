# summary: a damaged AGI (AG 1) is reported, repaired once, and xfs_scrub -n is clean afterwards
# healers: reference ours
# timeout: 150
# Without a free-inode btree the mount does not read the AGIs (the finobt
# per-AG reservation would, and refuse the mount).
mkfs_scratch -d agcount=4 -m finobt=0
mount_scratch
touch_every_ag
umount "$MNT"
daddr=$(metadata_daddr "agi 1")
[ -n "$daddr" ] || fail "no AGI daddr"
note "AGI 1 at sector $daddr"
smash "$daddr" 4
mount_scratch
start_healer --repair
touch_every_ag
touch_every_ag
wait_for_output "agno 0x1 agi: Repairs successful." 30 || fail "AGI of AG 1 not repaired"
expect_line "$MNT agno 0x1 agi: sick"
record agi_repairs "$(count_lines 'agno 0x1 agi: Repairs successful.')"
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
