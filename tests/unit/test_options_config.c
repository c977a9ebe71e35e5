/* SPDX-License-Identifier: ISC */
/*
 * test_options_config.c - options_config.c: what every key of the
 * configuration file (--config FILE) means, every error in a value with
 * its line number, how the command line overrides the file, relative
 * paths, reading the file again, options_parse_text(), and the shipped
 * example profile.
 *
 * The file's syntax has test_config.c; optfix.h is the fixture.
 */
#include <sys/socket.h>
#include <sys/stat.h>

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

/* Every key, with values other than the defaults. */
static void
test_every_key(void **state)
{
	struct options o;
	char err[512], want[256], a[64];

	optfix_write_file("excl", "10.3.0.0/16 # from the exclude file\n");
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote = alice@gw:2222\n"
	    "subnet = 10/8\n"
	    "subnets = 192.168.0.0/16 fd00::/8,172.16/12\n"
	    "subnet web.test:443\n"
	    "exclude = 10.1/16 10.2.0.0/16\n"
	    "exclude-from = excl\n"
	    "listen = 127.0.0.2:5000 [::1]:5001\n"
	    "ssh-cmd = ssh -F '/my cfg' -o BatchMode=yes\n"
	    "ssh-config = ssh_config\n"
	    "dns = yes\n"
	    "ns-hosts = 10.0.0.53,ns.test\n"
	    "to-ns = 192.0.2.53 [2001:db8::1]:54\n"
	    "dns-domains = Corp.Example., lab.test,,other.test\n"
	    "block-leaks = off\n"
	    "udp = off\n"
	    "udp-timeout = 20\n"
	    "max-udp-flows = 300\n"
	    "ipv6 = true\n"
	    "stub-cache = on\n"
	    "remote-tmpdir = ~/my tmp\n"
	    "reconnect = no\n"
	    "alive-interval = 2\n"
	    "alive-timeout = 7\n"
	    "probe-timeout = 0.5\n"
	    "daemon = 1\n"
	    "pidfile = run/cs.pid\n"
	    "syslog = TRUE\n"
	    "verbose = 2\n"
	    "quiet = false\n", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(err, "");
	assert_string_equal(o.config, optfix_conf);
	assert_string_equal(o.remote, "alice@gw:2222");
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 192.168.0.0/16 "
	    "fd00::/8 172.16.0.0/12 198.51.100.9/32:443 !10.1.0.0/16 "
	    "!10.2.0.0/16 !10.3.0.0/16");
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].family, 4);
	assert_memory_equal(o.listen[0].bytes, "\x7f\0\0\x02", 4);
	assert_int_equal(o.listen[0].port, 5000);
	assert_int_equal(o.listen[1].family, 6);
	assert_int_equal(o.listen[1].port, 5001);
	/* The rest of the line, inner spaces and quotes as written. */
	assert_string_equal(o.ssh_cmd, "ssh -F '/my cfg' -o BatchMode=yes");
	snprintf(want, sizeof(want), "%s/ssh_config", optfix_tmpdir);
	assert_string_equal(o.ssh_config, want);
	assert_true(o.dns);
	assert_int_equal(o.nns_hosts, 2);
	assert_string_equal(inet_ntop(AF_INET, o.ns_hosts[1].bytes, a, sizeof(a)),
	    "198.51.100.53");
	assert_int_equal(o.nto_ns, 2);
	assert_int_equal(o.to_ns[1].family, 6);
	assert_int_equal(o.to_ns[1].port, 54);
	assert_int_equal(o.ndns_domains, 3);
	assert_string_equal(o.dns_domains[0], "corp.example");
	assert_string_equal(o.dns_domains[2], "other.test");
	assert_true(o.no_block_leaks);
	assert_true(o.no_udp);
	assert_int_equal(o.udp_timeout_s, 20);
	assert_int_equal(o.max_udp_flows, 300);
	assert_false(o.no_ipv6);
	assert_true(o.stub_cache);
	assert_string_equal(o.remote_tmpdir, "~/my tmp");
	assert_true(o.no_reconnect);
	assert_int_equal(o.alive_interval_ms, 2000);
	assert_int_equal(o.alive_timeout_ms, 7000);
	assert_int_equal(o.probe_timeout_ms, 500);
	assert_true(o.daemon);
	snprintf(want, sizeof(want), "%s/run/cs.pid", optfix_tmpdir);
	assert_string_equal(o.pidfile, want);
	assert_true(o.syslog);
	assert_int_equal(o.verbose, 2);
	assert_false(o.quiet);
	assert_false(o.firewall || o.show_help || o.show_version);
	options_free(&o);
	assert_null(o.config);

	/* The no-* spellings, a boolean key alone, the opposite values. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\n"
	    "subnets 0/0\n"
	    "no-block-leaks = yes\n"
	    "no-udp = no\n"
	    "no-ipv6\n"
	    "no-reconnect = On\n"
	    "daemon\n"
	    "syslog = off\n"
	    "stub-cache = 0\n"
	    "dns = false\n"
	    "quiet\n"
	    "verbose = 0\n", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.no_block_leaks);
	assert_false(o.no_udp);
	assert_true(o.no_ipv6);
	assert_true(o.no_reconnect);
	assert_true(o.daemon);
	assert_false(o.syslog || o.stub_cache || o.dns);
	assert_true(o.quiet);
	assert_int_equal(o.verbose, 0);
	/* No IPv6 listener without IPv6, as with --no-ipv6. */
	assert_int_equal(o.nlisten, 1);
	options_free(&o);

	/* tmark: as -t/--tmark, checked the same; the command line's
	 * wins; UDP off refuses it. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\ntmark = 0x10\n", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.tmark, 0x10);
	options_free(&o);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\ntmark = 300\n", "-t", "0x20", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(o.tmark, 0x20);
	options_free(&o);
	optfix_expect_error("remote gw\nsubnet 10/8\ntmark = 254\n", 3,
	    "-t/--tmark 254: the mark is also the number of the routing "
	    "table, and tables 253, 254 and 255", NULL);
	optfix_expect_error("remote gw\nsubnet 10/8\ntmark = 0x\n", 3,
	    "-t/--tmark \"0x\": expected a mark", NULL);
	optfix_expect_error("remote gw\nsubnet 10/8\ntmark = 0x10\nudp = off\n",
	    -1, "--tmark needs UDP", NULL);

	/* auto-nets: no subnet needed. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nauto-nets = yes\n", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_nets);
	assert_int_equal(o.subnets.n, 0);
	options_free(&o);

	/* auto-hosts, with the DNS capture it needs. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\ndns = yes\nauto-hosts = yes\n", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	options_free(&o);

	/* seed-hosts: a list, as the option's; it implies auto-hosts. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\nseed-hosts = a.lab, B.lab. 10.0.0.9\n"
	    "seed-hosts = c\n", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.auto_hosts);
	assert_int_equal(o.nseed_hosts, 4);
	assert_string_equal(o.seed_hosts[1], "b.lab");
	assert_string_equal(o.seed_hosts[2], "10.0.0.9");
	options_free(&o);
	/* The command line's list replaces the file's. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\nseed-hosts = a.lab\n", "--seed-hosts",
	    "z", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nseed_hosts, 1);
	assert_string_equal(o.seed_hosts[0], "z");
	options_free(&o);

	/* namespace and namespace-pid: as the options, read before main()
	 * enters the namespace. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\nnamespace = vpn\n", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.netns, "/run/netns/vpn");
	options_free(&o);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\nnamespace-pid = 42\n", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.netns, "/proc/42/ns/net");
	options_free(&o);
	/* Either option replaces the file's key, whichever it is. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\nnamespace = vpn\n", "--namespace-pid",
	    "7", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.netns, "/proc/7/ns/net");
	options_free(&o);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 10/8\nnamespace-pid = 42\n", "--namespace",
	    "other", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.netns, "/run/netns/other");
	options_free(&o);

	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 0/0\n"
	    "no-block-leaks = no\nno-ipv6 = false\nno-reconnect = 0\n"
	    "block-leaks = yes\nipv6 = yes\nreconnect = yes\ndaemon = no\n",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_false(o.no_block_leaks || o.no_ipv6 || o.no_reconnect ||
	    o.daemon);
	assert_int_equal(o.alive_interval_ms, 5000);
	assert_int_equal(o.alive_timeout_ms, 15000);
	assert_null(o.pidfile);
	options_free(&o);

	/* Each value of a boolean, both ways. */
	{
		static const char *const t[] = { "true", "yes", "on", "1",
		    "True", "YES" };
		static const char *const f[] = { "false", "no", "off", "0",
		    "FALSE", "No" };
		char text[128];
		size_t i;

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			snprintf(text, sizeof(text), "remote gw\nsubnet 0/0\n"
			    "syslog = %s\nipv6 = %s\n", t[i], f[i]);
			assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
			    text, NULL), CSHUTTLE_EXIT_OK);
			assert_true(o.syslog);
			assert_true(o.no_ipv6);
			options_free(&o);
		}
	}
}

