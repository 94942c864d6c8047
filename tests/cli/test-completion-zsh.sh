#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-completion-zsh.sh - the zsh completion (contrib/completion/
# _mailscreen) offers what the bash one does, from the same sources: each
# case autoloads _mailscreen as zsh's completion system would, sets words
# and CURRENT, and records what it hands to compadd and _files (stand-ins
# here: the real ones work only inside a completion widget).
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-completion-zsh.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
command -v zsh > /dev/null || { echo "not ok - zsh is missing (make deps-test)"; exit 1; }

mkdir "$tmp/rules"
printf '[alpha]\nevents = auth-fail\n\n[beta-2]\nevents = connect\n' > "$tmp/rules/one.conf"
printf '[daemon]\nrules = %s/rules\n' "$tmp" > "$tmp/m.conf"

# complete WORD... - what is offered for the last word (may be ""), sorted, on one line
complete_words() {
	zsh -f -c '
		fpath=(contrib/completion $fpath)
		autoload -Uz _mailscreen
		compadd() { if [[ $1 == -a ]]; then print -rl -- ${(P)2}; else print -rl -- "$@"; fi }
		_files() { print -r -- "<files>" }
		words=("$@")
		CURRENT=$#
		_mailscreen' complete "$@" 2>/dev/null | grep . | sort | tr '\n' ' ' | sed 's/ $//'
}

expect "a command from its first letters" "list" "$(complete_words "$MAILSCREEN" li | tr ' ' '\n' | grep '^li' | tr -d '\n')"
expect "the commands include report and reset" "report reset" \
	"$(complete_words "$MAILSCREEN" re | tr ' ' '\n' | grep -E '^(report|reset)$' | tr '\n' ' ' | sed 's/ $//')"
expect "list's words" "accounts allows blocks failures" "$(complete_words "$MAILSCREEN" list "")"
expect "one word of the list is enough" "" "$(complete_words "$MAILSCREEN" list blocks "")"
expect "reset's words" "all allows blocks failures" "$(complete_words "$MAILSCREEN" reset "")"
expect "report's options" "--html --json --mail --since" \
	"$(complete_words "$MAILSCREEN" report -- | tr ' ' '\n' | grep -E '^--(html|json|mail|since)$' | tr '\n' ' ' | sed 's/ $//')"
expect "a RULE argument: the rules of the configuration given with -c" "alpha beta-2" \
	"$(complete_words "$MAILSCREEN" -c "$tmp/m.conf" status "")"
expect "a FILE option's argument: file names" "<files>" "$(complete_words "$MAILSCREEN" report --html "")"
expect "an option that takes a value: nothing" "" "$(complete_words "$MAILSCREEN" report --since "")"
# the same words as bash's, for the commands that take words
for c in list reset status; do
	z=$(complete_words "$MAILSCREEN" -c "$tmp/m.conf" "$c" "")
	b=$(bash -c '. contrib/completion/mailscreen.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mailscreen
		printf "%s\n" "${COMPREPLY[@]}"' b "$MAILSCREEN" -c "$tmp/m.conf" "$c" "" 2>/dev/null | grep . | sort |
		tr '\n' ' ' | sed 's/ $//')
	expect "$c: zsh offers what bash offers ($b)" "$b" "$z"
done
exit $fail
