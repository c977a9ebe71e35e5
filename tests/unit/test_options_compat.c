/* SPDX-License-Identifier: ISC */
/*
 * test_options_compat.c - every option of sshuttle 1.3 gets an answer
 * (options_compat.c and the sshuttle names in options.c's table): the
 * same meaning, a notice, or an error that names it as sshuttle's and
 * says what to use instead; never the generic "unknown option".  And an
 * ambiguous prefix lists its candidates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitcode.h"
#include "options.h"
#include "optfix.h"

/* sshuttle 1.3's options and what cshuttle answers. */
enum compat_answer {
	COMPAT_SAME,		/* accepted, as cshuttle's own */
	COMPAT_NOTICE,		/* accepted, with a notice */
	COMPAT_REFUSED,		/* a usage error naming sshuttle */
};

static const struct {
	const char		*word;		/* with its argument */
	enum compat_answer	 answer;
	const char		*want;		/* in the error or the notice */
} compat_options[] = {
	{ "--listen=127.0.0.1:0",	COMPAT_SAME,	NULL },
	{ "-l0",			COMPAT_SAME,	NULL },
	{ "--dns",			COMPAT_SAME,	NULL },
	{ "--ns-hosts=192.0.2.53",	COMPAT_SAME,	NULL },
	{ "--to-ns=192.0.2.53",		COMPAT_SAME,	NULL },
	{ "--method=auto",		COMPAT_SAME,	NULL },
	{ "--method=nft",		COMPAT_SAME,	NULL },
	{ "--remote=gw",		COMPAT_SAME,	NULL },
	{ "--exclude=10.1/16",		COMPAT_SAME,	NULL },
	{ "--verbose",			COMPAT_SAME,	NULL },
	{ "--ssh-cmd=ssh",		COMPAT_SAME,	NULL },
	{ "--no-cmd-delimiter",		COMPAT_SAME,	NULL },
	{ "--disable-ipv6",		COMPAT_SAME,	NULL },
	{ "--daemon",			COMPAT_SAME,	NULL },
	{ "--syslog",			COMPAT_SAME,	NULL },
	{ "--pidfile=/run/x.pid",	COMPAT_SAME,	NULL },
	{ "--user=root",		COMPAT_SAME,	NULL },
	{ "--group=root",		COMPAT_SAME,	NULL },
	{ "--python=/usr/bin/python3",	COMPAT_NOTICE,	"--python" },
	{ "--no-sudo-pythonpath",	COMPAT_NOTICE,	"--no-sudo-pythonpath" },
	{ "--no-latency-control",	COMPAT_NOTICE,	"--no-latency-control" },
	{ "--latency-buffer-size=65536", COMPAT_NOTICE,	"--latency-buffer-size" },
	{ "--wrap=100",			COMPAT_NOTICE,	"--wrap" },
	{ "-N",				COMPAT_SAME,	NULL },
	{ "--auto-nets",		COMPAT_SAME,	NULL },
	{ "-H",				COMPAT_SAME,	NULL },
	{ "--auto-hosts",		COMPAT_SAME,	NULL },
	{ "--seed-hosts=a,b",		COMPAT_SAME,	NULL },
	{ "-t0x01",			COMPAT_SAME,	NULL },
	{ "--tmark=0x01",		COMPAT_SAME,	NULL },
	{ "--namespace=vpn",		COMPAT_SAME,	NULL },
	{ "--namespace-pid=42",		COMPAT_SAME,	NULL },
	{ "--remote-shell=cmd",		COMPAT_REFUSED,	"--remote-shell (sshuttle's" },
	{ "--hostwatch",		COMPAT_REFUSED,	"--hostwatch is sshuttle's" },
	{ "--method=nat",		COMPAT_REFUSED,	"--method nft" },
	{ "--method=tproxy",		COMPAT_SAME,	NULL },
	{ "--method=pf",		COMPAT_REFUSED,	"--method nft" },
	{ "--method=ipfw",		COMPAT_REFUSED,	"--method nft" },
	{ "--method=windivert",		COMPAT_REFUSED,	"--method nft" },
	{ "--method=bogus",		COMPAT_REFUSED,	"expected auto or nft" },
	{ "--sudoers-user=bob",		COMPAT_REFUSED,	"--sudoers-no-modify" },
};