/* Every error names the file and the line. */
static void
test_errors(void **state)
{
	optfix_expect_error("remote gw\n\nbogus = 1\n", 3,
	    "unknown key \"bogus\"", NULL);
	optfix_expect_error("Remote = gw\n", 1, "unknown key \"Remote\"", NULL);
	optfix_expect_error("--remote = gw\n", 1, "unknown key \"--remote\"",
	    NULL);
	optfix_expect_error("config = /etc/x.conf\n", 1,
	    "unknown key \"config\" (command line only)", NULL);
	optfix_expect_error("# x\nfirewall\n", 2, "unknown key \"firewall\" "
	    "(command line only)", NULL);
	optfix_expect_error("help = yes\n", 1, "unknown key \"help\"", NULL);
	optfix_expect_error("version\n", 1, "unknown key \"version\"", NULL);
	optfix_expect_error("x = 1\n", 1, "unknown key \"x\"", NULL);
	optfix_expect_error("subnet: 10/8\n", 1, "unknown key \"subnet:\"",
	    NULL);

	/* Missing values: a key alone is only a boolean's "true". */
	optfix_expect_error("remote\n", 1, "remote: missing value", NULL);
	optfix_expect_error("remote = \n", 1, "remote: missing value", NULL);
	optfix_expect_error("subnet\n", 1, "subnet: missing value", NULL);
	optfix_expect_error("subnets = , ,\n", 1, "subnets: missing value",
	    NULL);
	optfix_expect_error("verbose\n", 1, "verbose: missing value", NULL);
	optfix_expect_error("pidfile =   # none\n", 1, "pidfile: missing value",
	    NULL);
	optfix_expect_error("daemon =\n", 1, "daemon: missing value", NULL);
	optfix_expect_error("alive-interval\n", 1,
	    "alive-interval: missing value", NULL);
	optfix_expect_error(" = gw\n", 1, "missing key before '='", NULL);

	/* Bad values, through the command line's own checks. */
	optfix_expect_error("daemon = maybe\n", 1,
	    "daemon \"maybe\": expected true or false (yes/no, on/off, 1/0)",
	    NULL);
	optfix_expect_error("ipv6 = 2\n", 1,
	    "ipv6 \"2\": expected true or false", NULL);
	optfix_expect_error("no-block-leaks = yes please\n", 1,
	    "no-block-leaks \"yes please\": expected", NULL);
	optfix_expect_error("verbose = 4\n", 1,
	    "verbose \"4\": expected 0, 1, 2 or 3", NULL);
	optfix_expect_error("verbose = -1\n", 1, "verbose \"-1\": expected",
	    NULL);
	optfix_expect_error("verbose = 01\n", 1, "verbose \"01\": expected",
	    NULL);
	optfix_expect_error("alive-interval = 0\n", 1,
	    "--alive-interval \"0\": expected whole seconds, 1-3600", NULL);
	optfix_expect_error("\nalive-timeout = 3601\n", 2,
	    "--alive-timeout \"3601\": expected whole seconds, 1-3600", NULL);
	optfix_expect_error("alive-timeout = 10 s\n", 1,
	    "--alive-timeout \"10 s\"", NULL);
	optfix_expect_error("remote = -oProxyCommand=x\n", 1,
	    "-r \"-oProxyCommand=x\": must not start with '-'", NULL);
	optfix_expect_error("remote = a b\n", 1, "-r: unexpected space", NULL);
	optfix_expect_error("remote gw\nsubnet 10/8 10.0.0.0/33\n", 2,
	    "bad subnet \"10.0.0.0/33\": prefix length must be 0-32", NULL);
	optfix_expect_error("exclude = 1.2.3.4:99999\n", 1, "bad subnet "
	    "\"1.2.3.4:99999\"", NULL);
	optfix_expect_error("subnet = nx.invalid\n", 1, "cannot resolve host "
	    "\"nx.invalid\": Domain name not found", "-r", "gw", NULL);
	optfix_expect_error("listen = foo\n", 1, "-l \"foo\": expected PORT",
	    NULL);
	/* Several addresses of one family are allowed now: the second line's
	 * error is a bad port. */
	optfix_expect_error("listen = 1.2.3.4:5\nlisten = 1.2.3.5:70000\n", 2, "-l "
	    "\"1.2.3.5:70000\": port must be 0-65535", NULL);
	optfix_expect_error("remote-tmpdir = tmp\n", 1,
	    "--remote-tmpdir \"tmp\": must be an absolute path", NULL);
	optfix_expect_error("to-ns = 1.2.3.4:0\n", 1,
	    "--to-ns \"1.2.3.4:0\": port must be 1-65535", NULL);
	optfix_expect_error("ns-hosts = 1.2.3.4, nx.invalid\n", 1,
	    "--ns-hosts: cannot resolve host \"nx.invalid\"", "-r", "gw", "0/0",
	    NULL);
	optfix_expect_error("dns-domains = a..b\n", 1,
	    "--dns-domains \"a..b\": empty label", NULL);
	optfix_expect_error("seed-hosts = a b@d\n", 1,
	    "--seed-hosts \"b@d\": expected a host name or an IP address", NULL);
	optfix_expect_error("namespace = ../x\n", 1,
	    "--namespace ../x: expected the name", NULL);
	optfix_expect_error("namespace-pid = x\n", 1,
	    "--namespace-pid x: expected a process id", NULL);
	/* One namespace: two keys name two. */
	optfix_expect_error("namespace = a\nnamespace-pid = 1\n", 2,
	    "--namespace and --namespace-pid name one", NULL);
	optfix_expect_error("remote = g\x01w\n", 1, "control character 0x01",
	    NULL);
	optfix_expect_error("remote = gw\x7f\n", 1, "control character 0x7f",
	    NULL);
	/* A lone CR is not a line end. */
	optfix_expect_error("remote = gw\rsubnet = 0/0\n", 1,
	    "control character 0x0d", NULL);

	/* Files named in the file, relative to its directory. */
	{
		char want[256];

		snprintf(want, sizeof(want), "cannot open exclude file "
		    "\"%s/nx\"", optfix_tmpdir);
		optfix_expect_error("remote gw\nsubnet 0/0\nexclude-from nx\n",
		    3, want, NULL);
		optfix_write_file("badexcl", "# one\n10.0.0.0/33\n");
		snprintf(want, sizeof(want),
		    "exclude file \"%s/badexcl\" line 2: bad subnet",
		    optfix_tmpdir);
		optfix_expect_error("exclude-from = badexcl\n", 1, want, NULL);
	}

	/* Checks across options, after the file and the command line. */
	optfix_expect_error("remote gw\nsubnet 0/0\nto-ns 192.0.2.1\n", -1,
	    "--to-ns needs --dns or --ns-hosts", NULL);
	optfix_expect_error("remote gw\nsubnet 0/0\nalive-interval 20\n", -1,
	    "--alive-interval (20 s) must be shorter than --alive-timeout "
	    "(15 s)", NULL);
	optfix_expect_error("remote gw\nsubnet 0/0\nalive-timeout 4\n", -1,
	    "--alive-interval (5 s) must be shorter than --alive-timeout (4 s)",
	    NULL);
	optfix_expect_error("remote gw\nsubnet 0/0\nalive-timeout 4\n", -1,
	    "--alive-interval (4 s) must be shorter than --alive-timeout (4 s)",
	    "--alive-interval", "4", NULL);

	/* The first problem is the one reported. */
	optfix_expect_error("remote gw\nbogus\nverbose 9\n", 2, "unknown key",
	    NULL);
}

