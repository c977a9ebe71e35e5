/* SPDX-License-Identifier: ISC */
/*
 * test_options_net.c - options_net.c: -l (listen addresses), --dns,
 * --ns-hosts, --to-ns, --dns-domains and --no-block-leaks.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
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

static void
test_listen(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "1234", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].family, 4);
	assert_int_equal(o.listen[0].port, 1234);
	assert_int_equal(o.listen[1].family, 6);
	assert_int_equal(o.listen[1].port, 1234);
	options_free(&o);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "0.0.0.0:5000", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 4);
	assert_memory_equal(o.listen[0].bytes, "\0\0\0\0", 4);
	assert_int_equal(o.listen[0].port, 5000);
	options_free(&o);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--listen", "[::1]:5001", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 6);
	assert_int_equal(o.listen[0].bytes[15], 1);
	assert_int_equal(o.listen[0].port, 5001);
	options_free(&o);

	/* Comma list, and repeated -l. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "127.0.0.2:1,[fd00::2]:2", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].bytes[3], 2);
	assert_int_equal(o.listen[0].port, 1);
	assert_int_equal(o.listen[1].bytes[0], 0xfd);
	assert_int_equal(o.listen[1].port, 2);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "[::]:7", "-l", "10.0.0.1:8", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	options_free(&o);

	/* A bare port fills in the family without an explicit address. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "10.0.0.1:8,9", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].port, 8);
	assert_int_equal(o.listen[1].family, 6);
	assert_int_equal(o.listen[1].port, 9);
	options_free(&o);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "1234", "--no-ipv6", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].port, 1234);
	options_free(&o);

	optfix_expect_usage("--no-ipv6 conflicts", "-r", "gw", "10/8", "-l",
	    "[::1]:1", "--no-ipv6", NULL);
	optfix_expect_usage("-l \"foo\": expected PORT", "-l", "foo", NULL);
	optfix_expect_usage("-l \"1.2.3.4:\": expected", "-l", "1.2.3.4:",
	    NULL);
	optfix_expect_usage("-l \"::1:5\": expected", "-l", "::1:5", NULL);
	optfix_expect_usage("-l \"300.1.1.1:5\": expected", "-l", "300.1.1.1:5",
	    NULL);
	optfix_expect_usage("-l \"-1\": expected", "-l", "-1", NULL);
	optfix_expect_usage("port must be 0-65535", "-l", "70000", NULL);
	optfix_expect_usage("a port without address was already given", "-l",
	    "5,6", NULL);
	optfix_expect_usage("-l: empty listen address", "-l", "5,", NULL);
}

/* The listen forms of sshuttle: an address without a port, [IPV6],
 * HOST:PORT, several addresses of one family sharing one port. */
