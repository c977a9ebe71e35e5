/* SPDX-License-Identifier: ISC */
/*
 * test_options.c - options.c: the option table and the getopt loop (short
 * and long forms, bundling, usage errors, the exit codes), the host names
 * options_parse() keeps and their resolving, --stub-cache and
 * --remote-tmpdir, -D, --pidfile, --syslog, --no-reconnect, --alive-* and
 * --config on the command line.
 *
 * The module's other files have their own tests: test_options_args.c,
 * test_options_net.c, test_options_usage.c, test_options_config.c; the
 * file's syntax has test_config.c.  optfix.h is the fixture they share.
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
#include "resolve.h"
#include "optfix.h"

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

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r",
	    "alice@gw:2222", "10/8", "-x", "10.1/16", "--exclude",
	    "10.2.0.0/16", "-v", "-vv", "fd00::/8", NULL), CSHUTTLE_EXIT_OK);
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

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--remote=gw",
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

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-qr", "gw", "-e",
	    "ssh", "1.2.3.4", NULL), CSHUTTLE_EXIT_OK);
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

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--firewall", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.firewall);
	assert_null(o.remote);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--version", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.show_version);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-h", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.show_help);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--help", "-r", "x",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.show_help);
	options_free(&o);
}

static void
test_usage_errors(void **state)
{
	optfix_expect_usage("missing -r/--remote", "10/8", NULL);
	optfix_expect_usage("missing -r/--remote", NULL);
	optfix_expect_usage("no subnets to forward", "-r", "gw", NULL);
	optfix_expect_usage("no subnets to forward", "-r", "gw", "-x", "10/8",
	    NULL);
	optfix_expect_usage("unknown option --bogus", "-r", "gw",
	    "10/8", "--bogus", NULL);
	optfix_expect_usage("unknown option --bogus", "--bogus=1",
	    NULL);
	optfix_expect_usage("unknown option -Z", "-Z", "-r", "gw", "10/8",
	    NULL);
	optfix_expect_usage("unknown option -Z", "--verbose", "-Zv", NULL);
	optfix_expect_usage("unknown option -Z", "-vZ", NULL);
	optfix_expect_usage("option -r needs an argument", "10/8", "-r", NULL);
	optfix_expect_usage("option --remote needs an argument", "10/8",
	    "--remote", NULL);
	optfix_expect_usage("option --ssh-config needs an argument",
	    "--ssh-config", NULL);
	optfix_expect_usage("option --verbose takes no argument", "--verbose=3",
	    NULL);
	optfix_expect_usage("option --no-ipv6 takes no argument", "--no-ipv6=1",
	    NULL);
	optfix_expect_usage("-r: empty argument", "-r", "", "10/8", NULL);
	optfix_expect_usage("must not start with '-'", "-r", "-oProxyCommand=x",
	    "10/8", NULL);
	optfix_expect_usage("-r: unexpected space", "-r", "a b", "10/8", NULL);
	optfix_expect_usage("-e: empty argument", "-e", "", NULL);
	optfix_expect_usage("bad subnet \"10.0.0.0/33\": prefix length must be "
	    "0-32", "-r", "gw", "10.0.0.0/33", NULL);
	optfix_expect_usage("bad subnet \"1.2.3.4:99999\"", "-r", "gw", "-x",
	    "1.2.3.4:99999", "10/8", NULL);
	optfix_expect_usage("cannot resolve host \"foo.invalid\": Domain name "
	    "not found", "-r", "gw", "foo.invalid", NULL);
}

static void
test_names_in_subnets(void **state)
{
	struct options o;
	char err[256], buf[64];

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw",
	    "web.test:443", "-x", "web.test", NULL), CSHUTTLE_EXIT_OK);
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

	inc = optfix_write_file("inc", "10/8\nweb.test\n");
	argv[6] = (char *)inc;
	optfix_resolves = 0;
	assert_int_equal(options_parse(&o, 8, argv, err, sizeof(err)),
	    CSHUTTLE_EXIT_OK);
	assert_int_equal(optfix_resolves, 0);
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
	assert_int_equal(optfix_resolves, 2);
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
	assert_int_equal(optfix_resolves, 2);
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
test_stub_options(void **state)
{
	struct options o;
	char err[512], longdir[300];

	/* Off by default. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_false(o.stub_cache);
	assert_null(o.remote_tmpdir);
	options_free(&o);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--stub-cache", "--remote-tmpdir", "/run/user/1000", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.stub_cache);
	assert_string_equal(o.remote_tmpdir, "/run/user/1000");
	options_free(&o);
	assert_null(o.remote_tmpdir);

	/* "~/" (expanded on the remote host), spaces, "=" form, and the
	 * last one wins. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--remote-tmpdir=/tmp", "--remote-tmpdir=~/my tmp", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote_tmpdir, "~/my tmp");
	assert_false(o.stub_cache);
	options_free(&o);

	/* From $CSHUTTLE_ARGS too. */
	setenv(OPTIONS_ENV, "--stub-cache --remote-tmpdir '/a b'", 1);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.stub_cache);
	assert_string_equal(o.remote_tmpdir, "/a b");
	options_free(&o);
	unsetenv(OPTIONS_ENV);

	/* 256 bytes is the limit. */
	memset(longdir, 'd', 256);
	longdir[0] = '/';
	longdir[256] = '\0';
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--remote-tmpdir", longdir, NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(strlen(o.remote_tmpdir), 256);
	options_free(&o);
	longdir[256] = 'd';
	longdir[257] = '\0';
	optfix_expect_usage("--remote-tmpdir: longer than 256 bytes",
	    "--remote-tmpdir", longdir, NULL);

	/* Relative paths mean nothing on the remote host. */
	optfix_expect_usage("--remote-tmpdir \"tmp\": must be an absolute path "
	    "or start with ~/", "-r", "gw", "10/8", "--remote-tmpdir", "tmp",
	    NULL);
	optfix_expect_usage("--remote-tmpdir \"./x\": must be an absolute path",
	    "--remote-tmpdir=./x", NULL);
	optfix_expect_usage("--remote-tmpdir \"~bob/tmp\": must be an absolute "
	    "path", "--remote-tmpdir", "~bob/tmp", NULL);
	optfix_expect_usage("--remote-tmpdir \"~\": must be an absolute path",
	    "--remote-tmpdir", "~", NULL);
	optfix_expect_usage("--remote-tmpdir \"\": must be an absolute path",
	    "--remote-tmpdir", "", NULL);
	/* The name travels on one line to the remote script. */
	optfix_expect_usage("--remote-tmpdir: control characters are not "
	    "allowed", "--remote-tmpdir", "/tmp/a\nb", NULL);
	optfix_expect_usage("--remote-tmpdir: control characters are not "
	    "allowed", "--remote-tmpdir", "~/a\rb", NULL);
	optfix_expect_usage("--remote-tmpdir: control characters are not "
	    "allowed", "--remote-tmpdir", "/tmp/\tx", NULL);
	optfix_expect_usage("--remote-tmpdir: control characters are not "
	    "allowed", "--remote-tmpdir", "/tmp/\033[31m", NULL);
	optfix_expect_usage("--remote-tmpdir: control characters are not "
	    "allowed", "--remote-tmpdir", "/tmp/\177", NULL);

	optfix_expect_usage("option --remote-tmpdir needs an argument", "-r",
	    "gw", "10/8", "--remote-tmpdir", NULL);
	optfix_expect_usage("option --stub-cache takes no argument",
	    "--stub-cache=yes", NULL);
}

