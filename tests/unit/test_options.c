/* SPDX-License-Identifier: ISC */
/*
 * test_options.c - command line, @files, $CSHUTTLE_ARGS, -s/-X files;
 * the configuration file has test_config.c.
 *
 * options_parse() keeps host names; the tests parse and resolve them
 * (parse_resolve(), as main.c does), and a dns_resolve() hook answers, so
 * nothing here touches the network.
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

#include "dns_resolve.h"
#include "exitcode.h"
#include "options.h"
#include "resolve.h"

static char tmpdir[64];
static int resolves;		/* calls of fake_resolve() */

static int
fake_resolve(const char *name, int family, int timeout_ms,
    struct addr *out, size_t max, size_t *n, char *err, size_t errlen)
{
	resolves++;
	*n = 0;
	if (strcmp(name, "web.test") == 0) {
		memset(out, 0, sizeof(*out));
		out[0].family = 4;
		inet_pton(AF_INET, "198.51.100.9", out[0].bytes);
		*n = 1;
		return 0;
	}
	if (strcmp(name, "ns.test") == 0 && max >= 2) {
		memset(out, 0, 2 * sizeof(*out));
		out[0].family = 4;
		inet_pton(AF_INET, "198.51.100.53", out[0].bytes);
		out[1].family = 6;
		inet_pton(AF_INET6, "2001:db8::53", out[1].bytes);
		*n = 2;
		return 0;
	}
	snprintf(err, errlen, "Domain name not found");
	return DNS_E_NOTFOUND;
}

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cshuttle-test-opt.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	unsetenv(OPTIONS_ENV);
	dns_resolve_set_hook(fake_resolve);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	unsetenv(OPTIONS_ENV);
	dns_resolve_set_hook(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Create tmpdir/name with `text`; returns the path (static buffer rotation). */
static const char *
write_file(const char *name, const char *text)
{
	static char paths[8][192];
	static int next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* options_parse(), then its host names resolved, as main.c does. */
static int
parse_resolve(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	int	r;

	if ((r = options_parse(o, argc, argv, err, errlen)) != CSHUTTLE_EXIT_OK)
		return r;
	return resolve_options(o, NULL, err, errlen);
}

/* Parse a NULL-terminated word list (argv[0] supplied). */
static int
parse(struct options *o, char *err, size_t errlen, ...)
{
	char *argv[64];
	va_list ap;
	int argc = 0;

	argv[argc++] = "cshuttle";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return parse_resolve(o, argc, argv, err, errlen);
}

static void
expect_usage(const char *want, ...)
{
	struct options o;
	char err[512], *argv[64];
	va_list ap;
	int argc = 0, r;

	argv[argc++] = "cshuttle";
	va_start(ap, want);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	r = parse_resolve(&o, argc, argv, err, sizeof(err));
	if (r != CSHUTTLE_EXIT_USAGE || strstr(err, want) == NULL)
		fail_msg("%s ...: got %d \"%s\", want usage error \"%s\"",
		    argv[1], r, err, want);
	assert_null(strchr(err, '\n'));
	options_free(&o);
}

static void
test_exit_codes(void **state)
{
	/* Scripts depend on these numbers. */
	assert_int_equal(CSHUTTLE_EXIT_OK, 0);
	assert_int_equal(CSHUTTLE_EXIT_FAIL, 1);
	assert_int_equal(CSHUTTLE_EXIT_USAGE, 2);
	assert_int_equal(CSHUTTLE_EXIT_FATAL, 99);
}

static void
test_basic(void **state)
{
	struct options o;
	char err[256], buf[64];

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "alice@gw:2222",
	    "10/8", "-x", "10.1/16", "--exclude", "10.2.0.0/16", "-v", "-vv",
	    "fd00::/8", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(err, "");
	assert_string_equal(o.remote, "alice@gw:2222");
	assert_int_equal(o.verbose, 3);
	assert_false(o.quiet);
	assert_int_equal(o.subnets.n, 4);
	/* Options first, positional subnets after. */
	assert_string_equal(subnet_format(&o.subnets.v[0], buf, sizeof(buf)),
	    "10.1.0.0/16");
	assert_true(o.subnets.v[0].exclude);
	assert_true(o.subnets.v[1].exclude);
	assert_string_equal(subnet_format(&o.subnets.v[2], buf, sizeof(buf)),
	    "10.0.0.0/8");
	assert_false(o.subnets.v[2].exclude);
	assert_int_equal(o.subnets.v[3].family, 6);
	assert_false(o.subnets.v[3].exclude);

	/* Default listeners: both loopbacks, automatic port. */
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].family, 4);
	assert_memory_equal(o.listen[0].bytes, "\x7f\0\0\x01", 4);
	assert_int_equal(o.listen[0].port, 0);
	assert_int_equal(o.listen[1].family, 6);
	assert_int_equal(o.listen[1].bytes[15], 1);
	assert_int_equal(o.listen[1].port, 0);
	assert_null(o.ssh_cmd);
	assert_null(o.ssh_config);
	assert_false(o.no_ipv6 || o.firewall || o.show_help || o.show_version);
	options_free(&o);
	assert_null(o.remote);
	options_free(&o);	/* twice is fine */
}

