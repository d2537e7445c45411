# The accelerator probe: a guest that boots, loads xfs and can make one.
mkfs_scratch
mount_scratch
umount "$MNT" || fail "umount"