/* The command line overrides the file; its lists replace the file's. */
static void
test_precedence(void **state)
{
	static const char base[] =
	    "remote = filehost\n"
	    "subnets = 10/8 192.168/16\n"
	    "exclude = 10.1/16\n"
	    "exclude-from = excl\n"
	    "listen = 127.0.0.2:5000\n"
	    "ssh-cmd = ssh -F file\n"
	    "ssh-config = /etc/file_ssh_config\n"
	    "dns = true\n"
	    "ns-hosts = 10.0.0.53\n"
	    "to-ns = 192.0.2.53\n"
	    "dns-domains = file.example\n"
	    "remote-tmpdir = /file\n"
	    "alive-interval = 2\n"
	    "alive-timeout = 9\n"
	    "pidfile = /run/file.pid\n"
	    "daemon = false\n"
	    "syslog = no\n"
	    "verbose = 2\n";
	struct options o;
	char err[512], a[64], inc[256], exc[256];

	optfix_write_file("excl", "10.3/16\n");
	snprintf(inc, sizeof(inc), "%s", optfix_write_file("inc",
	    "172.16/12\n"));
	snprintf(exc, sizeof(exc), "%s", optfix_write_file("exc", "10.7/16\n"));

	/* The file alone. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 192.168.0.0/16 "
	    "!10.1.0.0/16 !10.3.0.0/16");
	assert_int_equal(o.verbose, 2);
	options_free(&o);

	/* Scalars: the command line wins, wherever --config stands. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base, "-r",
	    "cmdhost", "-e", "ssh -F cmd", "--ssh-config",
	    "/etc/cmd_ssh_config", "--remote-tmpdir", "/cmd",
	    "--alive-interval", "3", "--alive-timeout", "4", "--pidfile",
	    "/run/cmd.pid", "-D", "--syslog", "-v", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "cmdhost");
	assert_string_equal(o.ssh_cmd, "ssh -F cmd");
	assert_string_equal(o.ssh_config, "/etc/cmd_ssh_config");
	assert_string_equal(o.remote_tmpdir, "/cmd");
	assert_int_equal(o.alive_interval_ms, 3000);
	assert_int_equal(o.alive_timeout_ms, 4000);
	assert_string_equal(o.pidfile, "/run/cmd.pid");
	assert_true(o.daemon);
	assert_true(o.syslog);
	/* -v counts from zero: the file's "verbose = 2" is replaced. */
	assert_int_equal(o.verbose, 1);
	/* Lists not on the command line: the file's. */
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 192.168.0.0/16 "
	    "!10.1.0.0/16 !10.3.0.0/16");
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].port, 5000);
	assert_int_equal(o.nns_hosts, 1);
	assert_int_equal(o.nto_ns, 1);
	assert_int_equal(o.ndns_domains, 1);
	options_free(&o);

	/* Positional subnets replace the file's includes, not its excludes. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base,
	    "172.16/12", "fd00::/8", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "filehost");
	assert_string_equal(optfix_subnets(&o), "!10.1.0.0/16 !10.3.0.0/16 "
	    "172.16.0.0/12 fd00::/8");
	options_free(&o);
	/* So does -s. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base, "-s",
	    inc, NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "!10.1.0.0/16 !10.3.0.0/16 "
	    "172.16.0.0/12");
	options_free(&o);
	/* -x replaces exclude and exclude-from, not the includes. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base, "-x",
	    "10.9/16", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 192.168.0.0/16 "
	    "!10.9.0.0/16");
	options_free(&o);
	/* So does -X; both together with positional subnets: nothing of the
	 * file's subnets is left. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base,
	    "--exclude-from", exc, "-x", "10.8/16", "0/0", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "!10.7.0.0/16 !10.8.0.0/16 "
	    "0.0.0.0/0");
	options_free(&o);

	/* -l, --ns-hosts, --to-ns, --dns-domains replace their lists. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base, "-l",
	    "6000", "--ns-hosts", "10.0.0.54,10.0.0.55", "--to-ns",
	    "192.0.2.54", "--dns-domains", "cmd.example", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].port, 6000);
	assert_memory_equal(o.listen[0].bytes, "\x7f\0\0\x01", 4);
	assert_int_equal(o.nns_hosts, 2);
	assert_int_equal(o.ns_hosts[0].bytes[3], 54);
	assert_int_equal(o.nto_ns, 1);
	assert_string_equal(inet_ntop(AF_INET, o.to_ns[0].bytes, a, sizeof(a)),
	    "192.0.2.54");
	assert_int_equal(o.ndns_domains, 1);
	assert_string_equal(o.dns_domains[0], "cmd.example");
	/* The file's dns = true still holds. */
	assert_true(o.dns);
	options_free(&o);

	/* A replaced list's lines are still checked, like every line. */
	optfix_expect_error("remote gw\nsubnet 10.0.0.0/33\n", 2, "bad subnet "
	    "\"10.0.0.0/33\"", "10/8", NULL);
	optfix_expect_error("remote gw\nsubnet 10/8\nexclude-from nx\n", 3,
	    "cannot open exclude file", "-x", "10.1/16", NULL);
	optfix_expect_error("listen 1.2.3.4:5 1.2.3.5:70000\n", 1,
	    "-l \"1.2.3.5:70000\": port must be", "-r", "gw", "10/8", "-l", "7",
	    NULL);
	optfix_expect_error("listen nosuch.test:5\n", 1,
	    "-l: cannot resolve host \"nosuch.test\"", "-r", "gw", "10/8", "-l",
	    "7", NULL);
	optfix_expect_error("dns\nto-ns 1.2.3.4:0\n", 2,
	    "--to-ns \"1.2.3.4:0\"", "-r", "gw", "10/8", "--to-ns", "192.0.2.1",
	    NULL);
	optfix_expect_error("verbose 4\n", 1, "verbose \"4\"", "-r", "gw",
	    "10/8", "-v", NULL);
	optfix_expect_error("remote gw\nsubnett 10/8\n", 2,
	    "unknown key \"subnett\"", "10/8", NULL);
	/* Their host names must resolve too, but add nothing. */
	optfix_expect_error("remote gw\nsubnet 10/8 nx.invalid\n", 2,
	    "cannot resolve host \"nx.invalid\"", "10/8", NULL);
	optfix_expect_error("dns\nns-hosts 1.2.3.4,nx.invalid\n", 2,
	    "--ns-hosts: cannot resolve host \"nx.invalid\"", "-r", "gw",
	    "10/8", "--ns-hosts", "192.0.2.1", NULL);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet web.test\n"
	    "ns-hosts ns.test\n", "10/8", "--ns-hosts", "192.0.2.1", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8");
	assert_int_equal(o.nns_hosts, 1);
	assert_int_equal(o.ns_hosts[0].bytes[3], 1);
	options_free(&o);
	/* ...and what they add does not leak into the result. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), "remote gw\n"
	    "subnet 10/8\nexclude 10.1/16\nlisten 127.0.0.2:9\n"
	    "dns-domains a.example\nverbose 3\n", "192.168/16", "-x",
	    "10.2/16", "-l", "[::1]:7", "-v", "--dns", "--dns-domains",
	    "b.example", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "!10.2.0.0/16 192.168.0.0/16");
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 6);
	assert_int_equal(o.ndns_domains, 1);
	assert_string_equal(o.dns_domains[0], "b.example");
	assert_int_equal(o.verbose, 1);
	options_free(&o);

	/* A flag on the command line sets what the file cleared. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote gw\nsubnet 0/0\n"
	    "ipv6 = yes\nblock-leaks = yes\nreconnect = yes\nquiet = no\n",
	    "--no-ipv6", "--no-block-leaks", "--no-reconnect", "-q", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.no_ipv6 && o.no_block_leaks && o.no_reconnect && o.quiet);
	options_free(&o);

	/* $CSHUTTLE_ARGS is command line: it overrides the file, and may
	 * name the file. */
	optfix_write_file("c.conf", base);
	{
		char env[256];

		snprintf(env, sizeof(env), "--config '%s' -r envhost",
		    optfix_conf);
		setenv(OPTIONS_ENV, env, 1);
		assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), base,
		    NULL), CSHUTTLE_EXIT_OK);
		/* (optfix_parse_conf() names it a second time, which is
		 * allowed.) */
		assert_string_equal(o.remote, "envhost");
		assert_int_equal(o.alive_interval_ms, 2000);
		options_free(&o);
		unsetenv(OPTIONS_ENV);
	}
}