static void
test_listen_forms(void **state)
{
	struct options o;
	char err[256];
	int i, j;

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "0.0.0.0", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_true(addr_is_any(&o.listen[0]));
	assert_int_equal(o.listen[0].port, 0);
	assert_int_equal(o.listen_port, 0);
	options_free(&o);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "[::1]", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 6);
	assert_int_equal(o.listen[0].port, 0);
	options_free(&o);

	/* Two IPv4 addresses (loopback and a bridge), one port. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "127.0.0.1,172.17.0.1:5000", "-l", "[::1]", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 3);
	assert_int_equal(o.listen[1].bytes[0], 172);
	assert_int_equal(o.listen_port, 5000);
	assert_int_equal(o.nnotices, 0);
	options_free(&o);

	/* Different ports: the first counts, and a notice says so. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "1.2.3.4:5", "-l", "1.2.3.5:6", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen_port, 5);
	assert_int_equal(o.nnotices, 1);
	assert_non_null(strstr(o.notices[0], "share one port"));
	options_free(&o);

	/* One host once. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "127.0.0.1:1,127.0.0.1", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	options_free(&o);

	/* HOST:PORT: every address of the name, resolved with the others;
	 * kept unresolved by the parser. */
	assert_int_equal(options_parse(&o, 7, (char *[]){ "cshuttle", "-r", "gw",
	    "10/8", "-l", "ns.test:4000", "-q", NULL }, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 0);
	assert_int_equal(o.nnames, 1);
	assert_int_equal(o.listen_port, 4000);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "ns.test:4000", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(o.listen[i].port, 4000);
	assert_int_not_equal(o.listen[0].family, o.listen[1].family);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "ns.test:0", "--no-ipv6", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 4);
	options_free(&o);
	/* After the addresses given, each host once. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-l", "web.test:7,198.51.100.9:7,10.0.0.1", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[1].bytes[0], 10);
	options_free(&o);

	optfix_expect_usage("-l: cannot resolve host \"nosuch.test\"", "-r", "gw",
	    "10/8", "-l", "nosuch.test:1", NULL);
	optfix_expect_usage("-l \"::1\": expected PORT, IPV4[:PORT], "
	    "[IPV6][:PORT] or HOST:PORT", "-l", "::1", NULL);
	optfix_expect_usage("-l \"web.test\": expected", "-l", "web.test", NULL);
	optfix_expect_usage("-l \"[web.test]:1\": expected", "-l", "[web.test]:1",
	    NULL);
	optfix_expect_usage("-l \"[::1]:x\": expected", "-l", "[::1]:x", NULL);
	optfix_expect_usage("-l \"1.2.3.4:70000\": port must be", "-l",
	    "1.2.3.4:70000", NULL);
	{
		char many[OPTIONS_MAX_LISTEN + 1][32];
		char *argv[2 * (OPTIONS_MAX_LISTEN + 1) + 5];
		int n = 0;

		argv[n++] = "cshuttle";
		argv[n++] = "-r";
		argv[n++] = "gw";
		argv[n++] = "10/8";
		for (j = 0; j <= OPTIONS_MAX_LISTEN; j++) {
			snprintf(many[j], sizeof(many[j]), "127.0.0.%d", j + 1);
			argv[n++] = "-l";
			argv[n++] = many[j];
		}
		argv[n] = NULL;
		assert_int_equal(options_parse(&o, n, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_USAGE);
		assert_non_null(strstr(err, "more than 8 listen addresses"));
		options_free(&o);
	}
}

static void
test_dns(void **state)
{
	struct options o;
	char err[512], a[64], many[512];
	int i;

	/* Off by default. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "0/0",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_false(o.dns || o.no_block_leaks);
	assert_int_equal(o.nns_hosts, 0);
	assert_int_equal(o.nto_ns, 0);
	assert_int_equal(o.ndns_domains, 0);
	assert_null(o.dns_domains);
	options_free(&o);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "0/0",
	    "--dns", "--no-block-leaks", "--to-ns",
	    "192.0.2.53,198.51.100.1:5353",
	    "--to-ns=[2001:db8::1]:54,2001:db8::2,[2001:db8::3]",
	    "--dns-domains", "Corp.Example.,lab_1.test",
	    "--dns-domains=corp.example", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.dns);
	assert_true(o.no_block_leaks);
	assert_int_equal(o.nto_ns, 5);
	assert_int_equal(o.to_ns[0].family, 4);
	assert_memory_equal(o.to_ns[0].bytes, "\xc0\x00\x02\x35", 4);
	assert_int_equal(o.to_ns[0].port, 53);
	assert_int_equal(o.to_ns[1].port, 5353);
	assert_int_equal(o.to_ns[2].family, 6);
	assert_string_equal(inet_ntop(AF_INET6, o.to_ns[2].bytes, a, sizeof(a)),
	    "2001:db8::1");
	assert_int_equal(o.to_ns[2].port, 54);
	assert_int_equal(o.to_ns[3].family, 6);
	assert_int_equal(o.to_ns[3].port, 53);
	assert_int_equal(o.to_ns[4].bytes[15], 3);
	assert_int_equal(o.to_ns[4].port, 53);
	/* Lower case, no final dot, each once. */
	assert_int_equal(o.ndns_domains, 2);
	assert_string_equal(o.dns_domains[0], "corp.example");
	assert_string_equal(o.dns_domains[1], "lab_1.test");
	options_free(&o);
	assert_null(o.dns_domains);

	/* --ns-hosts: addresses and names (every address), duplicates once;
	 * it captures on its own, so --to-ns and --dns-domains work with it. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "0/0",
	    "--ns-hosts", "10.0.0.53,ns.test", "--ns-hosts=fd00::53,10.0.0.53",
	    "--to-ns", "192.0.2.1", "--dns-domains", "corp", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_false(o.dns);
	assert_int_equal(o.nns_hosts, 4);
	assert_int_equal(o.ns_hosts[0].family, 4);
	assert_int_equal(o.ns_hosts[0].bytes[3], 53);
	assert_int_equal(o.ns_hosts[0].port, 53);
	assert_string_equal(inet_ntop(AF_INET, o.ns_hosts[1].bytes, a, sizeof(a)),
	    "198.51.100.53");
	assert_int_equal(o.ns_hosts[2].family, 6);
	assert_string_equal(inet_ntop(AF_INET6, o.ns_hosts[2].bytes, a, sizeof(a)),
	    "2001:db8::53");
	assert_string_equal(inet_ntop(AF_INET6, o.ns_hosts[3].bytes, a, sizeof(a)),
	    "fd00::53");
	assert_int_equal(o.nto_ns, 1);
	assert_int_equal(o.ndns_domains, 1);
	options_free(&o);

	/* From an @file and $CSHUTTLE_ARGS like every option. */
	setenv(OPTIONS_ENV, "--dns --dns-domains 'a.example,b.example'", 1);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "0/0",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.dns);
	assert_int_equal(o.ndns_domains, 2);
	options_free(&o);
	unsetenv(OPTIONS_ENV);

	/* Eight servers are fine, nine are not. */
	many[0] = '\0';
	for (i = 1; i <= 8; i++) {
		snprintf(a, sizeof(a), "%s192.0.2.%d", i > 1 ? "," : "", i);
		strcat(many, a);
	}
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "0/0",
	    "--dns", "--to-ns", many, NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nto_ns, 8);
	options_free(&o);
	optfix_expect_usage("--to-ns: more than 8 servers", "-r", "gw", "0/0",
	    "--dns", "--to-ns", many, "--to-ns", "192.0.2.9", NULL);
	optfix_expect_usage("--ns-hosts: more than 8 servers", "-r", "gw",
	    "0/0", "--ns-hosts", many, "--ns-hosts", "ns.test", NULL);

	/* Only meaningful when DNS is captured. */
	optfix_expect_usage("--to-ns needs --dns or --ns-hosts", "-r", "gw",
	    "0/0", "--to-ns", "192.0.2.1", NULL);
	optfix_expect_usage("--dns-domains needs --dns or --ns-hosts", "-r",
	    "gw", "0/0", "--dns-domains", "corp", NULL);

	optfix_expect_usage("--to-ns \"ns.test\": expected IPV4[:PORT] or "
	    "[IPV6][:PORT]", "--dns", "--to-ns", "ns.test", NULL);
	optfix_expect_usage("--to-ns \"1.2.3.4:\": expected", "--to-ns",
	    "1.2.3.4:", NULL);
	optfix_expect_usage("--to-ns \"[::1\": expected", "--to-ns", "[::1",
	    NULL);
	optfix_expect_usage("--to-ns \"[::1]5\": expected", "--to-ns", "[::1]5",
	    NULL);
	optfix_expect_usage("--to-ns \"[1.2.3.4]:53\": expected", "--to-ns",
	    "[1.2.3.4]:53", NULL);
	optfix_expect_usage("--to-ns \"1.2.3.4:0\": port must be 1-65535",
	    "--to-ns", "1.2.3.4:0", NULL);
	optfix_expect_usage("--to-ns \"1.2.3.4:65536\": port must be 1-65535",
	    "--to-ns", "1.2.3.4:65536", NULL);
	optfix_expect_usage("--to-ns \"1.2.3.4:5x\": port must be", "--to-ns",
	    "1.2.3.4:5x", NULL);
	optfix_expect_usage("--to-ns \"1.2.3.4,\": empty item", "--to-ns",
	    "1.2.3.4,", NULL);
	optfix_expect_usage("--ns-hosts \",1.2.3.4\": empty item", "--ns-hosts",
	    ",1.2.3.4", NULL);
	optfix_expect_usage("--ns-hosts: cannot resolve host \"nx.invalid\": "
	    "Domain name not found", "-r", "gw", "0/0", "--ns-hosts",
	    "1.2.3.4,nx.invalid", NULL);
	optfix_expect_usage("option --ns-hosts needs an argument", "--ns-hosts",
	    NULL);
	optfix_expect_usage("option --dns takes no argument", "--dns=1", NULL);
	optfix_expect_usage("option --no-block-leaks takes no argument",
	    "--no-block-leaks=yes", NULL);

	optfix_expect_usage("--dns-domains \"a..b\": empty label",
	    "--dns-domains", "a..b", NULL);
	optfix_expect_usage("--dns-domains \".\": empty domain",
	    "--dns-domains", ".", NULL);
	optfix_expect_usage("--dns-domains \"a b\": only letters, digits",
	    "--dns-domains", "a b", NULL);
	optfix_expect_usage("--dns-domains \"*.corp\": only letters",
	    "--dns-domains", "*.corp", NULL);
	optfix_expect_usage("--dns-domains \"corp,\": empty item",
	    "--dns-domains", "corp,", NULL);
	memset(many, 'a', 64);
	strcpy(many + 64, ".example");
	optfix_expect_usage("a label is longer than 63 characters",
	    "--dns-domains", many, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listen_forms, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_listen, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_dns, optfix_setup,
		    optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
