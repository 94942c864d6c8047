#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make-country-mmdb.pl - writes a small MaxMind DB country database for
# the tests, in the layout of GeoLite2-Country (country.iso_code), with
# Debian's MaxMind DB writer (libmaxmind-db-writer-perl). Never a
# downloaded database: the tests place documentation ranges in countries
# of their choosing.
#
#   make-country-mmdb.pl OUT.mmdb [RANGE=CC | RANGE=@CC ...]
#   make-country-mmdb.pl OUT.mmdb --random N
#
# RANGE=CC sets country.iso_code (and registered_country); RANGE=@CC sets
# only registered_country.iso_code (the fallback readers use). Without
# ranges: 203.0.113.0/24 CN, 198.51.100.0/24 DE, 2001:db8:1::/48 CN,
# 2001:db8:2::/48 DE, 192.0.2.0/25 only registered in US; the rest of the
# test ranges (192.0.2.128/25, ...) are not in it. --random N adds N
# random IPv4 networks (/12 to /24, random countries, the same every run)
# to those: a database as deep as a real one, for the benchmark.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: $0 OUT.mmdb [RANGE=CC | RANGE=\@CC ... | --random N]\n";
my @random;
if (@ARGV == 2 && $ARGV[0] eq '--random') {
	my @cc = qw(CN DE US RU BR IN FR GB NL JP KR VN ID TR IT ES PL UA);
	srand(1);
	for (1 .. $ARGV[1]) {
		my $len = 12 + int(rand(13));
		my $ip = int(rand(2**32)) & ~((1 << (32 - $len)) - 1) & 0xffffffff;
		my @o = (($ip >> 24) & 255, ($ip >> 16) & 255, ($ip >> 8) & 255, $ip & 255);
		next if $o[0] == 0 || $o[0] == 127 || $o[0] >= 224;
		push @random, join('.', @o) . "/$len=" . $cc[int(rand(@cc))];
	}
	@ARGV = ();
}
my @map = @ARGV ? @ARGV : ('203.0.113.0/24=CN', '198.51.100.0/24=DE', '2001:db8:1::/48=CN',
			   '2001:db8:2::/48=DE', '192.0.2.0/25=@US');
my %types = (
	country => 'map',
	registered_country => 'map',
	iso_code => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version => 6,
	record_size => 24,
	database_type => 'Test-Country',
	languages => ['en'],
	description => { en => 'mailscreen test countries' },
	map_key_type_callback => sub { $types{ $_[0] } },
	remove_reserved_networks => 0,
	# no ::ffff:0:0/96 alias (real databases have one): the reader must map
	# IPv4-mapped addresses itself
	alias_ipv6_to_ipv4 => 0,
);
for my $m (@random, @map) {
	my ($range, $cc) = split /=/, $m, 2;
	die "$0: '$m' is not RANGE=CC\n" unless defined $cc && $cc =~ /^\@?[A-Z]{2}$/;
	my $data = $cc =~ s/^\@// ? { registered_country => { iso_code => $cc } }
				  : { country => { iso_code => $cc }, registered_country => { iso_code => $cc } };
	$tree->insert_network($range, $data);
}
open my $fh, '>:raw', "$out.tmp" or die "$0: $out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$0: $out.tmp: $!\n";
rename "$out.tmp", $out or die "$0: $out: $!\n";