/* -D, --pidfile, --syslog, --no-reconnect, --alive-*, --config. */
static void
test_always_on(void **state)
{
	struct options o;
	char err[512], cwd[512], want[640];

	/* Defaults: in the foreground, reconnecting, 5 s / 15 s. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_false(o.daemon || o.syslog || o.no_reconnect);
	assert_null(o.pidfile);
	assert_null(o.config);
	assert_int_equal(o.alive_interval_ms, 5000);
	assert_int_equal(o.alive_timeout_ms, 15000);
	assert_int_equal(o.probe_timeout_ms, 1500);
	assert_int_equal(o.resume_grace_s, 120);
	options_free(&o);

	/* --resume-grace: whole seconds, 0 (no resume) to a day. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--resume-grace", "0", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.resume_grace_s, 0);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--resume-grace=86400", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.resume_grace_s, 86400);
	options_free(&o);
	optfix_expect_usage("--resume-grace \"86401\": expected a whole number, 0-86400",
	    "-r", "gw", "10/8", "--resume-grace", "86401", NULL);
	optfix_expect_usage("--resume-grace \"2m\": expected",
	    "-r", "gw", "10/8", "--resume-grace", "2m", NULL);

	/* --probe-timeout: seconds to the ms, 0 for no probes. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--probe-timeout", "0.25", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.probe_timeout_ms, 250);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--probe-timeout=60", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.probe_timeout_ms, 60000);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--probe-timeout=0", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.probe_timeout_ms, 0);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--probe-timeout=2.", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.probe_timeout_ms, 2000);
	options_free(&o);
	optfix_expect_usage("--probe-timeout \"0.05\": expected seconds, 0 (no "
	    "probes) or 0.1-60", "--probe-timeout", "0.05", NULL);
	optfix_expect_usage("--probe-timeout \"60.001\": expected",
	    "--probe-timeout", "60.001", NULL);
	optfix_expect_usage("--probe-timeout \"1.2345\": expected",
	    "--probe-timeout", "1.2345", NULL);
	optfix_expect_usage("--probe-timeout \".5\": expected",
	    "--probe-timeout", ".5", NULL);
	optfix_expect_usage("--probe-timeout \"1s\": expected",
	    "--probe-timeout", "1s", NULL);
	optfix_expect_usage("--probe-timeout \"\": expected",
	    "--probe-timeout", "", NULL);
	optfix_expect_usage("--probe-timeout \"99999999999999999999\": expected",
	    "--probe-timeout", "99999999999999999999", NULL);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "-D", "--pidfile", "/run/cs.pid", "--syslog", "--no-reconnect",
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
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-Dvr", "gw",
	    "10/8", "--alive-interval=1", "--alive-timeout", "3600", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	assert_false(o.syslog);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.alive_interval_ms, 1000);
	assert_int_equal(o.alive_timeout_ms, 3600000);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--daemon", "--alive-interval", "3599", "--alive-timeout", "3600",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	options_free(&o);

	/* A relative pidfile is kept absolute: -D moves to "/". */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--pidfile", "run/cs.pid", NULL), CSHUTTLE_EXIT_OK);
	snprintf(want, sizeof(want), "%s/run/cs.pid", cwd);
	assert_string_equal(o.pidfile, want);
	options_free(&o);

	optfix_expect_usage("--alive-interval \"0\": expected whole seconds, "
	    "1-3600", "-r", "gw", "10/8", "--alive-interval", "0", NULL);
	optfix_expect_usage("--alive-timeout \"3601\": expected whole seconds, "
	    "1-3600", "-r", "gw", "10/8", "--alive-timeout", "3601", NULL);
	optfix_expect_usage("--alive-interval \"5s\": expected",
	    "--alive-interval", "5s", NULL);
	optfix_expect_usage("--alive-interval \"-1\": expected",
	    "--alive-interval=-1", NULL);
	optfix_expect_usage("--alive-interval \" 5\": expected",
	    "--alive-interval", " 5", NULL);
	optfix_expect_usage("--alive-timeout \"\": expected", "--alive-timeout",
	    "", NULL);
	optfix_expect_usage("--alive-timeout \"99999999999999999999\": "
	    "expected", "--alive-timeout", "99999999999999999999", NULL);
	/* The interval must leave room for an answer. */
	optfix_expect_usage("--alive-interval (15 s) must be shorter than "
	    "--alive-timeout (15 s)", "-r", "gw", "10/8", "--alive-interval",
	    "15", NULL);
	optfix_expect_usage("--alive-interval (5 s) must be shorter than "
	    "--alive-timeout (3 s)", "-r", "gw", "10/8", "--alive-timeout", "3",
	    NULL);
	optfix_expect_usage("option --daemon takes no argument", "--daemon=yes",
	    NULL);
	optfix_expect_usage("option --syslog takes no argument", "--syslog=1",
	    NULL);
	optfix_expect_usage("option --no-reconnect takes no argument",
	    "--no-reconnect=1", NULL);
	optfix_expect_usage("option --pidfile needs an argument", "-r", "gw",
	    "10/8", "--pidfile", NULL);
	optfix_expect_usage("--pidfile: empty argument", "--pidfile", "", NULL);
	optfix_expect_usage("option --config needs an argument", "--config",
	    NULL);
	optfix_expect_usage("--config: empty file name", "--config", "", NULL);
	optfix_expect_usage("/nonexistent/cshuttle.conf: No such file or "
	    "directory", "--config", "/nonexistent/cshuttle.conf", NULL);

	/* --help, --version and the helper do not read the file. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--config",
	    "/nonexistent/c", "--help", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.show_help);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--version",
	    "--config", "/nonexistent/c", NULL), CSHUTTLE_EXIT_OK);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "--firewall",
	    "--config", "/nonexistent/c", NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.firewall);
	options_free(&o);

	/* From $CSHUTTLE_ARGS too. */
	setenv(OPTIONS_ENV, "-D --alive-timeout 30", 1);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_true(o.daemon);
	assert_int_equal(o.alive_timeout_ms, 30000);
	options_free(&o);
	unsetenv(OPTIONS_ENV);
}