static void
test_long_forms(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "--remote=gw",
	    "--ssh-cmd", "ssh -F x", "--ssh-config=/tmp/cfg", "--quiet",
	    "--verbose", "--no-ipv6", "0/0", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw");
	assert_string_equal(o.ssh_cmd, "ssh -F x");
	assert_string_equal(o.ssh_config, "/tmp/cfg");
	assert_true(o.quiet);
	assert_int_equal(o.verbose, 1);
	assert_true(o.no_ipv6);
	/* No IPv6 listener when IPv6 is not redirected. */
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 4);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-qr", "gw", "-e", "ssh",
	    "1.2.3.4", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.quiet);
	assert_string_equal(o.remote, "gw");
	assert_string_equal(o.ssh_cmd, "ssh");
	options_free(&o);
}

static void
test_modes_without_remote(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "--firewall", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.firewall);
	assert_null(o.remote);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--version", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.show_version);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "-h", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.show_help);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--help", "-r", "x", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.show_help);
	options_free(&o);
}

static void
test_usage_errors(void **state)
{
	expect_usage("missing -r/--remote", "10/8", NULL);
	expect_usage("missing -r/--remote", NULL);
	expect_usage("no subnets to forward", "-r", "gw", NULL);
	expect_usage("no subnets to forward", "-r", "gw", "-x", "10/8", NULL);
	expect_usage("unknown or ambiguous option --bogus", "-r", "gw", "10/8",
	    "--bogus", NULL);
	expect_usage("unknown or ambiguous option --bogus", "--bogus=1", NULL);
	expect_usage("unknown option -Z", "-Z", "-r", "gw", "10/8", NULL);
	expect_usage("unknown option -Z", "--verbose", "-Zv", NULL);
	expect_usage("unknown option -Z", "-vZ", NULL);
	expect_usage("option -r needs an argument", "10/8", "-r", NULL);
	expect_usage("option --remote needs an argument", "10/8", "--remote",
	    NULL);
	expect_usage("option --ssh-config needs an argument", "--ssh-config",
	    NULL);
	expect_usage("option --verbose takes no argument", "--verbose=3", NULL);
	expect_usage("option --no-ipv6 takes no argument", "--no-ipv6=1", NULL);
	expect_usage("-r: empty argument", "-r", "", "10/8", NULL);
	expect_usage("must not start with '-'", "-r", "-oProxyCommand=x",
	    "10/8", NULL);
	expect_usage("-r: unexpected space", "-r", "a b", "10/8", NULL);
	expect_usage("-e: empty argument", "-e", "", NULL);
	expect_usage("bad subnet \"10.0.0.0/33\": prefix length must be 0-32",
	    "-r", "gw", "10.0.0.0/33", NULL);
	expect_usage("bad subnet \"1.2.3.4:99999\"", "-r", "gw", "-x",
	    "1.2.3.4:99999", "10/8", NULL);
	expect_usage("cannot resolve host \"foo.invalid\": Domain name not "
	    "found", "-r", "gw", "foo.invalid", NULL);
}

static void
test_names_in_subnets(void **state)
{
	struct options o;
	char err[256], buf[64];

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "web.test:443",
	    "-x", "web.test", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.subnets.n, 2);
	assert_true(o.subnets.v[0].exclude);
	assert_string_equal(subnet_format(&o.subnets.v[1], buf, sizeof(buf)),
	    "198.51.100.9/32:443");
	options_free(&o);
}

/* options_parse() keeps every name, with its place for the messages;
 * resolving asks each distinct name once and puts its addresses there. */
