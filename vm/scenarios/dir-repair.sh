# summary: autofsck=repair (mkfs default): a damaged directory is repaired once and the fs is clean afterwards; ours starts its repair and lookup threads only at their first job, and its --debug times the repair from the read that brought the event, through the path walk the repair waits for
# healers: reference ours
# timeout: 120
mkfs_scratch
mount_scratch
damaged_directory victim
# The reference's --debug changes what it prints; ours only adds a summary at exit.
if [ "$HEALER_KIND" = ours ]; then start_healer --debug; else start_healer; fi
expect_line "$MNT: Automatically repairing per autofsck directive."
if [ "$HEALER_KIND" = ours ]; then
	idle=$(healer_threads)
	note "threads before any damage is read: $idle"
	case " $idle" in *" repair "* | *" lookup "*) fail "an idle healer runs workers: $idle" ;; esac
fi
t0=$(now_ms)
ls "$MNT/victim" > /dev/null 2>&1
wait_for_output "$MNT/victim directory: Repairs successful." 20 || fail "directory not repaired"
record repair_ms $(( $(now_ms) - t0 ))
if [ "$HEALER_KIND" = ours ]; then
	busy=$(healer_threads)
	note "threads after the repair: $busy"
	case " $busy" in *" repair "*) ;; *) fail "no repair thread after a repair: $busy" ;; esac
fi
n=$(ls "$MNT/victim" | wc -l)
[ "$n" = 200 ] || fail "directory has $n entries after repair, expected 200"
# Touch it many more times: no second repair of the same directory.
i=0
while [ $i -lt 20 ]; do ls "$MNT/victim" > /dev/null 2>&1; i=$((i + 1)); done
sleep 1
repairs=$(count_lines "directory: Repairs successful.")
record repairs "$repairs"
[ "$HEALER_KIND" = ours ] && [ "$repairs" != 1 ] && fail "$repairs repairs of one directory"
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
if [ "$HEALER_KIND" = ours ]; then
	grep -qF "$MNT: debug: 1 repairs timed from event read to repair ioctl" "$HEALER_OUT" \
		|| fail "the directory's repair was not timed from its event read"
	record_repair_latency
fi
xfs_repair -n "$DEV" > /results/repair.out 2>&1 || fail "xfs_repair -n finds problems after the repair"
