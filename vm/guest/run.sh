# Runs /payload/scenario.sh in a subshell with the helper library loaded and
# turns its outcome into /results/verdict ("pass", "fail: why" or, for a
# known kernel bug, "xfail: why").
. /payload/env
. /payload/lib.sh
( . /payload/scenario.sh ) > /results/scenario.log 2>&1
rc=$?
if [ ! -s /results/verdict ]; then
	if [ "$rc" = 0 ]; then
		echo pass > /results/verdict
	else
		echo "fail: scenario exited with status $rc" > /results/verdict
	fi
fi
dmesg > /results/dmesg.log
