/* SPDX-License-Identifier: ISC */
/*
 * test_words.c - command lines as words (common/words.c): splitting with
 * quotes and escapes, the errors, and quoting for a POSIX shell.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "words.h"

static void
test_split_words(void **state)
{
	char	**v, err[128];
	int	  n;

	assert_int_equal(words_split("ssh -F cfg", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "ssh");
	assert_string_equal(v[2], "cfg");
	assert_null(v[3]);
	words_free(v);

	assert_int_equal(words_split("  a\\ b 'c d' \"e \\\"f\\\" \\x\" g''h ", &v, &n,
	    err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "a b");
	assert_string_equal(v[1], "c d");
	assert_string_equal(v[2], "e \"f\" \\x");
	assert_string_equal(v[3], "gh");
	words_free(v);

	assert_int_equal(words_split("''", &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "");
	words_free(v);

	assert_int_equal(words_split("ssh 'oops", &v, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated"));
	assert_int_equal(words_split("   ", &v, &n, err, sizeof(err)), -1);
	assert_int_equal(words_split("a\\", &v, &n, err, sizeof(err)), -1);
}

static void
test_shquote(void **state)
{
	char	out[64];

	assert_int_equal(words_shquote("a b", out, sizeof(out)), 0);
	assert_string_equal(out, "'a b'");
	assert_int_equal(words_shquote("it's", out, sizeof(out)), 0);
	assert_string_equal(out, "'it'\\''s'");
	assert_int_equal(words_shquote("0123456789", out, 12), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_shquote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