static void
test_names_kept(void **state)
{
	struct options o;
	char err[256], buf[64], want[256], a[64];
	const char *inc;
	char *argv[] = { "cshuttle", "-r", "gw", "--ns-hosts", "10.0.0.53,ns.test",
	    "-s", NULL, "web.test:443", NULL };

	inc = write_file("inc", "10/8\nweb.test\n");
	argv[6] = (char *)inc;
	resolves = 0;
	assert_int_equal(options_parse(&o, 8, argv, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(resolves, 0);
	assert_int_equal(o.nnames, 3);
	assert_string_equal(o.names[0].name, "ns.test");
	assert_int_equal(o.names[0].use, OPTIONS_NAME_NS_HOST);
	assert_int_equal(o.names[0].at, 1);
	assert_null(o.names[0].where);
	assert_string_equal(o.names[1].name, "web.test");
	assert_int_equal(o.names[1].use, OPTIONS_NAME_SUBNET);
	snprintf(want, sizeof(want), "subnet file \"%s\" line 2: ", inc);
	assert_string_equal(o.names[1].where, want);
	assert_null(o.names[2].where);
	assert_int_equal(o.nns_hosts, 1);
	assert_int_equal(o.subnets.n, 3);
	assert_true(subnet_list_has_names(&o.subnets));

	assert_int_equal(resolve_options(&o, NULL, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(resolves, 2);
	assert_int_equal(o.nnames, 0);
	assert_false(subnet_list_has_names(&o.subnets));
	assert_int_equal(o.subnets.n, 3);
	assert_string_equal(subnet_format(&o.subnets.v[1], buf, sizeof(buf)),
	    "198.51.100.9/32");
	assert_string_equal(subnet_format(&o.subnets.v[2], buf, sizeof(buf)),
	    "198.51.100.9/32:443");
	assert_int_equal(o.nns_hosts, 3);
	assert_int_equal(o.ns_hosts[0].bytes[3], 53);
	assert_string_equal(inet_ntop(AF_INET, o.ns_hosts[1].bytes, a, sizeof(a)),
	    "198.51.100.53");
	assert_int_equal(o.ns_hosts[2].family, 6);
	/* Nothing left to do: no resolver call. */
	assert_int_equal(resolve_options(&o, NULL, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(resolves, 2);
	options_free(&o);

	/* --ns-hosts with only a name captures too: --to-ns may go with it
	 * before the name is resolved. */
	{
		char *argv2[] = { "cshuttle", "-r", "gw", "0/0", "--ns-hosts",
		    "ns.test", "--to-ns", "192.0.2.1", NULL };

		assert_int_equal(options_parse(&o, 8, argv2, err, sizeof(err)),
		    CSHUTTLE_EXIT_OK);
		assert_int_equal(o.nns_hosts, 0);
		assert_int_equal(o.nnames, 1);
		options_free(&o);
	}
}

static void
test_listen(void **state)
{
	struct options o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-l",
	    "1234", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].family, 4);
	assert_int_equal(o.listen[0].port, 1234);
	assert_int_equal(o.listen[1].family, 6);
	assert_int_equal(o.listen[1].port, 1234);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-l",
	    "0.0.0.0:5000", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 4);
	assert_memory_equal(o.listen[0].bytes, "\0\0\0\0", 4);
	assert_int_equal(o.listen[0].port, 5000);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--listen", "[::1]:5001", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].family, 6);
	assert_int_equal(o.listen[0].bytes[15], 1);
	assert_int_equal(o.listen[0].port, 5001);
	options_free(&o);

	/* Comma list, and repeated -l. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-l",
	    "127.0.0.2:1,[fd00::2]:2", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].bytes[3], 2);
	assert_int_equal(o.listen[0].port, 1);
	assert_int_equal(o.listen[1].bytes[0], 0xfd);
	assert_int_equal(o.listen[1].port, 2);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-l",
	    "[::]:7", "-l", "10.0.0.1:8", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	options_free(&o);

	/* A bare port fills in the family without an explicit address. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-l",
	    "10.0.0.1:8,9", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 2);
	assert_int_equal(o.listen[0].port, 8);
	assert_int_equal(o.listen[1].family, 6);
	assert_int_equal(o.listen[1].port, 9);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-l",
	    "1234", "--no-ipv6", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nlisten, 1);
	assert_int_equal(o.listen[0].port, 1234);
	options_free(&o);

	expect_usage("--no-ipv6 conflicts", "-r", "gw", "10/8", "-l",
	    "[::1]:1", "--no-ipv6", NULL);
	expect_usage("-l \"foo\": expected PORT", "-l", "foo", NULL);
	expect_usage("-l \"1.2.3.4:\": expected", "-l", "1.2.3.4:", NULL);
	expect_usage("-l \"[::1]\": expected", "-l", "[::1]", NULL);
	expect_usage("-l \"::1:5\": expected", "-l", "::1:5", NULL);
	expect_usage("-l \"300.1.1.1:5\": expected", "-l", "300.1.1.1:5", NULL);
	expect_usage("-l \"-1\": expected", "-l", "-1", NULL);
	expect_usage("port must be 0-65535", "-l", "70000", NULL);
	expect_usage("only one IPv4 listen address", "-l", "1.2.3.4:5",
	    "-l", "1.2.3.5:6", NULL);
	expect_usage("a port without address was already given", "-l", "5,6",
	    NULL);
	expect_usage("-l: empty listen address", "-l", "5,", NULL);
}

static void
test_argfiles(void **state)
{
	struct options o;
	char err[512], arg[256], buf[256];
	const char *inner;

	inner = write_file("inner", "-x\n10.9/16\n");
	snprintf(arg, sizeof(arg), "@%s", inner);
	/* Lines are trimmed; blank lines and '#' lines are skipped; an
	 * argument keeps its inner spaces. */
	write_file("outer",
	    "# the gateway\n"
	    "-r\n"
	    "  gw  \n"
	    "\n"
	    "   # indented comment\n"
	    "10/8\r\n"
	    "-e\n"
	    "ssh -F my config\n");
	snprintf(buf, sizeof(buf), "@%s/outer", tmpdir);
	assert_int_equal(parse(&o, err, sizeof(err), buf, arg, "-v", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw");
	assert_string_equal(o.ssh_cmd, "ssh -F my config");
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.subnets.n, 2);
	assert_true(o.subnets.v[0].exclude);
	assert_string_equal(subnet_format(&o.subnets.v[0], buf, sizeof(buf)),
	    "10.9.0.0/16");
	options_free(&o);

	/* "--" ends @file expansion: the word is then a (bad) subnet. */
	expect_usage("bad subnet \"@nope\"", "-r", "gw", "--", "@nope", NULL);
	expect_usage("cannot open argument file", "@/nonexistent/args", NULL);
	expect_usage("\"@\" needs a file name", "@", NULL);
}

static void
test_argfile_depth(void **state)
{
	struct options o;
	char err[512], text[256], arg[256];
	int i;

	/* f1 -> f2 -> f3 -> f4 is allowed (depth 4)... */
	write_file("f4", "-r\ngw\n10/8\n");
	for (i = 3; i >= 1; i--) {
		char name[8];

		snprintf(text, sizeof(text), "@%s/f%d\n", tmpdir, i + 1);
		snprintf(name, sizeof(name), "f%d", i);
		write_file(name, text);
	}
	snprintf(arg, sizeof(arg), "@%s/f1", tmpdir);
	assert_int_equal(parse(&o, err, sizeof(err), arg, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw");
	options_free(&o);

	/* ...f0 -> f1 -> ... -> f4 is one too many. */
	snprintf(text, sizeof(text), "@%s/f1\n", tmpdir);
	write_file("f0", text);
	snprintf(arg, sizeof(arg), "@%s/f0", tmpdir);
	expect_usage("nested more than 4 deep", arg, NULL);

	/* A file including itself stops at the same limit. */
	snprintf(text, sizeof(text), "-v\n@%s/self\n", tmpdir);
	write_file("self", text);
	snprintf(arg, sizeof(arg), "@%s/self", tmpdir);
	expect_usage("nested more than 4 deep", arg, NULL);
}

static void
test_env_args(void **state)
{
	struct options o;
	char err[256], buf[256];

	setenv(OPTIONS_ENV, "  -e \"ssh -o 'A B' \\\"q\\\"\" -x 'fd00::/8'\t"
	    "-r envhost   -v ", 1);
	assert_int_equal(parse(&o, err, sizeof(err), "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.ssh_cmd, "ssh -o 'A B' \"q\"");
	assert_string_equal(o.remote, "envhost");
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.subnets.n, 2);
	assert_true(o.subnets.v[0].exclude);
	assert_string_equal(subnet_format(&o.subnets.v[0], buf, sizeof(buf)),
	    "fd00::/8");
	options_free(&o);

	/* The environment comes first, so the command line wins. */
	setenv(OPTIONS_ENV, "-r envhost 10/8", 1);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "cmdhost", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "cmdhost");
	options_free(&o);

	/* Backslash outside quotes, adjacent quoted parts, empty word. */
	setenv(OPTIONS_ENV, "-e a\\ b'c d'\"e\" -r ''", 1);
	expect_usage("-r: empty argument", NULL);
	setenv(OPTIONS_ENV, "-e a\\ b'c d'\"e\"", 1);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "0/0", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.ssh_cmd, "a bc de");
	options_free(&o);

	/* @files work from the environment too. */
	write_file("envargs", "-r\nfromfile\n");
	snprintf(buf, sizeof(buf), "@%s/envargs", tmpdir);
	setenv(OPTIONS_ENV, buf, 1);
	assert_int_equal(parse(&o, err, sizeof(err), "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "fromfile");
	options_free(&o);

	setenv(OPTIONS_ENV, "-r 'gw", 1);
	expect_usage("$CSHUTTLE_ARGS: unterminated ' quote", "10/8", NULL);
	setenv(OPTIONS_ENV, "-r \"gw", 1);
	expect_usage("unterminated \" quote", "10/8", NULL);
	setenv(OPTIONS_ENV, "--bogus", 1);
	expect_usage("unknown or ambiguous option --bogus", "-r", "gw", "10/8",
	    NULL);
}

static void
test_subnet_files(void **state)
{
	struct options o;
	char err[512], buf[64], want[256];
	const char *inc, *exc, *bad;

	inc = write_file("inc", "10/8 192.168.0.0/16 # office\n\n"
	    "\tfd00::/8\n# 1.2.3.4\nweb.test:80");
	exc = write_file("exc", "10.1/16\n");
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "-s", inc,
	    "--exclude-from", exc, NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.subnets.n, 5);
	assert_string_equal(subnet_format(&o.subnets.v[1], buf, sizeof(buf)),
	    "192.168.0.0/16");
	assert_int_equal(o.subnets.v[2].family, 6);
	assert_string_equal(subnet_format(&o.subnets.v[3], buf, sizeof(buf)),
	    "198.51.100.9/32:80");
	assert_false(o.subnets.v[3].exclude);
	assert_true(o.subnets.v[4].exclude);
	options_free(&o);

	/* Only excludes in the files: still no subnet to forward. */
	expect_usage("no subnets to forward", "-r", "gw", "-X", exc, NULL);

	bad = write_file("bad", "10/8\n# ok\n1.2.3.4 10.0.0.0/33\n");
	snprintf(want, sizeof(want), "subnet file \"%s\" line 3: bad subnet "
	    "\"10.0.0.0/33\": prefix length must be 0-32", bad);
	expect_usage(want, "-r", "gw", "-s", bad, NULL);
	snprintf(want, sizeof(want), "exclude file \"%s\" line 3", bad);
	expect_usage(want, "-r", "gw", "10/8", "-X", bad, NULL);
	expect_usage("cannot open subnet file \"/nonexistent/x\"", "-r", "gw",
	    "--subnets", "/nonexistent/x", NULL);
	bad = write_file("nx", "foo.invalid\n");
	expect_usage("line 1: cannot resolve host \"foo.invalid\"", "-r", "gw",
	    "-s", bad, NULL);
}

static void
test_stub_options(void **state)
{
	struct options o;
	char err[512], longdir[300];

	/* Off by default. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_false(o.stub_cache);
	assert_null(o.remote_tmpdir);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--stub-cache", "--remote-tmpdir", "/run/user/1000", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.stub_cache);
	assert_string_equal(o.remote_tmpdir, "/run/user/1000");
	options_free(&o);
	assert_null(o.remote_tmpdir);

	/* "~/" (expanded on the remote host), spaces, "=" form, and the
	 * last one wins. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--remote-tmpdir=/tmp", "--remote-tmpdir=~/my tmp", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote_tmpdir, "~/my tmp");
	assert_false(o.stub_cache);
	options_free(&o);

	/* From $CSHUTTLE_ARGS too. */
	setenv(OPTIONS_ENV, "--stub-cache --remote-tmpdir '/a b'", 1);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.stub_cache);
	assert_string_equal(o.remote_tmpdir, "/a b");
	options_free(&o);
	unsetenv(OPTIONS_ENV);

	/* 256 bytes is the limit. */
	memset(longdir, 'd', 256);
	longdir[0] = '/';
	longdir[256] = '\0';
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--remote-tmpdir", longdir, NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(strlen(o.remote_tmpdir), 256);
	options_free(&o);
	longdir[256] = 'd';
	longdir[257] = '\0';
	expect_usage("--remote-tmpdir: longer than 256 bytes", "--remote-tmpdir",
	    longdir, NULL);

	/* Relative paths mean nothing on the remote host. */
	expect_usage("--remote-tmpdir \"tmp\": must be an absolute path or start "
	    "with ~/", "-r", "gw", "10/8", "--remote-tmpdir", "tmp", NULL);
	expect_usage("--remote-tmpdir \"./x\": must be an absolute path",
	    "--remote-tmpdir=./x", NULL);
	expect_usage("--remote-tmpdir \"~bob/tmp\": must be an absolute path",
	    "--remote-tmpdir", "~bob/tmp", NULL);
	expect_usage("--remote-tmpdir \"~\": must be an absolute path",
	    "--remote-tmpdir", "~", NULL);
	expect_usage("--remote-tmpdir \"\": must be an absolute path",
	    "--remote-tmpdir", "", NULL);
	/* The name travels on one line to the remote script. */
	expect_usage("--remote-tmpdir: control characters are not allowed",
	    "--remote-tmpdir", "/tmp/a\nb", NULL);
	expect_usage("--remote-tmpdir: control characters are not allowed",
	    "--remote-tmpdir", "~/a\rb", NULL);
	expect_usage("--remote-tmpdir: control characters are not allowed",
	    "--remote-tmpdir", "/tmp/\tx", NULL);
	expect_usage("--remote-tmpdir: control characters are not allowed",
	    "--remote-tmpdir", "/tmp/\033[31m", NULL);
	expect_usage("--remote-tmpdir: control characters are not allowed",
	    "--remote-tmpdir", "/tmp/\177", NULL);

	expect_usage("option --remote-tmpdir needs an argument", "-r", "gw",
	    "10/8", "--remote-tmpdir", NULL);
	expect_usage("option --stub-cache takes no argument", "--stub-cache=yes",
	    NULL);
}

static void
test_dns(void **state)
{
	struct options o;
	char err[512], a[64], many[512];
	int i;

	/* Off by default. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "0/0", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_false(o.dns || o.no_block_leaks);
	assert_int_equal(o.nns_hosts, 0);
	assert_int_equal(o.nto_ns, 0);
	assert_int_equal(o.ndns_domains, 0);
	assert_null(o.dns_domains);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "0/0", "--dns",
	    "--no-block-leaks", "--to-ns", "192.0.2.53,198.51.100.1:5353",
	    "--to-ns=[2001:db8::1]:54,2001:db8::2,[2001:db8::3]",
	    "--dns-domains", "Corp.Example.,lab_1.test", "--dns-domains=corp.example",
	    NULL), CSHUTTLE_EXIT_OK);
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
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "0/0",
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
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "0/0", NULL),
	    CSHUTTLE_EXIT_OK);
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
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "0/0", "--dns",
	    "--to-ns", many, NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.nto_ns, 8);
	options_free(&o);
	expect_usage("--to-ns: more than 8 servers", "-r", "gw", "0/0", "--dns",
	    "--to-ns", many, "--to-ns", "192.0.2.9", NULL);
	expect_usage("--ns-hosts: more than 8 servers", "-r", "gw", "0/0",
	    "--ns-hosts", many, "--ns-hosts", "ns.test", NULL);

	/* Only meaningful when DNS is captured. */
	expect_usage("--to-ns needs --dns or --ns-hosts", "-r", "gw", "0/0",
	    "--to-ns", "192.0.2.1", NULL);
	expect_usage("--dns-domains needs --dns or --ns-hosts", "-r", "gw", "0/0",
	    "--dns-domains", "corp", NULL);

	expect_usage("--to-ns \"ns.test\": expected IPV4[:PORT] or [IPV6][:PORT]",
	    "--dns", "--to-ns", "ns.test", NULL);
	expect_usage("--to-ns \"1.2.3.4:\": expected", "--to-ns", "1.2.3.4:", NULL);
	expect_usage("--to-ns \"[::1\": expected", "--to-ns", "[::1", NULL);
	expect_usage("--to-ns \"[::1]5\": expected", "--to-ns", "[::1]5", NULL);
	expect_usage("--to-ns \"[1.2.3.4]:53\": expected", "--to-ns",
	    "[1.2.3.4]:53", NULL);
	expect_usage("--to-ns \"1.2.3.4:0\": port must be 1-65535", "--to-ns",
	    "1.2.3.4:0", NULL);
	expect_usage("--to-ns \"1.2.3.4:65536\": port must be 1-65535",
	    "--to-ns", "1.2.3.4:65536", NULL);
	expect_usage("--to-ns \"1.2.3.4:5x\": port must be", "--to-ns",
	    "1.2.3.4:5x", NULL);
	expect_usage("--to-ns \"1.2.3.4,\": empty item", "--to-ns", "1.2.3.4,",
	    NULL);
	expect_usage("--ns-hosts \",1.2.3.4\": empty item", "--ns-hosts",
	    ",1.2.3.4", NULL);
	expect_usage("--ns-hosts: cannot resolve host \"nx.invalid\": Domain "
	    "name not found", "-r", "gw", "0/0", "--ns-hosts",
	    "1.2.3.4,nx.invalid", NULL);
	expect_usage("option --ns-hosts needs an argument", "--ns-hosts", NULL);
	expect_usage("option --dns takes no argument", "--dns=1", NULL);
	expect_usage("option --no-block-leaks takes no argument",
	    "--no-block-leaks=yes", NULL);

	expect_usage("--dns-domains \"a..b\": empty label", "--dns-domains",
	    "a..b", NULL);
	expect_usage("--dns-domains \".\": empty domain", "--dns-domains", ".",
	    NULL);
	expect_usage("--dns-domains \"a b\": only letters, digits",
	    "--dns-domains", "a b", NULL);
	expect_usage("--dns-domains \"*.corp\": only letters", "--dns-domains",
	    "*.corp", NULL);
	expect_usage("--dns-domains \"corp,\": empty item", "--dns-domains",
	    "corp,", NULL);
	memset(many, 'a', 64);
	strcpy(many + 64, ".example");
	expect_usage("a label is longer than 63 characters", "--dns-domains",
	    many, NULL);
}

/* -D, --pidfile, --syslog, --no-reconnect, --alive-*, --config. */
static void
test_always_on(void **state)
{
	struct options o;
	char err[512], cwd[512], want[640];

	/* Defaults: in the foreground, reconnecting, 5 s / 15 s. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_false(o.daemon || o.syslog || o.no_reconnect);
	assert_null(o.pidfile);
	assert_null(o.config);
	assert_int_equal(o.alive_interval_ms, 5000);
	assert_int_equal(o.alive_timeout_ms, 15000);
	options_free(&o);

	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", "-D",
	    "--pidfile", "/run/cs.pid", "--syslog", "--no-reconnect",
	    "--alive-interval", "2", "--alive-timeout=7", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	assert_true(o.syslog);
	assert_true(o.no_reconnect);
	assert_string_equal(o.pidfile, "/run/cs.pid");
	assert_int_equal(o.alive_interval_ms, 2000);
	assert_int_equal(o.alive_timeout_ms, 7000);
	options_free(&o);
	assert_null(o.pidfile);

	/* Bundled short option, long form, -D does not imply --syslog here
	 * (the caller decides), the bounds are inclusive. */
	assert_int_equal(parse(&o, err, sizeof(err), "-Dvr", "gw", "10/8",
	    "--alive-interval=1", "--alive-timeout", "3600", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	assert_false(o.syslog);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.alive_interval_ms, 1000);
	assert_int_equal(o.alive_timeout_ms, 3600000);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--daemon", "--alive-interval", "3599", "--alive-timeout", "3600",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	options_free(&o);

	/* A relative pidfile is kept absolute: -D moves to "/". */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--pidfile", "run/cs.pid", NULL), CSHUTTLE_EXIT_OK);
	snprintf(want, sizeof(want), "%s/run/cs.pid", cwd);
	assert_string_equal(o.pidfile, want);
	options_free(&o);

	expect_usage("--alive-interval \"0\": expected whole seconds, 1-3600",
	    "-r", "gw", "10/8", "--alive-interval", "0", NULL);
	expect_usage("--alive-timeout \"3601\": expected whole seconds, 1-3600",
	    "-r", "gw", "10/8", "--alive-timeout", "3601", NULL);
	expect_usage("--alive-interval \"5s\": expected", "--alive-interval",
	    "5s", NULL);
	expect_usage("--alive-interval \"-1\": expected", "--alive-interval=-1",
	    NULL);
	expect_usage("--alive-interval \" 5\": expected", "--alive-interval",
	    " 5", NULL);
	expect_usage("--alive-timeout \"\": expected", "--alive-timeout", "",
	    NULL);
	expect_usage("--alive-timeout \"99999999999999999999\": expected",
	    "--alive-timeout", "99999999999999999999", NULL);
	/* The interval must leave room for an answer. */
	expect_usage("--alive-interval (15 s) must be shorter than "
	    "--alive-timeout (15 s)", "-r", "gw", "10/8", "--alive-interval",
	    "15", NULL);
	expect_usage("--alive-interval (5 s) must be shorter than "
	    "--alive-timeout (3 s)", "-r", "gw", "10/8", "--alive-timeout", "3",
	    NULL);
	expect_usage("option --daemon takes no argument", "--daemon=yes", NULL);
	expect_usage("option --syslog takes no argument", "--syslog=1", NULL);
	expect_usage("option --no-reconnect takes no argument",
	    "--no-reconnect=1", NULL);
	expect_usage("option --pidfile needs an argument", "-r", "gw", "10/8",
	    "--pidfile", NULL);
	expect_usage("--pidfile: empty argument", "--pidfile", "", NULL);
	expect_usage("option --config needs an argument", "--config", NULL);
	expect_usage("--config: empty file name", "--config", "", NULL);
	expect_usage("/nonexistent/cshuttle.conf: No such file or directory",
	    "--config", "/nonexistent/cshuttle.conf", NULL);

	/* --help, --version and the helper do not read the file. */
	assert_int_equal(parse(&o, err, sizeof(err), "--config",
	    "/nonexistent/c", "--help", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.show_help);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--version", "--config",
	    "/nonexistent/c", NULL), CSHUTTLE_EXIT_OK);
	options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--firewall", "--config",
	    "/nonexistent/c", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.firewall);
	options_free(&o);

	/* From $CSHUTTLE_ARGS too. */
	setenv(OPTIONS_ENV, "-D --alive-timeout 30", 1);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", "gw", "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	assert_int_equal(o.alive_timeout_ms, 30000);
	options_free(&o);
	unsetenv(OPTIONS_ENV);
}

/* --help names every option, and every option it names is accepted. */
static void
test_usage_text(void **state)
{
	static const char *const flags[][2] = {
		{ "-r, --remote", "--remote=gw" },
		{ "-x, --exclude", "--exclude=10/8" },
		{ "-X, --exclude-from", NULL },
		{ "-s, --subnets", NULL },
		{ "-l, --listen", "--listen=1" },
		{ "-e, --ssh-cmd", "--ssh-cmd=ssh" },
		{ "--ssh-config", "--ssh-config=/x" },
		{ "--no-ipv6", "--no-ipv6" },
		{ "--stub-cache", "--stub-cache" },
		{ "--remote-tmpdir", "--remote-tmpdir=/x" },
		{ "--dns", "--dns" },
		{ "--ns-hosts", "--ns-hosts=192.0.2.1" },
		{ "--to-ns", NULL },		/* needs --dns: test_dns */
		{ "--dns-domains", NULL },	/* likewise */
		{ "--no-block-leaks", "--no-block-leaks" },
		{ "-v, --verbose", "--verbose" },
		{ "-q, --quiet", "--quiet" },
		{ "-h, --help", "--help" },
		{ "--version", "--version" },
		{ "--firewall", "--firewall" },
		{ "-D, --daemon", "--daemon" },
		{ "--pidfile", "--pidfile=/run/cs.pid" },
		{ "--syslog", "--syslog" },
		{ "--no-reconnect", "--no-reconnect" },
		{ "--alive-interval", "--alive-interval=1" },
		{ "--alive-timeout", "--alive-timeout=60" },
		{ "--config", NULL },		/* test_always_on, test_config */
	};
	struct options o;
	char *text = NULL, err[256], *p, name[64];
	size_t len = 0, i, nlong = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	options_usage(f);
	fclose(f);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strstr(text, flags[i][0]) == NULL)
			fail_msg("--help does not mention %s", flags[i][0]);
		if (flags[i][1] != NULL &&
		    parse(&o, err, sizeof(err), "-r", "gw", "10/8",
		    flags[i][1], NULL) != CSHUTTLE_EXIT_OK)
			fail_msg("%s: %s", flags[i][1], err);
		if (flags[i][1] != NULL)
			options_free(&o);
	}
	/* No long option in the text that the table above does not know. */
	for (p = text; (p = strstr(p, "--")) != NULL; p += 2) {
		size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-6");

		if (n == 0)
			continue;
		snprintf(name, sizeof(name), "--%.*s", (int)n, p + 2);
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strstr(flags[i][0], name) != NULL &&
			    strlen(strstr(flags[i][0], name)) == strlen(name))
				break;
		if (i == sizeof(flags) / sizeof(flags[0]))
			fail_msg("--help mentions unknown %s", name);
		nlong++;
	}
	assert_true(nlong >= sizeof(flags) / sizeof(flags[0]));
	assert_non_null(strstr(text, "CSHUTTLE_ARGS"));
	assert_non_null(strstr(text, "@FILE"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_without_remote, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_usage_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names_in_subnets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argfiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argfile_depth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subnet_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stub_options, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_always_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_text, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