static void
test_each_option(void **state)
{
	struct options o;
	char err[512];
	size_t i;
	int rc, k;
	bool seen;

	for (i = 0; i < sizeof(compat_options) / sizeof(compat_options[0]); i++) {
		/* --dns: --to-ns needs it. */
		rc = optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
		    "--dns", compat_options[i].word, NULL);
		switch (compat_options[i].answer) {
		case COMPAT_SAME:
			if (rc != CSHUTTLE_EXIT_OK)
				fail_msg("%s: %s", compat_options[i].word, err);
			assert_int_equal(o.nnotices, 0);
			break;
		case COMPAT_NOTICE:
			if (rc != CSHUTTLE_EXIT_OK)
				fail_msg("%s: %s", compat_options[i].word, err);
			assert_int_equal(o.nnotices, 1);
			assert_non_null(strstr(o.notices[0], "sshuttle's"));
			if (strstr(o.notices[0], compat_options[i].want) == NULL)
				fail_msg("%s: notice \"%s\"", compat_options[i].word,
				    o.notices[0]);
			break;
		case COMPAT_REFUSED:
			if (rc != CSHUTTLE_EXIT_USAGE)
				fail_msg("%s: accepted", compat_options[i].word);
			if (strstr(err, compat_options[i].want) == NULL ||
			    strstr(err, "unknown") != NULL)
				fail_msg("%s: \"%s\"", compat_options[i].word, err);
			break;
		}
		options_free(&o);
	}

	/* The same meaning. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--namespace", "vpn", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.netns, "/run/netns/vpn");
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--namespace-pid", "42", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.netns, "/proc/42/ns/net");
	options_free(&o);
	optfix_expect_usage("--namespace and --namespace-pid name one", "-r",
	    "gw", "10/8", "--namespace=a", "--namespace-pid=1", NULL);
	optfix_expect_usage("--namespace ../x: expected the name", "-r", "gw",
	    "10/8", "--namespace=../x", NULL);
	optfix_expect_usage("--namespace-pid 1x: expected a process id", "-r",
	    "gw", "10/8", "--namespace-pid=1x", NULL);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--disable-ipv6", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.no_ipv6);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-V", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.show_version);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-e", "tsh ssh", "--no-cmd-delimiter", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.no_cmd_delimiter);
	options_free(&o);
	/* -H: the DNS capture answers for the names when there is one. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-H",
	    "--dns", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-H",
	    "--ns-hosts", "192.0.2.53", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	options_free(&o);
	/* Without the DNS capture, the helper writes /etc/hosts. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-H",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	assert_false(o.dns);
	options_free(&o);
	/* -N alone is enough: the remote names the networks. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "-N", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.auto_nets);
	options_free(&o);
	optfix_expect_usage("no subnets to forward", "-r", "gw", NULL);
	/* Needs neither -r nor subnets, as --sudoers. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--sudoers-no-modify",
	    "--sudoers-user", "%admins", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.sudoers_print);
	assert_string_equal(o.sudoers_user, "%admins");
	options_free(&o);

	/* A notice is kept once, however often the options come. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--no-latency-control", "--latency-buffer-size", "1",
	    "--python", "p", "--no-latency-control", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nnotices, 2);
	for (k = 0, seen = false; k < o.nnotices; k++)
		seen |= strstr(o.notices[k], "--python") != NULL;
	assert_true(seen);
	options_free(&o);
}

/* -t/--tmark: the mark (and routing table) of carried UDP, in hex as
 * sshuttle writes it or in decimal; never one the kernel or cshuttle
 * keeps for itself, never without UDP. */
