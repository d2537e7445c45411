# summary: an AGF damaged on the live filesystem is reported and repaired (agno 0x1 agf)
# healers: reference ours
# timeout: 120
mkfs_scratch -d agcount=4
mount_scratch
start_healer --repair
daddr=$(xfs_db -r -c "agf 1" -c daddr "$DEV" | awk '{ print $NF }')
[ -n "$daddr" ] || fail "no AGF daddr"
note "AGF 1 at sector $daddr"
smash "$daddr" 4
drop_caches
xfs_spaceman -c "health -a 1" "$MNT" > /results/spaceman.out 2>&1
# Allocate in every AG too, so the AGF is read.
i=0
while [ $i -lt 8 ]; do mkdir "$MNT/d$i" && echo data > "$MNT/d$i/f"; i=$((i + 1)); done
sync
wait_for_output "agno 0x1 agf: Repairs successful." 20 || fail "AGF 1 not repaired"
expect_line "$MNT agno 0x1 agf: sick"
record agf_repairs "$(count_lines 'agno 0x1 agf: Repairs successful.')"
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
xfs_repair -n "$DEV" > /results/repair.out 2>&1 || fail "xfs_repair -n finds problems after the repair"
