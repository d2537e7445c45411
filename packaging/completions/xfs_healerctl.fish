# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_xfs_healerctl_global_optspecs
    string join \n json socket-dir= timeout= h/help V/version
end

function __fish_xfs_healerctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_xfs_healerctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_xfs_healerctl_using_subcommand
    set -l cmd (__fish_xfs_healerctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -s h -l help -d 'Print help'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -s V -l version -d 'Print version'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "status" -d 'Health and repair work of each monitored filesystem'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "events" -d 'The latest events; --follow streams new ones'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "scan" -d 'Ask for a full xfs_scrub run'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "test-event" -d 'Send a test event through every sink of a healer'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "check-config" -d 'Check the configuration file (default: $XFS_HEALER_CONFIG or /etc/xfs_healer.toml) and print the settings it gives'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand status" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand status" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand status" -s x -l check -d 'One line per filesystem; exit 0 if all are healthy, 1 if any has sick objects or failed repairs, 2 if any has shut down or does not answer'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand status" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand status" -s h -l help -d 'Print help'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand events" -l since -d 'With --follow and a MOUNTPOINT: first the events after this seq that the healer still holds (the latest 256), then new ones; a gap is told as a "lost" event' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand events" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand events" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand events" -s f -l follow -d 'Stream new events as they happen, of every healer at once (or the one named), until interrupted'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand events" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand events" -s h -l help -d 'Print help'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand scan" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand scan" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand scan" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand scan" -s h -l help -d 'Print help'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand test-event" -l class -d 'The class of event it poses as (the hooks of that class run)' -r -f -a "running\t''
sick\t''
corrupt\t''
healthy\t''
media_error\t''
file_io\t''
lost\t''
shutdown\t''
unmount\t''
unknown\t''
repaired\t''
repair_failed\t''
full_scan\t''"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand test-event" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand test-event" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand test-event" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand test-event" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand check-config" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand check-config" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand check-config" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand check-config" -s h -l help -d 'Print help'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand completion" -l socket-dir -d 'Where the healers\' sockets are' -r -f -a "(__fish_complete_directories)"
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand completion" -l timeout -d 'How long to wait for a healer to accept and for each of its answers' -r
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand completion" -l json -d 'One JSON object per line (the io.xfs.Healer types)'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand completion" -s h -l help -d 'Print help'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "status" -d 'Health and repair work of each monitored filesystem'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "events" -d 'The latest events; --follow streams new ones'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "scan" -d 'Ask for a full xfs_scrub run'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "test-event" -d 'Send a test event through every sink of a healer'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "check-config" -d 'Check the configuration file (default: $XFS_HEALER_CONFIG or /etc/xfs_healer.toml) and print the settings it gives'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c xfs_healerctl -n "__fish_xfs_healerctl_using_subcommand help; and not __fish_seen_subcommand_from status events scan test-event check-config completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
