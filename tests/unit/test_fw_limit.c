/* SPDX-License-Identifier: ISC */
/*
 * test_fw_limit.c - the bounds on a caller other than root
 * (firewall/fw_limit.c): the request pacing, and the helper slots (held
 * in a directory that must be root's: as another user, the test checks
 * that it is refused).
 */
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw_limit.h"

static void
test_bucket(void **state)
{
	struct fw_limit_bucket b;
	uint64_t t = 1000000;
	int i;

	/* a burst at once, then the rate */
	fw_limit_bucket_init(&b, t);
	for (i = 0; i < FW_LIMIT_BURST; i++)
		assert_int_equal(fw_limit_bucket_take(&b, t), 0);
	assert_int_equal(fw_limit_bucket_take(&b, t), 1000 / FW_LIMIT_RATE);
	assert_int_equal(fw_limit_bucket_take(&b, t + 50), 50);
	assert_int_equal(fw_limit_bucket_take(&b, t + 100), 0);
	assert_int_equal(fw_limit_bucket_take(&b, t + 100),
	    1000 / FW_LIMIT_RATE);
	/* waiting as told is enough, every time: the rate holds */
	t += 100;
	for (i = 0; i < 50; i++) {
		uint64_t w = fw_limit_bucket_take(&b, t);

		assert_true(w > 0 && w <= 1000 / FW_LIMIT_RATE);
		t += w;
		assert_int_equal(fw_limit_bucket_take(&b, t), 0);
	}
	/* a long pause fills it, no more than a burst */
	t += 3600ULL * 1000;
	for (i = 0; i < FW_LIMIT_BURST; i++)
		assert_int_equal(fw_limit_bucket_take(&b, t), 0);
	assert_true(fw_limit_bucket_take(&b, t) > 0);
	/* a clock that seems to go back takes nothing away */
	assert_true(fw_limit_bucket_take(&b, t - 10) > 0);
	assert_int_equal(fw_limit_bucket_take(&b, t + 100), 0);
}

/* UDPREPLY's bucket: its own burst and rate. */
static void
test_bucket_rate(void **state)
{
	struct fw_limit_bucket b;
	uint64_t t = 5000;
	int i;

	(void)state;
	fw_limit_bucket_init_rate(&b, t, FW_LIMIT_UDP_BURST, FW_LIMIT_UDP_RATE);
	for (i = 0; i < FW_LIMIT_UDP_BURST; i++)
		assert_int_equal(fw_limit_bucket_take(&b, t), 0);
	assert_int_equal(fw_limit_bucket_take(&b, t), 2);	/* 500/s */
	assert_int_equal(fw_limit_bucket_take(&b, t + 2), 0);
	/* a second refills FW_LIMIT_UDP_RATE of them */
	t += 1002;
	for (i = 0; i < FW_LIMIT_UDP_RATE; i++)
		assert_int_equal(fw_limit_bucket_take(&b, t), 0);
	assert_true(fw_limit_bucket_take(&b, t) > 0);
	/* nonsense is made sane, not a division by zero */
	fw_limit_bucket_init_rate(&b, t, 0, 0);
	assert_int_equal(fw_limit_bucket_take(&b, t), 0);
	assert_int_equal(fw_limit_bucket_take(&b, t), 1000);
	memset(&b, 0, sizeof(b));	/* never initialised */
	assert_int_equal(fw_limit_bucket_take(&b, t), 0);
}

static void
test_slots(void **state)
{
	struct fw_limit_slot s[3], none = { .fd = -1 };
	char base[] = "/tmp/test_fw_limit.XXXXXX", dir[256], err[256];
	char path[512];
	struct stat st;
	int held;

	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/cshuttle/helper", base);
	fw_limit_slot_release(&none, dir);	/* nothing taken: nothing done */

	if (geteuid() != 0) {
		/* the directory would not be root's: refused */
		assert_int_equal(fw_limit_slot_take(&s[0], dir, 1001, 4, &held,
		    err, sizeof(err)), -1);
		assert_non_null(strstr(err, "owned by root"));
		assert_int_equal(s[0].fd, -1);
		goto out;
	}
	/* as root: its base must not be writable by others either */
	assert_int_equal(chmod(base, 0755), 0);
	assert_int_equal(fw_limit_slot_take(&s[0], dir, 1001, 2, &held, err,
	    sizeof(err)), 0);
	assert_string_equal(s[0].name, "1001.0");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fw_limit_slot_take(&s[1], dir, 1001, 2, &held, err,
	    sizeof(err)), 0);
	assert_string_equal(s[1].name, "1001.1");
	assert_int_equal(held, 1);
	/* all held */
	assert_int_equal(fw_limit_slot_take(&s[2], dir, 1001, 2, &held, err,
	    sizeof(err)), 1);
	assert_int_equal(held, 2);
	assert_int_equal(s[2].fd, -1);
	/* another uid has slots of its own */
	assert_int_equal(fw_limit_slot_take(&s[2], dir, 1002, 1, &held, err,
	    sizeof(err)), 0);
	fw_limit_slot_release(&s[2], dir);
	/* a released slot is free again, and its file gone */
	fw_limit_slot_release(&s[0], dir);
	assert_int_equal(s[0].fd, -1);
	snprintf(path, sizeof(path), "%s/1001.0", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(fw_limit_slot_take(&s[0], dir, 1001, 2, &held, err,
	    sizeof(err)), 0);
	assert_string_equal(s[0].name, "1001.0");
	fw_limit_slot_release(&s[0], dir);
	fw_limit_slot_release(&s[1], dir);
	/* a directory someone else may write is refused */
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(fw_limit_slot_take(&s[0], dir, 1001, 2, &held, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "owned by root"));
	rmdir(dir);
 out:
	snprintf(path, sizeof(path), "%s/cshuttle", base);
	rmdir(dir);
	rmdir(path);
	rmdir(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_bucket_rate),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
