#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-completion.sh - the bash completion (contrib/completion/
# mailscreen.bash) at work: commands from `mailscreen -h`, a command's
# words from its usage (list blocks|allows|..., reset ...), one word being
# enough, a command's options from its help, a RULE argument from the
# configured rules' [name] headers, a FILE option's argument as a file
# name. Each case calls _mailscreen as bash does, with COMP_WORDS and
# COMP_CWORD set, and compares COMPREPLY.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
command -v bash > /dev/null || { echo "not ok - bash is missing"; exit 1; }

mkdir "$tmp/rules"
printf '[alpha]\nevents = auth-fail\n\n[beta-2]\nevents = connect\n' > "$tmp/rules/one.conf"
printf '[daemon]\nrules = %s/rules\n' "$tmp" > "$tmp/m.conf"
: > "$tmp/report-here.html"

# complete WORD... - the candidates for the last word (may be ""), sorted, on one line
complete_words() {
	bash -c '
		. contrib/completion/mailscreen.bash
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_mailscreen
		printf "%s\n" "${COMPREPLY[@]}"' complete "$@" 2>/dev/null | grep . | sort | tr '\n' ' ' | sed 's/ $//'
}

expect "a command from its first letters" "list" "$(complete_words "$MAILSCREEN" li)"
expect "the commands include status and report" "report reset" "$(complete_words "$MAILSCREEN" re | tr ' ' '\n' | grep -E '^(report|reset)$' | tr '\n' ' ' | sed 's/ $//')"
expect "list's words" "accounts allows blocks failures" "$(complete_words "$MAILSCREEN" list "")"
expect "one word of the list is enough" "" "$(complete_words "$MAILSCREEN" list blocks "")"
expect "reset's words" "all allows blocks failures" "$(complete_words "$MAILSCREEN" reset "")"
expect "report's options" "--html --json --mail --since" \
	"$(complete_words "$MAILSCREEN" report --  | tr ' ' '\n' | grep -E '^--(html|json|mail|since)$' | tr '\n' ' ' | sed 's/ $//')"
expect "a RULE argument: the rules of the configuration given with -c" "alpha beta-2" \
	"$(complete_words "$MAILSCREEN" -c "$tmp/m.conf" status "")"
expect "a FILE option's argument: a file name" "$tmp/report-here.html" \
	"$(complete_words "$MAILSCREEN" report --html "$tmp/report-")"
expect "an option that takes a value completes nothing" "" "$(complete_words "$MAILSCREEN" report --since "")"
exit $fail
