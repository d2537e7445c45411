#compdef xfs_healerctl

autoload -U is-at-least

_xfs_healerctl() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_xfs_healerctl_commands" \
"*::: :->xfs_healerctl" \
&& ret=0
    case $state in
    (xfs_healerctl)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:xfs_healerctl-command-$line[1]:"
        case $line[1] in
            (status)
_arguments "${_arguments_options[@]}" : \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'-x[One line per filesystem; exit 0 if all are healthy, 1 if any has sick objects or failed repairs, 2 if any has shut down or does not answer]' \
'--check[One line per filesystem; exit 0 if all are healthy, 1 if any has sick objects or failed repairs, 2 if any has shut down or does not answer]' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help]' \
'--help[Print help]' \
'*::mounts:_files -/' \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
'--since=[With --follow and a MOUNTPOINT\: first the events after this seq that the healer still holds (the latest 256), then new ones; a gap is told as a "lost" event]:SEQ:_default' \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'-f[Stream new events as they happen, of every healer at once (or the one named), until interrupted]' \
'--follow[Stream new events as they happen, of every healer at once (or the one named), until interrupted]' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help]' \
'--help[Print help]' \
'::mount:_files -/' \
&& ret=0
;;
(scan)
_arguments "${_arguments_options[@]}" : \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help]' \
'--help[Print help]' \
':mount:_files -/' \
&& ret=0
;;
(test-event)
_arguments "${_arguments_options[@]}" : \
'--class=[The class of event it poses as (the hooks of that class run)]:CLASS:(running sick corrupt healthy media_error file_io lost shutdown unmount unknown repaired repair_failed full_scan)' \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
':mount:_files -/' \
&& ret=0
;;
(check-config)
_arguments "${_arguments_options[@]}" : \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help]' \
'--help[Print help]' \
'::file:_files' \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
'--socket-dir=[Where the healers'\'' sockets are]:DIR:_files -/' \
'--timeout=[How long to wait for a healer to accept and for each of its answers]:SECONDS:_default' \
'--json[One JSON object per line (the io.xfs.Healer types)]' \
'-h[Print help]' \
'--help[Print help]' \
':shell:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_xfs_healerctl__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:xfs_healerctl-help-command-$line[1]:"
        case $line[1] in
            (status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(events)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(scan)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(test-event)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(check-config)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completion)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_xfs_healerctl_commands] )) ||
_xfs_healerctl_commands() {
    local commands; commands=(
'status:Health and repair work of each monitored filesystem' \
'events:The latest events; --follow streams new ones' \
'scan:Ask for a full xfs_scrub run' \
'test-event:Send a test event through every sink of a healer' \
'check-config:Check the configuration file (default\: \$XFS_HEALER_CONFIG or /etc/xfs_healer.toml) and print the settings it gives' \
'completion:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'xfs_healerctl commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__check-config_commands] )) ||
_xfs_healerctl__subcmd__check-config_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl check-config commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__completion_commands] )) ||
_xfs_healerctl__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl completion commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__events_commands] )) ||
_xfs_healerctl__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl events commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help_commands] )) ||
_xfs_healerctl__subcmd__help_commands() {
    local commands; commands=(
'status:Health and repair work of each monitored filesystem' \
'events:The latest events; --follow streams new ones' \
'scan:Ask for a full xfs_scrub run' \
'test-event:Send a test event through every sink of a healer' \
'check-config:Check the configuration file (default\: \$XFS_HEALER_CONFIG or /etc/xfs_healer.toml) and print the settings it gives' \
'completion:Print a shell completion script' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'xfs_healerctl help commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__check-config_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__check-config_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help check-config commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__completion_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__completion_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help completion commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__events_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__events_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help events commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__help_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help help commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__scan_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__scan_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help scan commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__status_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help status commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__help__subcmd__test-event_commands] )) ||
_xfs_healerctl__subcmd__help__subcmd__test-event_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl help test-event commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__scan_commands] )) ||
_xfs_healerctl__subcmd__scan_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl scan commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__status_commands] )) ||
_xfs_healerctl__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl status commands' commands "$@"
}
(( $+functions[_xfs_healerctl__subcmd__test-event_commands] )) ||
_xfs_healerctl__subcmd__test-event_commands() {
    local commands; commands=()
    _describe -t commands 'xfs_healerctl test-event commands' commands "$@"
}

if [ "$funcstack[1]" = "_xfs_healerctl" ]; then
    _xfs_healerctl "$@"
else
    compdef _xfs_healerctl xfs_healerctl
fi
