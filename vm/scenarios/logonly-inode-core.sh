# summary: log-only: one stat of a file with a damaged inode core gives a bounded report and an idle healer (the reference loops)
# healers: reference ours
# timeout: 120
mkfs_scratch
mount_scratch
damaged_inode_core
start_healer --no-autofsck
stat "$MNT/victim" > /dev/null 2>&1
sleep 5
lines=$(wc -l < "$HEALER_OUT")
ticks0=$(awk '{ print $14 + $15 }' "/proc/$HEALER_PID/stat")
sleep 5
ticks1=$(awk '{ print $14 + $15 }' "/proc/$HEALER_PID/stat")
lines_later=$(wc -l < "$HEALER_OUT")
record lines_after_5s "$lines"
record lines_after_10s "$lines_later"
record cpu_ticks_5s_to_10s $(( ticks1 - ticks0 ))
umount "$MNT" 2>/dev/null || { sleep 2; umount "$MNT"; } || fail "umount"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
# Linux 7.2.13 cannot load the inode at all and reports the AG instead
# ("agno 0x0 inodes: sick"); older trials saw "core: sick".
grep -qE "core: sick|inodes: sick" "$HEALER_OUT" || fail "no sick report for the damaged inode"
if [ "$HEALER_KIND" = ours ]; then
	[ "$lines" -le 10 ] || fail "$lines lines for one access"
	[ "$lines_later" = "$lines" ] || fail "still printing after 5 s ($lines -> $lines_later lines)"
	[ $(( ticks1 - ticks0 )) -le 2 ] || fail "healer busy while idle: $(( ticks1 - ticks0 )) ticks in 5 s"
fi
