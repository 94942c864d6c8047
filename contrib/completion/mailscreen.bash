# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for mailscreen(8).
#
# Commands, options and the words a command takes (list blocks|allows|...)
# are read from mailscreen's own help ('mailscreen -h', 'mailscreen
# COMMAND -h'), so the completion never lists what the binary does not
# know; a command's RULE argument completes the rule names found in the
# configured rules (the [name] headers of its files), FILE, PATH, DIR and
# LOG arguments complete file names. Nothing here talks to the daemon.

# _mailscreen_rules CONFIG: rule names of the configuration's rules
_mailscreen_rules()
{
	local conf=${1:-/etc/mailscreen/mailscreen.conf} rules
	rules=$(sed -n 's/^[[:blank:]]*rules[[:blank:]]*=[[:blank:]]*\([^#;]*\).*/\1/p' "$conf" 2>/dev/null | tail -n 1)
	rules=${rules:-/etc/mailscreen/rules}
	[[ -d ${rules%% *} ]] && rules="${rules%% *}/*.conf"
	# shellcheck disable=SC2086 # a space-separated list of files, or a glob
	sed -n 's/^[[:blank:]]*\[\([A-Za-z0-9_.-]*\)\].*/\1/p' $rules 2>/dev/null
}

_mailscreen()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} cmd="" conf="" help usage arg i w given=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-c | --config) conf=${COMP_WORDS[i + 1]} ;;
		-*) ;;
		*) if [[ -z $cmd && ${COMP_WORDS[i - 1]} != -c && ${COMP_WORDS[i - 1]} != --config ]]; then
			cmd=$w
		elif [[ -n $cmd ]]; then
			given="$given $w"
		fi ;;
		esac
	done
	COMPREPLY=()
	if [[ -z $cmd ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$prog" -h 2>/dev/null |
			awk '/^  [a-z]/ { print $1 }') --help --version" -- "$cur")
		return
	fi
	help=$("$prog" "$cmd" -h 2>&1) || return
	usage=$(sed -n '1,/^$/p' <<<"$help")
	if [[ $prev == -* && $cur != -* ]]; then
		# the option's argument, as its help line names it
		arg=$(awk -v o="$prev" '{
			for (i = 1; i <= NF; i++) { w = $i; sub(/,$/, "", w)
				if (w == o) { print $(i + 1); exit }
				if (substr(w, 1, 1) != "-") break } }' <<<"$help")
		case $arg in
		FILE | PATH | DIR)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return ;;
		[A-Z]*) return ;;
		esac
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(sed -n 's/^ \{1,\}\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\1 \2/p' <<<"$help" |
			tr -d ',')" -- "$cur")
		return
	fi
	local words
	words=$(grep -oE '(^|[ [])[a-z][a-z-]*(\|[a-z][a-z-]*)+' <<<"$usage" | tr '|[' '  ')
	if grep -qw RULE <<<"$usage"; then
		words="$words $(_mailscreen_rules "$conf")"
	fi
	for w in $given; do
		# one word of the list is enough (list blocks, reset all)
		[[ " $words " == *" $w "* ]] && return
	done
	if [[ -n ${words// /} ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	elif grep -qE '\b(FILE|FILTERFILE|LOG)\b' <<<"$usage"; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}
complete -F _mailscreen mailscreen
