# summary: hook scripts: two damaged files read 50 times each (log-only) run the sick hook once per file, with the event in XFS_* variables and as JSON on stdin and nothing else of the daemon's environment; a hook that hangs is killed at its timeout, together with the background child it started; editor and dpkg leftovers and a group-writable hook never run and are each said once
# healers: ours
# timeout: 240
mkfs_scratch -m rmapbt=1
mount_scratch
damaged_file_forks 2
mkdir -p /tmp/hooks
cat > /tmp/hooks/sick-record <<'HOOK'
#!/bin/sh
{
	echo "event=$XFS_EVENT object=$XFS_OBJECT path=$XFS_PATH structures=$XFS_STRUCTURES suppressed=$XFS_SUPPRESSED"
	echo "env: $(env | cut -d= -f1 | sort | tr '\n' ' ')"
	echo "stdin: $(cat)"
} >> /tmp/hook-runs
HOOK
# Each run leaves a grandchild in the background, which must die with it.
printf '#!/bin/sh\nsleep 300 &\necho $! >> /tmp/hang-grandchild\nsleep 60\n' > /tmp/hooks/all-hang
printf '#!/bin/sh\necho ran >> /tmp/not-executable-ran\n' > /tmp/hooks/sick-not-executable
chmod 755 /tmp/hooks/sick-record /tmp/hooks/all-hang
chmod 644 /tmp/hooks/sick-not-executable
# Leftovers of an editor and of dpkg, and a hook others may change: none
# runs, and each is said once.
cp -p /tmp/hooks/sick-record /tmp/hooks/sick-record~
cp -p /tmp/hooks/sick-record /tmp/hooks/all-record.dpkg-old
printf '#!/bin/sh\necho ran >> /tmp/untrusted-ran\n' > /tmp/hooks/sick-shared
chmod 775 /tmp/hooks/sick-shared
printf '[hooks]\ndir = "/tmp/hooks"\ntimeout_seconds = 2\n' > /tmp/hooks.toml
export SECRET_TOKEN=must-not-leak
XFS_HEALER_CONFIG=/tmp/hooks.toml start_healer --no-autofsck
read_storm_files 2 50
sleep 4
[ -f /tmp/hook-runs ] || fail "the sick hook never ran"
cp /tmp/hook-runs /results/hook-runs
runs=$(grep -c '^event=sick' /tmp/hook-runs)
record hook_runs "$runs"
record sick_lines "$(count_lines 'datafork: sick')"
[ "$runs" = 2 ] || fail "$runs runs of the sick hook for 2 damaged files read 100 times"
grep -q "^event=sick object=ino [0-9]* gen 0x[0-9a-f]* path=$MNT/storm/f0 structures=datafork suppressed=0" /tmp/hook-runs || fail "hook environment: $(head -3 /tmp/hook-runs)"
grep -q 'SECRET_TOKEN' /tmp/hook-runs && fail "the daemon's environment leaked into a hook"
grep -q '^stdin: {.*"kind":"sick".*"mountpoint":"/mnt/test".*"v":1}$' /tmp/hook-runs || fail "no JSON event on the hook's stdin: $(grep stdin /tmp/hook-runs | head -1)"
[ -e /tmp/not-executable-ran ] && fail "a hook without execute permission ran"
[ -e /tmp/untrusted-ran ] && fail "a hook that group and others may write ran"
for refused in "sick-record~ skipped: not a name run-parts would run" \
	"all-record.dpkg-old skipped: not a name run-parts would run" \
	"sick-shared skipped: not trusted: writable by group or others (mode 0775)"; do
	n=$(count_lines "$MNT: hook /tmp/hooks/$refused")
	[ "$n" = 1 ] || fail "'$refused' said $n times, not once"
done
wait_for_output "hook /tmp/hooks/all-hang ran longer than 2 s; killed" 10 || fail "the hanging hook was not killed: $(tail -3 "$HEALER_OUT")"
# Several runs may overlap: wait until every one that started was killed.
deadline=$(( $(now_ms) + 15000 ))
while [ "$(count_lines "hook /tmp/hooks/all-hang ran longer than 2 s; killed")" -lt "$(wc -l < /tmp/hang-grandchild)" ]; do
	[ "$(now_ms)" -ge "$deadline" ] && fail "$(wc -l < /tmp/hang-grandchild) runs of the hanging hook, $(count_lines 'all-hang ran longer') killed"
	sleep 0.1
done
record hang_runs "$(wc -l < /tmp/hang-grandchild)"
# SIGKILL lands asynchronously, and a zombie only awaits its reaper: give
# each a second and do not count zombies.
sleep 1
for gc in $(cat /tmp/hang-grandchild); do
	if kill -0 "$gc" 2>/dev/null && ! grep -q ') Z' "/proc/$gc/stat" 2>/dev/null; then
		fail "the hanging hook's background child $gc outlived the hook: $(cat "/proc/$gc/cmdline" | tr '\0' ' ')"
	fi
done
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
expect_status 0 "$EXIT_STATUS" "healer after unmount"
