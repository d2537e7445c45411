# summary: 200 files with damaged extent btrees, damaged first, then read once by 4 readers at the same time: time from the first read to the last file's repair, repairs, log lines
# healers: reference ours
# timeout: 900
# The healer's own speed shows here: each file is read once, so the time
# is the healer's queue of repairs, not the workload's ten rounds of reads.
N=200
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks $N
start_healer --repair
t0=$(now_ms)
readers=
q=0
while [ $q -lt 4 ]; do
	(
		f=$q
		while [ $f -lt $N ]; do
			cat "$MNT/storm/f$f" > /dev/null 2>&1
			f=$((f + 4))
		done
	) &
	readers="$readers $!"
	q=$((q + 1))
done
repaired() { [ "$(grep 'datafork: Repairs successful.' "$HEALER_OUT" | sort -u | wc -l)" -ge $N ]; }
wait_until 600 '$(grep -c "datafork: Repairs successful." "$HEALER_OUT") of $N files repaired after 600 s' repaired
record first_read_to_last_repair_ms $(( $(now_ms) - t0 ))
# shellcheck disable=SC2086 # a list of pids
wait $readers
sleep 2
record repairs "$(grep -c 'datafork: Repairs successful.\|datafork: No modification needed.' "$HEALER_OUT")"
record output_lines "$(wc -l < "$HEALER_OUT")"
storm_files_readable $N