static void
test_tmark(void **state)
{
	static const struct {
		const char	*arg;
		uint32_t	 mark;
	} good[] = {
		{ "0x01", 1 }, { "0X1f", 0x1f }, { "0xffffffff", 0xffffffffU },
		{ "100", 100 }, { "0x00000100", 0x100 }, { "252", 252 },
		{ "256", 256 }, { "0x63740001", 0x63740001 },
		{ "0x63770000", 0x63770000 },
	};
	static const struct {
		const char	*arg;
		const char	*want;
	} bad[] = {
		{ "0", "expected a mark" },
		{ "0x0", "expected a mark" },
		{ "0x", "expected a mark" },
		{ "x1", "expected a mark" },
		{ "-1", "expected a mark" },
		{ " 1", "expected a mark" },
		{ "0x1g", "expected a mark" },
		{ "1a", "expected a mark" },
		{ "0x100000000", "expected a mark" },
		{ "4294967296", "expected a mark" },
		{ "253", "253, 254 and 255" },
		{ "0xfe", "253, 254 and 255" },
		{ "255", "253, 254 and 255" },
		{ "0x63730001", "cshuttle's own marks" },
		{ "0x6375300c", "cshuttle's own marks" },
		{ "0x6376ffff", "cshuttle's own marks" },
	};
	struct options o;
	char err[512], word[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
		    "-t", good[i].arg, NULL) != CSHUTTLE_EXIT_OK)
			fail_msg("-t %s: %s", good[i].arg, err);
		assert_int_equal(o.tmark, good[i].mark);
		options_free(&o);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(word, sizeof(word), "--tmark=%s", bad[i].arg);
		optfix_expect_usage(bad[i].want, "-r", "gw", "10/8", word,
		    NULL);
	}
	/* none: the helper's own mark */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.tmark, 0);
	options_free(&o);
	/* the last one given counts */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-t", "0x10", "--tmark", "0x20", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.tmark, 0x20);
	options_free(&o);
	optfix_expect_usage("--tmark needs UDP", "-r", "gw", "10/8", "-t",
	    "0x01", "--no-udp", NULL);
}

/* --seed-hosts: names and addresses, separated as sshuttle separates
 * them; they imply -H, as in sshuttle. */
static void
test_seed_hosts(void **state)
{
	struct options o;
	char err[512];

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--seed-hosts", "Web.Lab.,10.0.0.1 fd00::0:1\tweb.lab", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	assert_int_equal(o.nseed_hosts, 3);
	assert_string_equal(o.seed_hosts[0], "web.lab");
	assert_string_equal(o.seed_hosts[1], "10.0.0.1");
	assert_string_equal(o.seed_hosts[2], "fd00::1");
	options_free(&o);
	/* Given twice: both lists. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--seed-hosts=a", "--seed-hosts=b", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nseed_hosts, 2);
	options_free(&o);
	/* Without it, -H stays off. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_false(o.auto_hosts);
	assert_int_equal(o.nseed_hosts, 0);
	options_free(&o);
	optfix_expect_usage("--seed-hosts \"b@d\": expected a host name",
	    "-r", "gw", "10/8", "--seed-hosts=ok,b@d", NULL);
	optfix_expect_usage("--seed-hosts \"a..b\": expected a host name", "-r",
	    "gw", "10/8", "--seed-hosts=a..b", NULL);
	optfix_expect_usage("--seed-hosts \"a,,b\": empty item", "-r", "gw",
	    "10/8", "--seed-hosts=a,,b", NULL);
	optfix_expect_usage("--seed-hosts: missing value", "-r", "gw", "10/8",
	    "--seed-hosts= ", NULL);
}

/* sshuttle's habit of bundled short options: -vNHr works, with the DNS
 * capture or without it. */
static void
test_bundled(void **state)
{
	struct options o;
	char err[512];

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-vNHr", "gw", "--dns",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_nets);
	assert_true(o.auto_hosts);
	assert_int_equal(o.verbose, 1);
	assert_string_equal(o.remote, "gw");
	options_free(&o);
	/* and without it (the hosts file) */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-vNHr", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_nets);
	assert_true(o.auto_hosts);
	assert_string_equal(o.remote, "gw");
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-vHr", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	options_free(&o);
}

/* An ambiguous prefix lists every candidate; one that several names of
 * the same option share is no ambiguity. */
static void
test_ambiguous(void **state)
{
	struct options o;
	char err[512];

	optfix_expect_usage("ambiguous option --no: --no-ipv6, --no-block-leaks, "
	    "--no-reconnect", "-r", "gw", "10/8", "--no", NULL);
	optfix_expect_usage("ambiguous option --namesp: --namespace, "
	    "--namespace-pid", "-r", "gw", "10/8", "--namesp=x", NULL);
	optfix_expect_usage("ambiguous option --al: --alive-interval, "
	    "--alive-timeout", "-r", "gw", "10/8", "--al=1", NULL);
	optfix_expect_usage("unknown option --bogus", "-r", "gw", "10/8",
	    "--bogus", NULL);
	/* A unique prefix still works. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--no-bl", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.no_block_leaks);
	options_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_each_option, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_seed_hosts, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_tmark, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_bundled, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous, optfix_setup,
		    optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
