# summary: 200 files with damaged extent btrees, each read 10 times: time until all are repaired and xfs_scrub -n is clean, repairs, log lines, lost events, peak RSS
# healers: reference ours
# timeout: 900
bench_storm 200