/* --config twice: the last one; @file and -- work as before. */
static void
test_config_twice(void **state)
{
	struct options o;
	char err[512], first[192], arg[256];

	snprintf(first, sizeof(first), "%s", optfix_write_file("first.conf",
	    "remote first\nsubnet 10/8\nverbose 1\n"));
	optfix_write_file("c.conf", "remote second\nsubnet 10/8\n");
	{
		char *argv[] = { "cshuttle", "--config", first, "--config",
		    optfix_conf, NULL };

		assert_int_equal(options_parse(&o, 5, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		assert_string_equal(o.remote, "second");
		assert_int_equal(o.verbose, 0);
		assert_string_equal(o.config, optfix_conf);
		options_free(&o);
	}
	/* --config inside an @file. */
	snprintf(arg, sizeof(arg), "--config\n%s\n", first);
	optfix_write_file("args", arg);
	snprintf(arg, sizeof(arg), "@%s/args", optfix_tmpdir);
	{
		char *argv[] = { "cshuttle", arg, "--", "192.168/16", NULL };

		assert_int_equal(options_parse(&o, 4, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		assert_string_equal(o.remote, "first");
		assert_string_equal(optfix_subnets(&o), "192.168.0.0/16");
		options_free(&o);
	}
}

/*
 * Relative paths: in the file, relative to the file's directory; on the
 * command line, to the working directory of the first parse, so that a
 * reload after chdir("/") reads the same files.
 */
static void
test_relative_paths(void **state)
{
	struct options o;
	char err[512], cwd[512], rel[512], want[1100], dir[192], path[256];
	const char *p;

	snprintf(dir, sizeof(dir), "%s/etc", optfix_tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/excl", dir);
	optfix_write_bytes(path, "10.5/16", 7);
	snprintf(path, sizeof(path), "%s/p.conf", dir);
	p = "remote gw\nsubnet 10/8\nexclude-from excl\n"
	    "ssh-config ../ssh/config\npidfile /run/abs.pid\n";
	optfix_write_bytes(path, p, strlen(p));
	{
		char *argv[] = { "cshuttle", "--config", path, NULL };

		assert_int_equal(options_parse(&o, 3, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		assert_string_equal(optfix_subnets(&o),
		    "10.0.0.0/8 !10.5.0.0/16");
		snprintf(want, sizeof(want), "%s/../ssh/config", dir);
		assert_string_equal(o.ssh_config, want);
		assert_string_equal(o.pidfile, "/run/abs.pid");
		options_free(&o);
	}

	/* A relative --config, found again after chdir("/"). */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	rel[0] = '\0';
	for (p = cwd; *p != '\0'; p++)
		if (*p == '/' && p[1] != '\0')
			strcat(rel, "../");
	strcat(rel, path + 1);
	{
		char *argv[] = { "cshuttle", "--config", rel, "--pidfile",
		    "x.pid", NULL };

		assert_int_equal(options_parse(&o, 5, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		snprintf(want, sizeof(want), "%s/%s", cwd, rel);
		assert_string_equal(o.config, want);
		snprintf(want, sizeof(want), "%s/x.pid", cwd);
		assert_string_equal(o.pidfile, want);
		options_free(&o);

		assert_int_equal(chdir("/"), 0);
		assert_int_equal(options_parse(&o, 5, argv, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		assert_int_equal(chdir(cwd), 0);
		snprintf(want, sizeof(want), "%s/%s", cwd, rel);
		assert_string_equal(o.config, want);
		snprintf(want, sizeof(want), "%s/x.pid", cwd);
		assert_string_equal(o.pidfile, want);
		assert_string_equal(optfix_subnets(&o),
		    "10.0.0.0/8 !10.5.0.0/16");
		options_free(&o);
	}
}

/* SIGHUP: the same argv parsed again sees the file's new contents. */
static void
test_reread(void **state)
{
	char *argv[] = { "cshuttle", "--config", optfix_conf, "-v", NULL };
	struct options o;
	char err[512];

	optfix_write_file("c.conf", "remote gw\nsubnet 10/8\nverbose 3\n");
	assert_int_equal(options_parse(&o, 4, argv, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8");
	assert_int_equal(o.verbose, 1);
	options_free(&o);
	optfix_write_file("c.conf", "remote gw\nsubnets 10/8 192.168/16\n"
	    "exclude 10.1/16\n");
	assert_int_equal(options_parse(&o, 4, argv, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 192.168.0.0/16 "
	    "!10.1.0.0/16");
	options_free(&o);
	/* A broken file is rejected whole: the caller keeps what it had. */
	optfix_write_file("c.conf",
	    "remote gw\nsubnets 10/8 192.168/16\nbogus\n");
	assert_int_equal(options_parse(&o, 4, argv, err, sizeof(err)),
	    CSHUTTLE_EXIT_USAGE);
	options_free(&o);
}

/* options_parse_text(), the fuzzer's way in: same as a file. */
static void
test_parse_text(void **state)
{
	static const char text[] = "remote gw\nsubnet 10/8\ndaemon\n";
	char *argv[] = { "cshuttle", "-x", "10.1/16", NULL };
	struct options o;
	char err[512];

	assert_int_equal(options_parse_text(&o, "t.conf", text, strlen(text),
	    3, argv, err, sizeof(err)), CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	assert_string_equal(o.config, "t.conf");
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 !10.1.0.0/16");
	options_free(&o);
	assert_int_equal(options_parse_text(&o, "t.conf", "\nx\n", 3, 1, argv,
	    err, sizeof(err)), CSHUTTLE_EXIT_USAGE);
	assert_string_equal(err, "t.conf:2: unknown key \"x\"");
	options_free(&o);
}

/*
 * The shipped example profile (packaging/cshuttle.conf.example) parses as
 * it is, and with its other case and its commented keys switched on.
 */
static char *
example_variant(const char *text, int variant)
{
	char *out, *o;
	const char *line, *nl;
	int section = 0;	/* 1: case 1, 2: case 2, 3: everything else */

	out = malloc(2 * strlen(text) + 1);
	assert_non_null(out);
	o = out;
	for (line = text; *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		nl = nl != NULL ? nl + 1 : line + strlen(line);
		if (strncmp(line, "# --- Case 1", 12) == 0)
			section = 1;
		else if (strncmp(line, "# --- Case 2", 12) == 0)
			section = 2;
		else if (strncmp(line, "# --- Everything", 16) == 0)
			section = 3;
		/* Variant 2: case 2 instead of case 1.  Variant 3: case 1
		 * and every other key. */
		if (variant == 2 && section == 1 && line[0] >= 'a' &&
		    line[0] <= 'z')
			*o++ = '#';
		if (((variant == 2 && section == 2) ||
		    (variant == 3 && section == 3)) &&
		    line[0] == '#' && line[1] >= 'a' && line[1] <= 'z')
			line++;
		memcpy(o, line, (size_t)(nl - line));
		o += nl - line;
	}
	*o = '\0';
	return out;
}

static void
test_example(void **state)
{
	struct options o;
	char err[512], path[256], *text, *v;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/packaging/cshuttle.conf.example",
	    CSHUTTLE_SOURCE_DIR);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);

	/* As shipped: the coffee shop. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), text, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "alice@home.example.net");
	assert_string_equal(optfix_subnets(&o), "0.0.0.0/0 ::/0");
	assert_true(o.dns);
	assert_false(o.daemon || o.no_block_leaks || o.no_reconnect);
	options_free(&o);

	/* The office. */
	optfix_write_file("office-excludes.txt", "10.98.0.0/16\n");
	v = example_variant(text, 2);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), v, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw.corp.example");
	assert_string_equal(optfix_subnets(&o), "10.0.0.0/8 172.16.0.0/12 "
	    "fd00:10::/32 !10.99.0.0/16 !10.98.0.0/16");
	assert_false(o.dns);
	assert_int_equal(o.nns_hosts, 1);
	assert_int_equal(o.ndns_domains, 2);
	assert_string_equal(o.dns_domains[1], "corp.internal");
	assert_int_equal(o.nto_ns, 1);
	assert_true(o.no_ipv6);
	options_free(&o);
	free(v);

	/* Every other key, at the value shown. */
	v = example_variant(text, 3);
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err), v, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "alice@home.example.net");
	assert_non_null(o.ssh_config);
	assert_string_equal(o.ssh_cmd, "ssh -F /etc/cshuttle/ssh_config");
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].port, 12300);
	assert_int_equal(o.alive_interval_ms, 5000);
	assert_int_equal(o.alive_timeout_ms, 15000);
	assert_string_equal(o.remote_tmpdir, "~/tmp");
	assert_string_equal(o.pidfile, "/run/cshuttle-NAME.pid");
	assert_false(o.daemon || o.syslog || o.quiet || o.stub_cache ||
	    o.no_reconnect || o.no_block_leaks);
	options_free(&o);
	free(v);
	free(text);
}

/* name = NAME, and a password in the file's remote (not shown by ps). */
static void
test_name_and_password(void **state)
{
	struct options o;
	char err[512];

	(void)state;
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote = alice:pw@gw\nsubnet = 10/8\nname = office\n", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.name, "office");
	assert_string_equal(o.remote, "alice@gw");
	assert_string_equal(o.remote_password, "pw");
	assert_false(o.remote_password_argv);
	options_free(&o);
	/* The command line's --name and -r win; its password is in ps. */
	assert_int_equal(optfix_parse_conf(&o, err, sizeof(err),
	    "remote = alice:pw@gw\nsubnet = 10/8\nname = office\n", "--name", "home",
	    "-r", "bob:x@gw", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.name, "home");
	assert_string_equal(o.remote, "bob@gw");
	assert_string_equal(o.remote_password, "x");
	assert_true(o.remote_password_argv);
	options_free(&o);
	optfix_expect_error("remote = gw\nsubnet = 10/8\nname = a b\n", 3,
	    "--name \"a b\"", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_key,
		    optfix_conf_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_errors, optfix_conf_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_precedence,
		    optfix_conf_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_config_twice,
		    optfix_conf_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths,
		    optfix_conf_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_reread, optfix_conf_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_parse_text,
		    optfix_conf_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_name_and_password, optfix_conf_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_example, optfix_conf_setup,
		    optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
