#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-completion.sh - the bash and zsh completions (contrib/completion/
# mailscreen.bash, _mailscreen) at work, each case run in both shells:
# commands from `mailscreen -h`, a command's words from its usage (list
# blocks|allows|..., reset ...), one word being enough, a command's options
# from its help, a RULE argument from the configured rules' [name]
# headers, a FILE option's argument as file names, nothing for an option
# that takes a value.
#   bash: _mailscreen called as bash does, with COMP_WORDS and COMP_CWORD
#         set; COMPREPLY is what it offers.
#   zsh:  _mailscreen autoloaded as zsh's completion system does, with
#         words and CURRENT set; what it hands to compadd and _files
#         (stand-ins: the real ones work only inside a completion widget;
#         _files is shown as "<files>") is what it offers.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
for sh in bash zsh; do
	command -v $sh > /dev/null || { echo "not ok - $sh is missing (make deps-test)"; exit 1; }
done

mkdir "$tmp/rules"
printf '[alpha]\nevents = auth-fail\n\n[beta-2]\nevents = connect\n' > "$tmp/rules/one.conf"
printf '[daemon]\nrules = %s/rules\n' "$tmp" > "$tmp/m.conf"
: > "$tmp/report-here.html"

# offered_bash|offered_zsh WORD... - what is offered for the last word
# (may be ""), sorted, on one line
offered_bash() {
	bash -c '
		. contrib/completion/mailscreen.bash
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_mailscreen
		printf "%s\n" "${COMPREPLY[@]}"' complete "$@" 2>/dev/null | grep . | sort | tr '\n' ' ' | sed 's/ $//'
}
offered_zsh() {
	zsh -f -c '
		fpath=(contrib/completion $fpath)
		autoload -Uz _mailscreen
		compadd() { if [[ $1 == -a ]]; then print -rl -- ${(P)2}; else print -rl -- "$@"; fi }
		_files() { print -r -- "<files>" }
		words=("$@")
		CURRENT=$#
		_mailscreen' complete "$@" 2>/dev/null | grep . | sort | tr '\n' ' ' | sed 's/ $//'
}
# only WORD... - of what stdin offers, these (in this order) if offered
only() { tr ' ' '\n' | grep -x -F -e "$(printf '%s\n' "$@")" | sort | tr '\n' ' ' | sed 's/ $//'; }

for sh in bash zsh; do
	# (bash filters by the word typed, zsh's compadd does that itself)
	expect "$sh: a command from its first letters" "list" "$(offered_$sh "$MAILSCREEN" li | only list)"
	expect "$sh: the commands include report and reset" "report reset" \
		"$(offered_$sh "$MAILSCREEN" re | only report reset)"
	expect "$sh: list's words" "accounts allows blocks failures" "$(offered_$sh "$MAILSCREEN" list "")"
	expect "$sh: one word of the list is enough" "" "$(offered_$sh "$MAILSCREEN" list blocks "")"
	expect "$sh: reset's words" "all allows blocks failures" "$(offered_$sh "$MAILSCREEN" reset "")"
	expect "$sh: report's options" "--html --json --mail --since" \
		"$(offered_$sh "$MAILSCREEN" report -- | only --html --json --mail --since)"
	expect "$sh: a RULE argument: the rules of the configuration given with -c" "alpha beta-2" \
		"$(offered_$sh "$MAILSCREEN" -c "$tmp/m.conf" status "")"
	expect "$sh: an option that takes a value: nothing" "" "$(offered_$sh "$MAILSCREEN" report --since "")"
done
expect "bash: a FILE option's argument: a file name" "$tmp/report-here.html" \
	"$(offered_bash "$MAILSCREEN" report --html "$tmp/report-")"
expect "zsh: a FILE option's argument: file names" "<files>" "$(offered_zsh "$MAILSCREEN" report --html "")"
exit $fail
