# summary: records the raw health monitor stream of a run with every kind of event (sick, corrupt, healthy, file I/O errors, media errors, lost, shutdown, unmount) for the fuzz corpus; checks the capture decodes as whole records
# healers: ours
# timeout: 240
[ -x /payload/capture_events ] || fail "no capture_events in the payload"
dm_scratch
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_directory victim
xfs_io -f -c "pwrite -q 0 64k" -c fsync "$MNT/file" || fail "could not write a file"
file_daddr=$(first_daddr "$MNT/file")
/payload/capture_events "$MNT" /results/events.raw > /results/capture.out 2>&1 &
capture=$!
sleep 1
# SICK, then CORRUPT and HEALTHY from a check and a repair.
ls "$MNT/victim" > /dev/null 2>&1
xfs_io -c "scrub directory" "$MNT/victim" > /dev/null 2>&1
xfs_io -x -c "repair directory" "$MNT/victim" > /dev/null 2>&1
# File I/O errors and media errors (DATALOST too) under the file, and
# LOST: the recorder is stopped while failing reads overflow the queue.
dm_fail "$file_daddr" 8
drop_caches
xfs_io -d -c "pread -q 0 4096" "$MNT/file" > /dev/null 2>&1
kill -STOP "$capture"
i=0
while [ $i -lt 700 ]; do dd if="$MNT/file" of=/dev/null bs=4k count=1 2>/dev/null; i=$((i + 1)); done
kill -CONT "$capture"
xfs_io -c "verifymedia -R $(( file_daddr * 512 )) $(( (file_daddr + 8) * 512 ))" "$MNT" > /dev/null 2>&1
dm_fail
sleep 1
xfs_io -x -c "shutdown -f" "$MNT"
umount "$MNT" || fail "umount"
wait "$capture" || fail "capture failed: $(cat /results/capture.out)"
bytes=$(wc -c < /results/events.raw)
[ $(( bytes % 64 )) = 0 ] || fail "capture of $bytes bytes is not whole records"
[ "$bytes" -ge 640 ] || fail "only $bytes bytes captured"
record captured_records $(( bytes / 64 ))
# Every kind: domain/type pairs as the decoder sees them (od: u32 words).
od -An -v -t u4 -w64 /results/events.raw | awk '{ print $1 "/" $2 }' | sort | uniq -c > /results/kinds
for kind in 0/0 0/1 0/2 0/6 3/3 3/4 3/5 5/7 8/8 8/10 8/12; do
	awk -v k="$kind" '$2 == k { found = 1 } END { exit !found }' /results/kinds || fail "no event of domain/type $kind captured: $(tr '\n' ' ' < /results/kinds)"
done
