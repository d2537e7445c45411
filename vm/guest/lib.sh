# Helper library for guest scenarios (busybox sh). A scenario is a sequence
# of steps that call fail() on the first wrong observation; falling off the
# end means pass. HEALER is the healer binary under test, HEALER_KIND is
# "ours" or "reference".

MNT=/mnt/test
DEV=/dev/vda
DEV2=/dev/vdb
HEALER_OUT=/results/healer.out
HEALER_PID=

# Milliseconds since boot (10 ms resolution: /proc/uptime has two decimals).
now_ms() {
	read -r up _ < /proc/uptime
	echo $(( ${up%.*} * 1000 + 10 * 1${up#*.} - 1000 ))
}

# A timeline line: into the scenario log and, marked, onto the console
# (the demo prints the marked lines as they happen).
# (Its variable is local: a scenario's own $line survives a note.)
note() {
	local noted="[$(now_ms) ms] $*"
	echo "$noted"
	echo "@@ $noted" > /dev/console
}

fail() {
	echo "fail: $*" > /results/verdict
	note "FAIL: $*"
	exit 1
}

# known_kernel_bug WHY: the kernel gave the wrong answer the scenario's
# `# known-kernel-bug:` header declares: XFAIL, neither pass nor fail.
known_kernel_bug() {
	echo "xfail: $*" > /results/verdict
	note "XFAIL: $*"
	exit 0
}

# Under `# init: systemd`: the healer unit of $MNT; journal copies its
# lines to $HEALER_OUT (where wait_for_output, count_lines and the host
# read them: call it before each look); started counts its starts since
# boot; main_pid is its main process (0 when none).
unit=xfs_healer@mnt-test.service
journal() { journalctl -q -o cat -u "$unit" > "$HEALER_OUT" 2>&1; }
started() { journal; grep -cF "$MNT: monitoring started" "$HEALER_OUT"; }
main_pid() { systemctl show -p MainPID --value "$unit"; }

# as USER COMMAND: the command line, run by USER's shell.
as() {
	local as_user=$1
	shift
	su -s /bin/sh "$as_user" -c "$*"
}

# record KEY VALUE: a machine-readable fact for the host (results/facts).
record() {
	echo "$1=$2" >> /results/facts
}

mkfs_scratch() {
	mkfs.xfs -q -f "$@" "$DEV" > /results/mkfs.out 2>&1 || fail "mkfs.xfs $* failed: $(cat /results/mkfs.out)"
}

mount_scratch() {
	mkdir -p "$MNT"
	mount -t xfs "$@" "$DEV" "$MNT" || fail "mount of $DEV failed"
}

# start_healer [ARGS]: run the healer on $MNT in the background, output to
# $HEALER_OUT, and wait for the kernel's RUNNING event to be reported.
start_healer() {
	: > "$HEALER_OUT"
	"$HEALER" "$@" "$MNT" >> "$HEALER_OUT" 2>&1 &
	HEALER_PID=$!
	wait_for_output "$MNT: monitoring started" 30 || fail "healer did not report 'monitoring started' within 30 s"
	note "healer $HEALER_KIND running (pid $HEALER_PID)"
}

# wait_until SECONDS WHY COMMAND...: run COMMAND every 0.2 s until it
# succeeds; after SECONDS, fail with WHY, expanded then (give it in single
# quotes for its $(...) to show the state at the failure).
wait_until() {
	_until=$(( $(now_ms) + $1 * 1000 ))
	_why=$2
	shift 2
	until "$@"; do
		[ "$(now_ms)" -ge "$_until" ] && eval "fail \"$_why\""
		sleep 0.2
	done
}

# wait_for_output FIXED-STRING SECONDS: wait until a line of the healer's
# output contains the string.
wait_for_output() {
	deadline=$(( $(now_ms) + $2 * 1000 ))
	while ! grep -qF -- "$1" "$HEALER_OUT"; do
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
	return 0
}

# wait_exit PID SECONDS: wait for a background process; sets EXIT_STATUS,
# returns 1 on timeout (the process is then killed).
wait_exit() {
	deadline=$(( $(now_ms) + $2 * 1000 ))
	while kill -0 "$1" 2>/dev/null; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			kill -KILL "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			return 1
		fi
		# A zombie still answers kill -0; reap it through wait below.
		[ -d "/proc/$1" ] && grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && break
		sleep 0.01
	done
	wait "$1"
	EXIT_STATUS=$?
	return 0
}

expect_line() {
	grep -qxF -- "$1" "$HEALER_OUT" || fail "healer output lacks the line '$1'"
}

expect_no_line() {
	grep -qF -- "$1" "$HEALER_OUT" && fail "healer output has an unexpected '$1'"
	return 0
}

expect_status() {
	[ "$2" = "$1" ] || fail "$3: exit status $2, expected $1"
}

# healer_threads: the running healer's thread names, sorted, on one line.
healer_threads() { cat /proc/"$HEALER_PID"/task/*/comm | sort | tr '\n' ' '; }
# record_rss_by_mapping PID: its resident KB by mapping (smaps), as facts
# rss_program_kb, rss_libc_ld_kb (the C library and loader),
# rss_other_libs_kb, rss_heap_kb (malloc's main arena) and rss_anon_kb
# (other anonymous memory: thread stacks, the main stack, TLS).
record_rss_by_mapping() {
	awk -v prog="$(readlink "/proc/$1/exe")" '
		/^[0-9a-f]+-[0-9a-f]+ / { name = $6; next }
		$1 == "Rss:" {
			if (name == prog) k = "program"
			else if (name == "[heap]") k = "heap"
			else if (name ~ /\/(libc\.so|ld-linux)/) k = "libc_ld"
			else if (name ~ /\.so/) k = "other_libs"
			else k = "anon"
			kb[k] += $2
		}
		END { for (k in kb) print "rss_" k "_kb=" kb[k] }
	' "/proc/$1/smaps" >> /results/facts
}
# healer_files: what the healer's fds are open on, counted ("2 socket ...").
healer_files() {
	for fd in /proc/"$HEALER_PID"/fd/*; do readlink "$fd"; done | sed 's/:\[[0-9]*\]$//' | sort | uniq -c | tr -s ' \n' ' '
}

count_lines() {
	grep -cF -- "$1" "$HEALER_OUT"
}

# Disk address (512-byte sectors) of block 0 of a file's or directory's
# data fork, from xfs_bmap on the mounted filesystem (the extent line, not
# the second line: a name with a newline makes the header two lines).
first_daddr() {
	xfs_bmap "$1" | awk -F'[][ .:]+' '/^[[:space:]]+0: / { print $4; exit }'
}

# dm_scratch: put the scratch disk behind a device-mapper linear mapping
# (healer-dm) whose ranges dm_fail can later make fail; DEV names it then.
dm_scratch() {
	DM_SECTORS=$(cat /sys/block/vda/size)
	dmsetup create healer-dm --table "0 $DM_SECTORS linear /dev/vda 0" || fail "dmsetup create"
	dmsetup mknodes healer-dm # no udev in the guest
	DEV=/dev/mapper/healer-dm
}

# dm_fail [START LEN]...: every I/O to these sector ranges (disjoint, in
# any order) now fails with EIO; the rest maps 1:1. No ranges: all works.
dm_fail() {
	pos=0
	: > /tmp/table
	: > /tmp/ranges
	while [ $# -ge 2 ]; do
		echo "$1 $2" >> /tmp/ranges
		shift 2
	done
	sort -n /tmp/ranges > /tmp/ranges.sorted
	while read -r start len; do
		[ "$start" -gt "$pos" ] && echo "$pos $(( start - pos )) linear /dev/vda $pos" >> /tmp/table
		echo "$start $len error" >> /tmp/table
		pos=$(( start + len ))
	done < /tmp/ranges.sorted
	echo "$pos $(( DM_SECTORS - pos )) linear /dev/vda $pos" >> /tmp/table
	dm_load /tmp/table
}

# dm_flakey_writes: every write to the scratch disk fails with EIO (dm-flakey
# error_writes, always down); reads still work. dm_fail undoes it.
dm_flakey_writes() {
	echo "0 $DM_SECTORS flakey /dev/vda 0 0 3600 1 error_writes" > /tmp/table
	dm_load /tmp/table
}

# dm_load TABLE-FILE: swap the mapping's table. No filesystem freeze
# (--nolockfs): a shut-down filesystem cannot be frozen.
dm_load() {
	dmsetup suspend --nolockfs healer-dm && dmsetup reload healer-dm "$1" && dmsetup resume healer-dm ||
		fail "dmsetup reload: $(cat "$1")"
}

# repairs_in_flight N: on the mounted scratch fs, N files with damaged
# extent btrees, a repairing healer, their reports piled up while it was
# stopped, and the first repair just finished: a storm of repairs is
# running (the rest are queued) when this returns.
repairs_in_flight() {
	damaged_file_forks "$1"
	start_healer --repair
	kill -STOP "$HEALER_PID"
	read_storm_files "$1" 2
	kill -CONT "$HEALER_PID"
	wait_for_output "datafork: Repairs successful." 30 || fail "no repair started"
}

# victim_and_inobt [--reflink]: on the mounted scratch fs (agcount >= 2),
# a 64 KiB file $MNT/victim (and $MNT/twin sharing its blocks), every AG
# in use; sets file_daddr (the victim's first block) and inobt_daddr (AG
# 1's inode btree root, read with xfs_db while unmounted), and mounts again.
victim_and_inobt() {
	touch_every_ag
	xfs_io -f -c "pwrite -q 0 64k" -c fsync "$MNT/victim" || fail "could not write the victim file"
	if [ "${1:-}" = --reflink ]; then
		xfs_io -f -c "reflink $MNT/victim" "$MNT/twin" > /dev/null || fail "could not reflink the victim"
	fi
	file_daddr=$(first_daddr "$MNT/victim")
	[ -n "$file_daddr" ] || fail "no block map for the victim"
	umount "$MNT"
	inobt_daddr=$(metadata_daddr "agi 1" "addr root")
	[ -n "$inobt_daddr" ] || fail "no inode btree root for AG 1"
	note "victim data at sector $file_daddr, AG 1 inode btree root at sector $inobt_daddr"
	mount_scratch
}

# unmount_retrying: unmount $MNT, retrying for up to 30 s while a repair
# holds it (EBUSY), as fstests' _kill_xfs_healer does.
unmount_retrying() {
	tries=1
	until umount "$MNT" 2> /dev/null; do
		[ $tries -ge 300 ] && fail "$MNT could not be unmounted in 30 s"
		tries=$((tries + 1))
		sleep 0.1
	done
	UNMOUNT_TRIES=$tries
}

# Overwrite COUNT bytes at sector DADDR of the scratch device.
smash() {
	dd if=/dev/zero of="$DEV" bs=1 seek=$(( $1 * 512 )) count="${2:-64}" conv=notrunc,fsync 2>/dev/null ||
		fail "could not damage sector $1"
}

# XFS keeps hot metadata buffers through a few shrinker passes.
drop_caches() {
	sync
	for _ in 1 2 3 4 5; do echo 3 > /proc/sys/vm/drop_caches; done
}

# damaged_directory NAME: on the mounted scratch fs, make $MNT/NAME with 200
# entries (a multi-block directory), unmount, zero the header of its first
# block, and mount again. The next read of it fails its verifier. (The
# unmount is retried: a running healer's media patrol holds the mount open
# during each verify call.)
damaged_directory() {
	mkdir "$MNT/$1"
	i=0
	while [ $i -lt 200 ]; do : > "$MNT/$1/a-long-file-name-to-fill-blocks-$i"; i=$((i + 1)); done
	daddr=$(first_daddr "$MNT/$1")
	[ -n "$daddr" ] || fail "no block map for $MNT/$1"
	unmount_retrying
	smash "$daddr" 64
	mount_scratch
}

# touch_every_ag: new directories rotate over the AGs, so 8 of them put
# files in every AG of a 4-AG filesystem. Each gets a new inode and a
# preallocated extent, which reads the AG's headers and btrees. Data is
# preallocated, not written: a write-back that fails on damaged metadata
# loses the data and leaves the error for the next syncfs (xfs_scrub's).
touch_every_ag() {
	i=0
	while [ $i -lt 8 ]; do
		mkdir -p "$MNT/ag$i" && xfs_io -f -c "falloc 0 256k" "$MNT/ag$i/f$(now_ms)" 2>/dev/null
		i=$((i + 1))
	done
}

# metadata_daddr XFS_DB_CMD [XFS_DB_CMD]: disk address (sectors) of the
# structure the commands select, e.g. metadata_daddr "agf 1" "addr bnoroot".
metadata_daddr() {
	if [ $# = 2 ]; then
		xfs_db -r -c "$1" -c "$2" -c daddr "$DEV"
	else
		xfs_db -r -c "$1" -c daddr "$DEV"
	fi | awk '/daddr is/ { print $NF }'
}

# scrub_clean: the filesystem passes a check-only xfs_scrub.
scrub_clean() {
	xfs_scrub -n "$MNT" > /results/scrub.out 2>&1 || fail "xfs_scrub -n finds problems: $(tail -3 /results/scrub.out)"
}

# peak_rss_kb PID: the process's high-water resident set (VmHWM).
peak_rss_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# damaged_file_forks COUNT: COUNT files $MNT/storm/fN whose data fork is a
# btree (40 separate extents do not fit in the inode), then, unmounted,
# the header of each file's bmbt leaf block zeroed. Reading a file's
# extent map afterwards fails its verifier: one sick data fork per file,
# each independently repairable from the reverse-mapping btree.
damaged_file_forks() {
	count=$1
	mkdir -p "$MNT/storm"
	: > /tmp/storm-inodes
	n=0
	while [ $n -lt "$count" ]; do
		set -- # the xfs_io arguments (COUNT is saved above)
		o=0
		while [ $o -lt 40 ]; do set -- "$@" -c "pwrite -q $((o * 8))k 4k"; o=$((o + 1)); done
		xfs_io -f "$@" -c fsync "$MNT/storm/f$n" || fail "could not write storm/f$n"
		stat -c %i "$MNT/storm/f$n" >> /tmp/storm-inodes
		n=$((n + 1))
	done
	umount "$MNT"
	# One xfs_db for all leaves: a process per file is slow under TCG.
	set --
	while read -r ino; do set -- "$@" -c "inode $ino" -c "addr u3.bmbt.ptrs[1]" -c daddr; done < /tmp/storm-inodes
	xfs_db -r "$@" "$DEV" | awk '/daddr is/ { print $NF }' > /tmp/storm-daddrs
	[ "$(wc -l < /tmp/storm-daddrs)" = "$count" ] || fail "$(wc -l < /tmp/storm-daddrs) bmbt leaves found for $count files"
	while read -r daddr; do
		dd if=/dev/zero of="$DEV" bs=1 seek=$(( daddr * 512 )) count=64 conv=notrunc 2>/dev/null ||
			fail "could not damage sector $daddr"
	done < /tmp/storm-daddrs
	sync
	mount_scratch
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# context_switches PID: voluntary + involuntary switches of all its
# threads (each wake-up of a sleeping thread is one).
context_switches() {
	cat /proc/"$1"/task/*/status | awk '/ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# read_storm_files N [ROUNDS]: read each of $MNT/storm/f0..N-1 (made by
# damaged_file_forks) ROUNDS times (default 1); each read of a damaged
# file makes the kernel report its data fork sick.
read_storm_files() {
	files=
	f=0
	while [ $f -lt "$1" ]; do files="$files $MNT/storm/f$f"; f=$((f + 1)); done
	r=0
	while [ $r -lt "${2:-1}" ]; do
		# One cat per round, in order; it goes on past files that fail.
		cat $files > /dev/null 2>&1
		r=$((r + 1))
	done
}

# storm_files_readable N: every one of the N storm files reads back.
storm_files_readable() {
	f=0
	while [ $f -lt "$1" ]; do
		cat "$MNT/storm/f$f" > /dev/null || fail "storm/f$f still unreadable"
		f=$((f + 1))
	done
}

# record_repair_latency: after the healer exited, the read-to-ioctl
# figures its --debug summary printed (ours only; the reference's --debug
# does nothing).
record_repair_latency() {
	line=$(grep -F 'repairs timed from event read to repair ioctl' "$HEALER_OUT") || return 0
	record read_to_ioctl_p50_us "$(echo "$line" | sed 's/.* p50 \([0-9]*\) us.*/\1/')"
	record read_to_ioctl_p99_us "$(echo "$line" | sed 's/.* p99 \([0-9]*\) us.*/\1/')"
}

# bench_storm N: the storm scenario's workload with N files, for the
# benchmarks: damage, 10 reads of each, wait until all are repaired, check
# the fs, and record the figures.
bench_storm() {
	mkfs_scratch -m rmapbt=1
	mount_scratch
	damaged_file_forks "$1"
	start_healer --repair --debug
	t0=$(now_ms)
	read_storm_files "$1" 10
	deadline=$(( $(now_ms) + 1500000 ))
	while [ "$(grep 'datafork: Repairs successful.' "$HEALER_OUT" | sort -u | wc -l)" -lt "$1" ]; do
		[ "$(now_ms)" -ge "$deadline" ] && fail "not all $1 files repaired in 25 minutes"
		sleep 0.2
	done
	scrub_clean
	record time_to_clean_ms $(( $(now_ms) - t0 ))
	record repairs "$(grep -c 'datafork: Repairs successful.\|datafork: No modification needed.\|offline repair' "$HEALER_OUT")"
	record output_lines "$(wc -l < "$HEALER_OUT")"
	record lost_events "$(awk '/events lost/ { n += $2 } END { print n + 0 }' "$HEALER_OUT")"
	record peak_rss_kb "$(peak_rss_kb "$HEALER_PID")"
	# A healer still working through a backlog keeps the filesystem busy
	# (the reference does after 1000 files): measure that, do not fail.
	t1=$(now_ms)
	until umount "$MNT" 2>/dev/null; do
		[ $(( $(now_ms) - t1 )) -ge 300000 ] && fail "filesystem still busy 300 s after the storm"
		sleep 0.5
	done
	if wait_exit "$HEALER_PID" 300; then
		record unmount_to_exit_ms $(( $(now_ms) - t1 ))
	else
		note "healer still running 300 s after unmount; killed"
	fi
	record_repair_latency
}

# damaged_inode_core: $MNT/victim with its inode core's magic zeroed (the
# filesystem is unmounted for that and mounted again). 200 files fill the
# first inode chunks first, so the victim's cluster holds nothing the mount
# or the root directory need.
damaged_inode_core() {
	mkdir "$MNT/filler"
	i=0
	while [ $i -lt 200 ]; do : > "$MNT/filler/$i"; i=$((i + 1)); done
	echo hello > "$MNT/victim"
	ino=$(stat -c %i "$MNT/victim")
	umount "$MNT"
	xfs_db -x -c "inode $ino" -c "write -d core.magic 0" "$DEV" > /results/xfs_db.out 2>&1 ||
		fail "xfs_db could not damage inode $ino"
	mount_scratch
}

# mail_system: the guest has no MTA. An SMTP server on loopback keeps what
# it is given in /run/mailbox (its pid in MAIL_PID), and a sendmail(8) hands
# a message to it, as an MTA's would: a hook's mail is delivered only if the
# hook can reach the host's loopback.
mail_system() {
	ip link set lo up || fail "loopback"
	cat > /run/smtp-session <<'SINK'
#!/bin/sh
echo "220 sink ESMTP"
while IFS= read -r line; do
	case "$(printf '%s' "$line" | tr -d '\r')" in
	DATA)
		echo "354 go ahead"
		while IFS= read -r body; do
			body=$(printf '%s' "$body" | tr -d '\r')
			[ "$body" = . ] && break
			printf '%s\n' "$body" >> /run/mailbox
		done
		echo "250 queued" ;;
	QUIT) echo "221 bye"; exit 0 ;;
	*) echo "250 ok" ;;
	esac
done
SINK
	chmod 755 /run/smtp-session
	nc -ll -p 25 -e /run/smtp-session &
	MAIL_PID=$!
	cat > /usr/sbin/sendmail <<'MTA'
#!/bin/sh
# sendmail -t: the message on stdin, over SMTP to 127.0.0.1:25.
{
	printf 'HELO guest\r\nMAIL FROM:<root>\r\nRCPT TO:<root>\r\nDATA\r\n'
	sed 's/^\.$/../'
	printf '\r\n.\r\nQUIT\r\n'
} | nc 127.0.0.1 25 > /run/sendmail.out
grep -q '^250 queued' /run/sendmail.out
MTA
	chmod 755 /usr/sbin/sendmail
}
