# bash completion for xfs_healer and xfs_healer_start (xfs-healer)

_xfs_healer() {
	local cur=${COMP_WORDS[COMP_CWORD]}
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--everything --foreground --no-autofsck --quiet --repair --supported -V' -- "$cur"))
		return
	fi
	# Mount points of XFS filesystems.
	COMPREPLY=($(compgen -W "$(findmnt -rn -t xfs -o TARGET 2>/dev/null)" -- "$cur"))
}

_xfs_healer_start() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [[ $prev == --mountns ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W '--debug --mountns --supported -V' -- "$cur"))
}

complete -F _xfs_healer xfs_healer
complete -F _xfs_healer_start xfs_healer_start
