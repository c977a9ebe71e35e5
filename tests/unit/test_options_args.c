/* SPDX-License-Identifier: ISC */
/*
 * test_options_args.c - options_args.c: the arguments assembled from
 * $CSHUTTLE_ARGS and argv, @files (their syntax and nesting), and the
 * subnet files -s and -X name.
 */
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
test_argfiles(void **state)
{
	struct options o;
	char err[512], arg[256], buf[256];
	const char *inner;

	inner = optfix_write_file("inner", "-x\n10.9/16\n");
	snprintf(arg, sizeof(arg), "@%s", inner);
	/* Lines are trimmed; blank lines and '#' lines are skipped; an
	 * argument keeps its inner spaces. */
	optfix_write_file("outer",
	    "# the gateway\n"
	    "-r\n"
	    "  gw  \n"
	    "\n"
	    "   # indented comment\n"
	    "10/8\r\n"
	    "-e\n"
	    "ssh -F my config\n");
	snprintf(buf, sizeof(buf), "@%s/outer", optfix_tmpdir);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), buf, arg, "-v",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw");
	assert_string_equal(o.ssh_cmd, "ssh -F my config");
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.subnets.n, 2);
	assert_true(o.subnets.v[0].exclude);
	assert_string_equal(subnet_format(&o.subnets.v[0], buf, sizeof(buf)),
	    "10.9.0.0/16");
	options_free(&o);

	/* "--" ends @file expansion: the word is then a (bad) subnet. */
	optfix_expect_usage("bad subnet \"@nope\"", "-r", "gw", "--", "@nope",
	    NULL);
	optfix_expect_usage("cannot open argument file", "@/nonexistent/args",
	    NULL);
	optfix_expect_usage("\"@\" needs a file name", "@", NULL);
}

static void
test_argfile_depth(void **state)
{
	struct options o;
	char err[512], text[256], arg[256];
	int i;

	/* f1 -> f2 -> f3 -> f4 is allowed (depth 4)... */
	optfix_write_file("f4", "-r\ngw\n10/8\n");
	for (i = 3; i >= 1; i--) {
		char name[8];

		snprintf(text, sizeof(text), "@%s/f%d\n", optfix_tmpdir, i + 1);
		snprintf(name, sizeof(name), "f%d", i);
		optfix_write_file(name, text);
	}
	snprintf(arg, sizeof(arg), "@%s/f1", optfix_tmpdir);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), arg, NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "gw");
	options_free(&o);

	/* ...f0 -> f1 -> ... -> f4 is one too many. */
	snprintf(text, sizeof(text), "@%s/f1\n", optfix_tmpdir);
	optfix_write_file("f0", text);
	snprintf(arg, sizeof(arg), "@%s/f0", optfix_tmpdir);
	optfix_expect_usage("nested more than 4 deep", arg, NULL);

	/* A file including itself stops at the same limit. */
	snprintf(text, sizeof(text), "-v\n@%s/self\n", optfix_tmpdir);
	optfix_write_file("self", text);
	snprintf(arg, sizeof(arg), "@%s/self", optfix_tmpdir);
	optfix_expect_usage("nested more than 4 deep", arg, NULL);
}

static void
test_env_args(void **state)
{
	struct options o;
	char err[256], buf[256];

	setenv(OPTIONS_ENV, "  -e \"ssh -o 'A B' \\\"q\\\"\" -x 'fd00::/8'\t"
	    "-r envhost   -v ", 1);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "10/8", NULL),
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
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "cmdhost",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "cmdhost");
	options_free(&o);

	/* Backslash outside quotes, adjacent quoted parts, empty word. */
	setenv(OPTIONS_ENV, "-e a\\ b'c d'\"e\" -r ''", 1);
	optfix_expect_usage("-r: empty argument", NULL);
	setenv(OPTIONS_ENV, "-e a\\ b'c d'\"e\"", 1);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "0/0",
	    NULL), CSHUTTLE_EXIT_OK);
	assert_string_equal(o.ssh_cmd, "a bc de");
	options_free(&o);

	/* @files work from the environment too. */
	optfix_write_file("envargs", "-r\nfromfile\n");
	snprintf(buf, sizeof(buf), "@%s/envargs", optfix_tmpdir);
	setenv(OPTIONS_ENV, buf, 1);
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "10/8", NULL),
	    CSHUTTLE_EXIT_OK);
	assert_string_equal(o.remote, "fromfile");
	options_free(&o);

	setenv(OPTIONS_ENV, "-r 'gw", 1);
	optfix_expect_usage("$CSHUTTLE_ARGS: unterminated ' quote", "10/8",
	    NULL);
	setenv(OPTIONS_ENV, "-r \"gw", 1);
	optfix_expect_usage("unterminated \" quote", "10/8", NULL);
	setenv(OPTIONS_ENV, "--bogus", 1);
	optfix_expect_usage("unknown option --bogus", "-r", "gw",
	    "10/8", NULL);
}

static void
test_subnet_files(void **state)
{
	struct options o;
	char err[512], buf[64], want[256];
	const char *inc, *exc, *bad;

	inc = optfix_write_file("inc", "10/8 192.168.0.0/16 # office\n\n"
	    "\tfd00::/8\n# 1.2.3.4\nweb.test:80");
	exc = optfix_write_file("exc", "10.1/16\n");
	assert_int_equal(optfix_parse(&o, err, sizeof(err), "-r", "gw", "-s",
	    inc, "--exclude-from", exc, NULL), CSHUTTLE_EXIT_OK);
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
	optfix_expect_usage("no subnets to forward", "-r", "gw", "-X", exc,
	    NULL);

	bad = optfix_write_file("bad", "10/8\n# ok\n1.2.3.4 10.0.0.0/33\n");
	snprintf(want, sizeof(want), "subnet file \"%s\" line 3: bad subnet "
	    "\"10.0.0.0/33\": prefix length must be 0-32", bad);
	optfix_expect_usage(want, "-r", "gw", "-s", bad, NULL);
	snprintf(want, sizeof(want), "exclude file \"%s\" line 3", bad);
	optfix_expect_usage(want, "-r", "gw", "10/8", "-X", bad, NULL);
	optfix_expect_usage("cannot open subnet file \"/nonexistent/x\"", "-r",
	    "gw", "--subnets", "/nonexistent/x", NULL);
	bad = optfix_write_file("nx", "foo.invalid\n");
	optfix_expect_usage("line 1: cannot resolve host \"foo.invalid\"", "-r",
	    "gw", "-s", bad, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_argfiles, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_argfile_depth,
		    optfix_setup, optfix_teardown),
		cmocka_unit_test_setup_teardown(test_env_args, optfix_setup,
		    optfix_teardown),
		cmocka_unit_test_setup_teardown(test_subnet_files, optfix_setup,
		    optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
