/* SPDX-License-Identifier: ISC */
/*
 * test_bootstrap.c - the pure parts of the stub bootstrap
 * (ssh/bootstrap.c): the remote's greeting, the checksum, and a script
 * that any login shell passes through unchanged.
 *
 * The script itself runs under dash and busybox sh in
 * tests/integration/bootstrap_script.c; the bootstrap through the
 * external-command transport is in test_transport_cmd.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bootstrap.h"

static int
parse_boot(const char *line, int *v, char *os, char *m, char *cc)
{
	return bootstrap_parse_boot(line, v, os, 32, m, 32, cc, 8);
}

static void
test_parse_boot(void **state)
{
	char	os[32], m[32], cc[8];
	int	v;

	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 cc", &v, os, m, cc), 0);
	assert_int_equal(v, 2);
	assert_string_equal(os, "Linux");
	assert_string_equal(m, "x86_64");
	assert_string_equal(cc, "cc");
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux armv7l - ", &v, os, m, cc), 0);
	assert_string_equal(m, "armv7l");
	assert_string_equal(cc, "-");
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux riscv64 gcc", &v, os, m, cc), 0);
	assert_string_equal(cc, "gcc");
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux mips clang", &v, os, m, cc), 0);
	assert_string_equal(cc, "clang");
	/* Another version parses: the caller reports it as unsupported. */
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 3 Linux x86_64 -", &v, os, m, cc), 0);
	assert_int_equal(v, 3);

	/* The version 1 greeting (no compiler word) and other garbage. */
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 1 Linux x86_64", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 cc extra", &v, os, m, cc),
	    -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 tcc", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x86_64 /usr/bin/cc", &v, os, m,
	    cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT x Linux x86_64 cc", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux x/../y cc", &v, os, m, cc), -1);
	assert_int_equal(parse_boot("hello", &v, os, m, cc), -1);
	/* A word longer than its buffer is refused, not truncated. */
	assert_int_equal(parse_boot("CSHUTTLE-BOOT 2 Linux "
	    "x123456789012345678901234567890123 cc", &v, os, m, cc), -1);
}

static void
test_sha256_hex(void **state)
{
	char	hex[65];

	bootstrap_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_script_is_portable(void **state)
{
	const char	*s = bootstrap_script(), *c = bootstrap_command();

	/* What csh, fish and friends would mangle inside '...'. */
	assert_null(strchr(s, '\''));
	assert_null(strchr(s, '\\'));
	assert_null(strchr(s, '!'));
	assert_null(strchr(s, '\n'));
	assert_true(strncmp(c, "exec /bin/sh -c '", 17) == 0);
	assert_int_equal(strlen(c), strlen(s) + 18);
	assert_int_equal(c[strlen(c) - 1], '\'');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_boot),
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_script_is_portable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
