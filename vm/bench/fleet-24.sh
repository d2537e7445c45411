# summary: a storage server's case: 24 filesystems mounted, one idle healer each; the healers' total PSS, RSS and anonymous memory (smaps_rollup), and one healer's resident memory by mapping (smaps)
# healers: reference ours
# timeout: 600
N=24
# Both scratch disks cut into 24 linear devices of 160 MiB; mkfs's 300 MB
# floor for new filesystems is lifted for test rigs (fstests sets these).
export TEST_DIR=/tmp TEST_DEV=/dev/vda QA_CHECK_FS=1
sectors=$(( 160 * 2048 ))
per_disk=$(( N / 2 ))
i=0
while [ $i -lt $N ]; do
	disk=/dev/vda
	[ $i -ge $per_disk ] && disk=/dev/vdb
	start=$(( (i % per_disk) * sectors ))
	dmsetup create "fleet$i" --table "0 $sectors linear $disk $start" || fail "dmsetup create fleet$i"
	dmsetup mknodes "fleet$i"
	mkfs.xfs -q -f "/dev/mapper/fleet$i" > /results/mkfs.out 2>&1 || fail "mkfs of fleet$i: $(cat /results/mkfs.out)"
	mkdir -p "/mnt/fleet$i"
	mount "/dev/mapper/fleet$i" "/mnt/fleet$i" || fail "mount of fleet$i"
	i=$((i + 1))
done
pids=
i=0
while [ $i -lt $N ]; do
	"$HEALER" --repair "/mnt/fleet$i" > "/tmp/fleet$i.out" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
i=0
while [ $i -lt $N ]; do
	wait_until 60 "no monitoring started for fleet$i: \$(cat /tmp/fleet$i.out)" \
		grep -qF "/mnt/fleet$i: monitoring started" "/tmp/fleet$i.out"
	i=$((i + 1))
done
sleep 5
# smaps_rollup field FIELD PID...: the sum of FIELD (KB) over the PIDs.
rollup() {
	field=$1
	shift
	for pid in "$@"; do
		awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/smaps_rollup" || fail "no smaps_rollup for $pid"
	done | awk '{ n += $1 } END { print n + 0 }'
}
# shellcheck disable=SC2086 # a list of pids
{
	record fleet_pss_kb "$(rollup Pss $pids)"
	record fleet_rss_kb "$(rollup Rss $pids)"
	record fleet_pss_anon_kb "$(rollup Pss_Anon $pids)"
	record fleet_private_kb $(( $(rollup Private_Clean $pids) + $(rollup Private_Dirty $pids) ))
}
first=${pids# }
first=${first%% *}
record healer_rss_kb "$(rollup Rss "$first")"
record_rss_by_mapping "$first"
i=0
while [ $i -lt $N ]; do
	umount "/mnt/fleet$i" || fail "umount of fleet$i"
	i=$((i + 1))
done
for pid in $pids; do
	wait_exit "$pid" 30 || fail "healer $pid did not exit after its unmount"
done
