# summary: a media error's owner lookup (GETFSMAP) stalled 24 s on AG 0's slow sectors does not delay the repair of AG 1's damaged AGF: repaired in under half the lookup's time, before the owners are printed
# healers: ours
# timeout: 240
#
# The slowness is I/O, not CPU: AG 0's sectors sit behind their own
# device-mapper device, which is suspended (its I/O queued, as on a disk
# retrying a failing region) while the healer looks up the owners of a
# media error in AG 0; GETFSMAP must read AG 0's AGF and reverse-mapping
# btree, so it waits until the device resumes. AG 1's damaged AGF is
# repaired from AG 1 alone, so nothing but the healer's own design can make
# its repair wait for the lookup. (Many mappings under the failed block
# cannot make GETFSMAP slow enough here: 32768 reflinked mappings of one
# block take ~17 s to make under TCG and GETFSMAP walks them in under
# 0.4 s; and 7.2.13 returns only the first 2048 mappings one file has of
# one block, its continuation key dropping the rest.)
STALL=24
dm_scratch
mkfs_scratch -d agcount=4 -m rmapbt=1
agblocks=$(xfs_db -r -c "sb 0" -c "p agblocks" "$DEV" | awk '{ print $NF }')
agblklog=$(xfs_db -r -c "sb 0" -c "p agblklog" "$DEV" | awk '{ print $NF }')
logstart=$(xfs_db -r -c "sb 0" -c "p logstart" "$DEV" | awk '{ print $NF }')
[ -n "$agblocks" ] && [ -n "$agblklog" ] && [ -n "$logstart" ] || fail "no AG geometry from xfs_db"
[ $(( logstart >> agblklog )) != 0 ] || fail "the internal log is in AG 0 (its writes would stall too)"
AG0=$(( agblocks * 8 ))
# AG 0 through healer-ag0; the rest of the disk maps straight to it.
dmsetup create healer-ag0 --table "0 $AG0 linear /dev/vda 0" || fail "dmsetup create healer-ag0"
dmsetup mknodes healer-ag0
echo "0 $AG0 linear /dev/mapper/healer-ag0 0
$AG0 $(( DM_SECTORS - AG0 )) linear /dev/vda $AG0" > /tmp/table.normal
dm_load /tmp/table.normal
mount_scratch
# Files in the root directory live in AG 0, like the root.
xfs_io -f -c "pwrite -q 0 64k" -c fsync "$MNT/victim" || fail "could not write the victim file"
daddr=$(first_daddr "$MNT/victim")
[ -n "$daddr" ] && [ "$daddr" -lt $(( AG0 - 8 )) ] || fail "victim data at sector '$daddr', not in AG 0 (< $AG0)"
agf_daddr=$(metadata_daddr "agf 1")
[ -n "$agf_daddr" ] || fail "no AGF 1 daddr"
note "victim data at sector $daddr (AG 0: sectors 0-$(( AG0 - 1 ))), AGF 1 at sector $agf_daddr, log in AG $(( logstart >> agblklog ))"
start_healer --repair

# Every AG 0 buffer written back and dropped, so GETFSMAP must read them;
# AGF 1 smashed on disk, read again at the next access.
xfs_freeze -f "$MNT" && xfs_freeze -u "$MNT"
echo "0 $daddr linear /dev/mapper/healer-ag0 0
$daddr 8 error
$(( daddr + 8 )) $(( AG0 - daddr - 8 )) linear /dev/mapper/healer-ag0 $(( daddr + 8 ))
$AG0 $(( DM_SECTORS - AG0 )) linear /dev/vda $AG0" > /tmp/table.error
dm_load /tmp/table.error
smash "$agf_daddr" 4
drop_caches

dmsetup suspend --nolockfs healer-ag0 || fail "dmsetup suspend healer-ag0"
t_stall=$(now_ms)
(sleep $STALL; dmsetup resume healer-ag0) &
resumer=$!
note "AG 0 I/O stalled for $STALL s"
# The media error (its report does not wait for AG 0: the failed read is
# answered by dm-error); the kernel's own owner walk then waits in
# verifymedia, and the healer's GETFSMAP in the healer.
xfs_io -c "verifymedia -R $(( daddr * 512 )) $(( (daddr + 8) * 512 ))" "$MNT" > /results/verify.out 2>&1 &
verifier=$!
# The same GETFSMAP as the healer's (2048 records a call), timed.
(
	t=$(now_ms)
	xfs_io -c "fsmap -d -n 2048 $daddr $(( daddr + 7 ))" "$MNT" > /results/fsmap.out 2>&1
	echo $(( $(now_ms) - t )) > /tmp/t_fsmap
) &
fsmapper=$!
sleep 2
record blocked_healer_threads "$(grep -l '^State:.*D' /proc/$HEALER_PID/task/*/status 2>/dev/null | wc -l)"
[ -s /tmp/t_fsmap ] && fail "GETFSMAP over the failed block finished while AG 0 was stalled: $(cat /results/fsmap.out)"

# Another object: AG 1's AGF, read by AG_GEOMETRY (fails its verifier:
# SICK); repaired once AG_GEOMETRY succeeds and says it is ok.
t_trigger=$(now_ms)
deadline=$(( t_trigger + (STALL + 60) * 1000 ))
until xfs_spaceman -c "health -a 1" "$MNT" > /results/spaceman.out 2>&1 && grep -q "AGF.*: ok" /results/spaceman.out; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "AGF 1 not repaired $(( STALL + 60 )) s after its damage was read: $(tail -2 /results/spaceman.out)"
	sleep 0.1
done
t_repair=$(( $(now_ms) - t_trigger ))
owners_at_repair=$(count_lines 'on failed media')
note "AGF 1 repaired $t_repair ms after its damage was read ($(( $(now_ms) - t_stall )) ms into the stall); owner lines by then: $owners_at_repair"

wait "$resumer"
wait "$fsmapper"
t_fsmap=$(cat /tmp/t_fsmap)
wait_for_output "on failed media" 60 || fail "no owners of the failed block reported: $(tail -3 "$HEALER_OUT")"
t_owners=$(( $(now_ms) - t_stall ))
wait "$verifier"
note "GETFSMAP over the failed block took $t_fsmap ms; the healer named its owners $t_owners ms after the stall began"
record stall_ms $(( STALL * 1000 ))
record t_fsmap_ms "$t_fsmap"
record t_repair_ms "$t_repair"
record t_owners_ms "$t_owners"
record owners_lines_at_repair "$owners_at_repair"
[ "$t_fsmap" -ge $(( STALL * 1000 / 2 )) ] || fail "GETFSMAP took only $t_fsmap ms under a $STALL s stall: too short to tell"
[ "$t_repair" -lt $(( t_fsmap / 2 )) ] || fail "AGF 1 repaired $t_repair ms after its damage was read, not under half the $t_fsmap ms GETFSMAP took: the slow lookup delayed it"
[ "$owners_at_repair" = 0 ] || fail "the owners were printed before AGF 1 was repaired: the repair waited for the lookup"
expect_line "$MNT agno 0x1 agf: sick"
expect_line "$MNT agno 0x1 agf: Repairs successful."
expect_line "$MNT $(printf 'datadev daddr %#x bbcount 0x8' "$daddr"): media error"
expect_line "$MNT/victim pos 0 len 4096: media failed"

dm_load /tmp/table.normal
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
dmsetup remove healer-dm
dmsetup remove healer-ag0