/* -r user:password@host (sshuttle's form) and --name. */
static void
test_password_and_name(void **state)
{
	struct options o;
	char err[256];

	(void)state;
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r",
	    "alice:s3cr:et@gw.example:2222", "10/8", NULL), CSHUTTLE_EXIT_OK);
	/* The password is the user part after its first ':'. */
	assert_string_equal(o.remote, "alice@gw.example:2222");
	assert_string_equal(o.remote_password, "s3cr:et");
	assert_true(o.remote_password_argv);
	assert_null(o.name);
	options_free(&o);
	/* An '@' in the password: the user part ends at the last '@'. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "bob:p@ss@[fd00::1]:22",
	    "10/8", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "bob@[fd00::1]:22");
	assert_string_equal(o.remote_password, "p@ss");
	options_free(&o);
	/* Without a user part, ':' is the port's. */
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw:2222", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw:2222");
	assert_null(o.remote_password);
	options_free(&o);
	optfix_expect_usage("empty password", "-r", "alice:@gw", "10/8", NULL);
	optfix_expect_usage("empty user name", "-r", ":pw@gw", "10/8", NULL);

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8", "--name",
	    "office-2", NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.name, "office-2");
	options_free(&o);
	optfix_expect_usage("--name \"a/b\"", "-r", "gw", "10/8", "--name", "a/b", NULL);
	optfix_expect_usage("--name \".x\"", "-r", "gw", "10/8", "--name", ".x", NULL);
}

