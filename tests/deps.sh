#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian packages named in $DEBS that are not installed yet.
set -eu
missing=""
for p in $DEBS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run the same make target as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fail2ban, sshguard, postfix and dovecot ship services; never let a package start them here
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# postfix (the end-to-end test runs it in private namespaces with its own
# main.cf): no mail system is configured on this machine
case " $missing " in
*" postfix "*) echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections ;;
esac
apt-get install -y -qq --no-install-recommends $missing >/dev/null
