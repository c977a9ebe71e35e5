/* SPDX-License-Identifier: ISC */
/*
 * test_buf.c - the byte queue (common/buf.c): its hard maximum (the
 * back-pressure signal), reserve/commit, consuming from the head, storage
 * given back when empty unless kept; and the big-endian helpers of buf.h
 * (get/set on bytes, put onto a queue, failing like buf_append()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_get_set(void **state)
{
	static const uint8_t	be[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	uint8_t			p[10];

	assert_int_equal(buf_get_u16(be), 0x0123);
	assert_int_equal(buf_get_u32(be), 0x01234567);
	assert_true(buf_get_u64(be) == 0x0123456789abcdefULL);
	/* The top bit does not sign-extend. */
	assert_int_equal(buf_get_u16(be + 4), 0x89ab);
	assert_true(buf_get_u32(be + 4) == 0x89abcdefU);

	/* set writes exactly its width, most significant byte first. */
	memset(p, 0xee, sizeof(p));
	buf_set_u16(p + 1, 0xbeef);
	assert_memory_equal(p, "\xee\xbe\xef\xee", 4);
	memset(p, 0xee, sizeof(p));
	buf_set_u32(p + 1, 0xdeadbeef);
	assert_memory_equal(p, "\xee\xde\xad\xbe\xef\xee", 6);
	memset(p, 0xee, sizeof(p));
	buf_set_u64(p + 1, 0x0123456789abcdefULL);
	assert_memory_equal(p + 1, be, 8);
	assert_int_equal(p[0], 0xee);
	assert_int_equal(p[9], 0xee);

	/* Round trips at the edges. */
	buf_set_u16(p, 0);
	assert_int_equal(buf_get_u16(p), 0);
	buf_set_u16(p, UINT16_MAX);
	assert_int_equal(buf_get_u16(p), UINT16_MAX);
	buf_set_u32(p, UINT32_MAX);
	assert_true(buf_get_u32(p) == UINT32_MAX);
	buf_set_u64(p, UINT64_MAX);
	assert_true(buf_get_u64(p) == UINT64_MAX);
	buf_set_u64(p, 1ULL << 63);
	assert_memory_equal(p, "\x80\0\0\0\0\0\0\0", 8);
}

static void
test_put(void **state)
{
	struct buf	b;

	buf_init(&b, 8);
	assert_int_equal(buf_put_u8(&b, 0xfe), 0);
	assert_int_equal(buf_put_u16(&b, 0x1234), 0);
	assert_int_equal(buf_put_u32(&b, 0x89abcdef), 0);
	assert_int_equal(buf_len(&b), 7);
	assert_memory_equal(buf_ptr(&b), "\xfe\x12\x34\x89\xab\xcd\xef", 7);
	/* One byte left: a u16 or u32 does not fit and nothing is queued. */
	assert_int_equal(buf_put_u16(&b, 0xffff), BUF_E_FULL);
	assert_int_equal(buf_put_u32(&b, 0xffffffff), BUF_E_FULL);
	assert_int_equal(buf_len(&b), 7);
	assert_int_equal(buf_put_u8(&b, 0x01), 0);
	assert_int_equal(buf_put_u8(&b, 0x02), BUF_E_FULL);
	assert_int_equal(buf_len(&b), 8);
	assert_memory_equal(buf_ptr(&b), "\xfe\x12\x34\x89\xab\xcd\xef\x01", 8);
	buf_free(&b);
}

static void
test_queue(void **state)
{
	struct buf	b;
	uint8_t		chunk[1000], *p;
	size_t		i;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	buf_init(&b, 10000);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_room(&b), 10000);
	assert_null(b.data);			/* nothing allocated yet */
	assert_int_equal(buf_append(&b, chunk, 0), 0);
	assert_null(b.data);

	/* Ten appends fill it exactly; the eleventh byte is refused. */
	for (i = 0; i < 10; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(buf_len(&b), 10000);
	assert_int_equal(buf_room(&b), 0);
	assert_int_equal(buf_append(&b, chunk, 1), BUF_E_FULL);
	assert_null(buf_reserve(&b, 1));
	assert_true(b.cap <= 10000);		/* grown by doubling, up to max */

	/* Consumed from the head, in order. */
	buf_consume(&b, 999);
	assert_int_equal(buf_len(&b), 9001);
	assert_int_equal(buf_ptr(&b)[0], chunk[999]);
	assert_int_equal(buf_ptr(&b)[1], chunk[0]);
	/* The room consumed is usable again. */
	assert_int_equal(buf_append(&b, chunk, 999), 0);
	assert_int_equal(buf_len(&b), 10000);
	assert_int_equal(buf_ptr(&b)[1], chunk[0]);
	assert_int_equal(buf_ptr(&b)[9999], chunk[998]);

	/* Emptied: the storage goes. */
	buf_consume(&b, buf_len(&b));
	assert_int_equal(buf_len(&b), 0);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);

	/* reserve + commit: nothing is queued before the commit. */
	p = buf_reserve(&b, 3);
	assert_non_null(p);
	memcpy(p, "abc", 3);
	assert_int_equal(buf_len(&b), 0);
	buf_commit(&b, 2);
	assert_int_equal(buf_len(&b), 2);
	assert_memory_equal(buf_ptr(&b), "ab", 2);
	assert_null(buf_reserve(&b, 9999));
	assert_non_null(buf_reserve(&b, 9998));

	/* A kept queue keeps its storage when emptied. */
	b.keep = 1;
	buf_consume(&b, 2);
	assert_non_null(b.data);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
	assert_null(b.data);
	buf_free(NULL);
}

/* A queue smaller than the first allocation still holds its maximum. */
static void
test_small_max(void **state)
{
	struct buf	b;

	buf_init(&b, 3);
	assert_int_equal(buf_append(&b, "abcd", 4), BUF_E_FULL);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_room(&b), 0);
	buf_consume(&b, 1);
	assert_int_equal(buf_append(&b, "d", 1), 0);
	assert_memory_equal(buf_ptr(&b), "bcd", 3);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_set),
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_small_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
