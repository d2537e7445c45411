# summary: --supported exit codes and messages on XFS, a subdirectory, ext4, tmpfs, a missing path, autofsck=none
# healers: reference ours
# timeout: 120
mkfs_scratch
mount_scratch
"$HEALER" --supported "$MNT" > /results/xfs.out 2>&1
expect_status 0 $? "--supported on an XFS mount"

mkdir "$MNT/sub"
"$HEALER" --supported "$MNT/sub" > /results/sub.out 2>&1
expect_status 255 $? "--supported on a subdirectory of an XFS mount"
grep -qxF "$MNT/sub: Not a XFS mount point." /results/sub.out || fail "subdirectory message: $(cat /results/sub.out)"

"$HEALER" --supported /nonexistent > /results/missing.out 2>&1
expect_status 255 $? "--supported on a missing path"
grep -qxF "/nonexistent: No such file or directory" /results/missing.out || fail "missing path message: $(cat /results/missing.out)"

mke2fs -q "$DEV2" > /dev/null 2>&1 || fail "mke2fs"
mkdir -p /mnt/ext4
mount -t ext4 "$DEV2" /mnt/ext4 || fail "mount ext4"
"$HEALER" --supported /mnt/ext4 > /results/ext4.out 2>&1
expect_status 255 $? "--supported on ext4"

"$HEALER" --supported /tmp > /results/tmpfs.out 2>&1
expect_status 255 $? "--supported on tmpfs"

umount "$MNT"
mkfs_scratch -m autofsck=none
mount_scratch
"$HEALER" --supported "$MNT" > /results/none.out 2>&1
expect_status 1 $? "--supported with autofsck=none"
grep -qxF "$MNT: Disabling daemon per autofsck directive." /results/none.out || fail "autofsck=none message: $(cat /results/none.out)"
