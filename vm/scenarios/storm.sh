# summary: storm: 60 files with damaged extent btrees, each read 10 times: every one repaired, at most once each, two lines per file (repeats and the repair's own HEALTHY folded into the outcome), bounded memory
# healers: reference ours
# timeout: 400
N=60
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks $N
start_healer --repair
t0=$(now_ms)
read_storm_files $N 10
note "10 rounds of reads done"
# Every file must end up repaired (the reference may take a while).
deadline=$(( $(now_ms) + 120000 ))
while [ "$(grep -c 'datafork: Repairs successful.' "$HEALER_OUT")" -lt $N ]; do
	[ "$(now_ms)" -ge "$deadline" ] && break
	sleep 0.2
done
record time_to_all_repaired_ms $(( $(now_ms) - t0 ))
sleep 1
storm_files_readable $N
record peak_rss_kb "$(peak_rss_kb "$HEALER_PID")"
record threads "$(ls /proc/$HEALER_PID/task | wc -l)"
scrub_clean
umount "$MNT"
wait_exit "$HEALER_PID" 30 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
repaired=$(grep 'datafork: Repairs successful.' "$HEALER_OUT" | sort -u | wc -l)
record files_repaired "$repaired"
record repair_lines "$(grep -c 'datafork: Repairs successful.\|datafork: No modification needed.\|offline repair' "$HEALER_OUT")"
record output_lines "$(wc -l < "$HEALER_OUT")"
record lost_events "$(awk '/events lost/ { n += $2 } END { print n + 0 }' "$HEALER_OUT")"
[ "$repaired" = $N ] || fail "$repaired of $N files repaired"
if [ "$HEALER_KIND" = ours ]; then
	dup=$(grep 'datafork: Repairs successful.' "$HEALER_OUT" | sort | uniq -d | wc -l)
	[ "$dup" = 0 ] || fail "$dup files repaired more than once"
	nm=$(count_lines 'No modification needed.')
	[ "$nm" = 0 ] || fail "$nm needless repairs"
	lines=$(wc -l < "$HEALER_OUT")
	# Per file: sick, repaired. The repeats while its repair is queued,
	# running or just done, and the HEALTHY the repair itself causes, are
	# folded into the outcome line, so no "suppressed" summary is needed
	# either.
	[ "$lines" -le $(( 2 * N + 10 )) ] || fail "$lines output lines for $N objects"
	healthy=$(count_lines 'datafork: healthy')
	[ "$healthy" = 0 ] || fail "$healthy lines for the repairs' own HEALTHY reports"
	folded=$(count_lines 'were suppressed')
	[ "$folded" = 0 ] || fail "$folded summaries of held-back repeats of a repair in hand"
fi
