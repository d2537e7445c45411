# summary: file names in reports: a directory renamed after its damage is reported under its new name, a file with two hard links is named by both, a name with a newline and invalid UTF-8 prints as one escaped line, and without parent pointers the reason for inode numbers is said once
# healers: reference ours
# timeout: 240
mkfs_scratch
mount_scratch
evil=$(printf 'evil\nname\377')
damaged_directory "$evil"
damaged_directory old-name
damaged_file_forks 1
ln "$MNT/storm/f0" "$MNT/second-link" || fail "could not link the damaged file"
start_healer --no-autofsck

# Renamed between the damage and its report: the new name, never the old.
mv "$MNT/old-name" "$MNT/new-name" || fail "could not rename the damaged directory"
ls "$MNT/new-name" > /dev/null 2>&1
wait_for_output "$MNT/new-name directory: sick" 10 || fail "renamed directory not reported by its new name"
expect_no_line "old-name"

# A hostile name.
ls "$MNT/$evil" > /dev/null 2>&1
wait_for_output "evil" 10 || fail "no report of the directory with a hostile name"
sleep 1
record evil_name_lines "$(grep -c -e evil -e '^name' "$HEALER_OUT")"
if [ "$HEALER_KIND" = ours ]; then
	expect_line "$MNT/"'evil\x0aname\xff directory: sick'
	[ "$(grep -c -e evil -e '^name' "$HEALER_OUT")" = 1 ] || fail "the hostile name took $(grep -c -e evil -e '^name' "$HEALER_OUT") lines"
fi

# Two hard links.
cat "$MNT/storm/f0" > /dev/null 2>&1
wait_for_output "datafork: sick" 10 || fail "no report of the damaged file"
sleep 1
record link_lines "$(count_lines 'second-link')"
if [ "$HEALER_KIND" = ours ]; then
	grep -qxF -e "$MNT/storm/f0 datafork: sick" -e "$MNT/second-link datafork: sick" "$HEALER_OUT" || fail "damaged file not named by a path"
	grep -qxF -e "$MNT/storm/f0: also linked as $MNT/second-link" -e "$MNT/second-link: also linked as $MNT/storm/f0" "$HEALER_OUT" ||
		fail "the second hard link is not named: $(grep datafork "$HEALER_OUT")"
fi
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
cp "$HEALER_OUT" /results/healer-parent.out

# No parent pointers: inode numbers, and why, once.
mkfs_scratch -n parent=0
mount_scratch
damaged_directory a
damaged_directory b
start_healer --no-autofsck
ls "$MNT/a" > /dev/null 2>&1
ls "$MNT/b" > /dev/null 2>&1
wait_for_output "directory: sick" 10 || fail "no report without parent pointers"
sleep 1
[ "$(count_lines 'directory: sick')" = 2 ] || fail "$(count_lines 'directory: sick') reports of two damaged directories"
record no_path_reasons "$(count_lines 'have no path')"
if [ "$HEALER_KIND" = ours ]; then
	expect_line "$MNT: inodes are named by number when they have no path: the filesystem has no parent pointers (said once)."
	[ "$(count_lines 'have no path')" = 1 ] || fail "the reason was said $(count_lines 'have no path') times"
fi
umount "$MNT"
wait_exit "$HEALER_PID" 20 || fail "healer did not exit after unmount"