/* --max-streams and --buffer-budget: 0 stands for the defaults; sizes
 * take K, M and G (powers of 1024); both have a range. */
static void
test_bounds(void **state)
{
	struct options o;
	char err[512];

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.max_streams, 0);
	assert_int_equal(o.buffer_budget, 0);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--max-streams", "300", "--buffer-budget=4M", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.max_streams, 300);
	assert_int_equal(o.buffer_budget, 4 * 1024 * 1024);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--buffer-budget", "64K", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.buffer_budget, 65536);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--buffer-budget", "2GiB", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.buffer_budget, 2UL * 1024 * 1024 * 1024);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--buffer-budget", "1048576", NULL), CSHUTTLE_EXIT_OK);
	assert_int_equal(o.buffer_budget, 1048576);
	options_free(&o);

	optfix_expect_usage("--max-streams \"0\": expected a number, 1-16777216",
	    "-r", "gw", "10/8", "--max-streams", "0", NULL);
	optfix_expect_usage("--max-streams \"16777217\": expected",
	    "-r", "gw", "10/8", "--max-streams", "16777217", NULL);
	optfix_expect_usage("--buffer-budget \"63K\": expected a size",
	    "-r", "gw", "10/8", "--buffer-budget", "63K", NULL);
	optfix_expect_usage("--buffer-budget \"1025G\": expected a size",
	    "-r", "gw", "10/8", "--buffer-budget", "1025G", NULL);
	optfix_expect_usage("--buffer-budget \"4MB!\": expected a size",
	    "-r", "gw", "10/8", "--buffer-budget", "4MB!", NULL);
	optfix_expect_usage("--buffer-budget \"-4M\": expected a size",
	    "-r", "gw", "10/8", "--buffer-budget=-4M", NULL);
}

/* UDP: on unless --no-udp; --udp-timeout and --max-udp-flows have
 * ranges; 0 in the options stands for the defaults. */
static void
test_udp(void **state)
{
	struct options o;
	char err[512];

	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_false(o.no_udp);
	assert_int_equal(o.udp_timeout_s, 0);
	assert_int_equal(o.max_udp_flows, 0);
	options_free(&o);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
	    "--no-udp", "--udp-timeout", "5", "--max-udp-flows=1000", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_true(o.no_udp);
	assert_int_equal(o.udp_timeout_s, 5);
	assert_int_equal(o.max_udp_flows, 1000);
	options_free(&o);
	optfix_expect_usage("--udp-timeout \"0\": expected a whole number, 1-86400",
	    "-r", "gw", "10/8", "--udp-timeout", "0", NULL);
	optfix_expect_usage("--udp-timeout \"1m\": expected",
	    "-r", "gw", "10/8", "--udp-timeout", "1m", NULL);
	optfix_expect_usage("--max-udp-flows \"65537\": expected a whole number, 1-65536",
	    "-r", "gw", "10/8", "--max-udp-flows", "65537", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test_setup_teardown(test_basic, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_long_forms, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_modes_without_remote,
		    optfix_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_usage_errors, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_names_in_subnets,
		    optfix_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_names_kept, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_stub_options, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_always_on, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_udp, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_bounds, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_password_and_name, optfix_setup,
		    optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
