# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_dry_run.sh - a dry run logs its decisions and never touches nftables.
#
# Twice, with `run --dry-run` and with `dry_run = yes` in [daemon]: the
# daemon says at start that nftables stays untouched, logs the block of
# 203.0.113.5 after 5 failures, marked "(dry run)", and after it has
# stopped (so nothing is left pending) the namespace's ruleset is empty -
# no table at all - and 203.0.113.5 still connects to port 25.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25

dry_case() {
	log_mark
	sasl_fail $ATTACKER 5
	wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 5 auth-fail within 10m; line: .* \(dry run\)$"
	ok "the decision is logged, marked (dry run)"
	ms_stop
	assert_eq "nft list ruleset" "" "$(nft list ruleset)"
	expect_connect $ATTACKER $SERVER4 25
}

say "run --dry-run"
ms_config
ms_start --dry-run
log_has '^mailscreen: started with .*\(dry run: nftables untouched\)' ||
	fail "the start message does not say the run is dry"
dry_case

say "dry_run = yes in the configuration"
ms_config "[daemon]
dry_run = yes"
ms_start
log_has '^mailscreen: started with .*\(dry run: nftables untouched\)' ||
	fail "the start message does not say the run is dry"
dry_case
