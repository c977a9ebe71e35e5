/* SPDX-License-Identifier: ISC */
/*
 * test_stub_hosts.c - the stub's hosts-file parser (stub_hosts.c): which
 * pairs are kept, lower-cased and once, and that nothing a HOSTS frame
 * could not carry gets through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stub_hosts.h"

static void
t_expect(const struct stub_hosts *h, size_t i, const char *addr, const char *name)
{
	struct addr	a;

	assert_true(i < h->n);
	assert_int_equal(addr_parse(&a, addr, (size_t)-1, 0, 0), 0);
	assert_true(addr_equal(&h->h[i].addr, &a));
	assert_string_equal(h->h[i].name, name);
}

static void
test_parse(void **state)
{
	static const char text[] =
	    "# comment line\n"
	    "127.0.0.1\tlocalhost\n"
	    "127.0.1.1\tremotebox.example remotebox\n"
	    "::1 localhost ip6-localhost ip6-loopback\n"
	    "fe80::1 linklocal\n"
	    "0.0.0.0 blocked.example\n"
	    "198.19.0.2   LabPriv.Lab.Internal labpriv   # the private host\n"
	    "198.19.0.2 labpriv\n"			/* again: once */
	    "fd5e:0:0:2::2\tlabpriv\r\n"
	    "198.19.0.3 bad_name! good.example. x..y\n"
	    "not-an-address name\n"
	    "198.19.0.4\n"
	    "   \t\n"
	    "198.19.0.5 app.localhost last";		/* no final newline */
	struct stub_hosts	*h;

	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	assert_int_equal(stub_hosts_parse(h, text), 5);
	assert_int_equal(h->n, 5);
	t_expect(h, 0, "198.19.0.2", "labpriv.lab.internal");
	t_expect(h, 1, "198.19.0.2", "labpriv");
	t_expect(h, 2, "fd5e:0:0:2::2", "labpriv");
	t_expect(h, 3, "198.19.0.3", "good.example");
	t_expect(h, 4, "198.19.0.5", "last");
	/* Parsing again adds nothing new. */
	assert_int_equal(stub_hosts_parse(h, text), 0);
	free(h);
}

/* As many as fit in one frame, and no more than PROTO_HOSTS_MAX. */
static void
test_bounds(void **state)
{
	struct stub_hosts	*h;
	char			*text, *p;
	uint8_t			*b;
	struct proto_frame	 f;
	size_t			 i;
	int			 n;

	h = calloc(1, sizeof(*h));
	text = malloc(3000 * 300);
	b = malloc(PROTO_MAX_FRAME);
	assert_non_null(h);
	assert_non_null(text);
	assert_non_null(b);
	for (p = text, i = 0; i < 3000; i++)
		p += sprintf(p, "10.%zu.%zu.1 h%zu\n", i / 250, i % 250, i);
	assert_int_equal(stub_hosts_parse(h, text), PROTO_HOSTS_MAX);
	n = proto_put_hosts(b, PROTO_MAX_FRAME, h->h, h->n);
	assert_true(n > 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	assert_int_equal(f.u.hosts, PROTO_HOSTS_MAX);

	/* Long names: the frame's size is the limit. */
	memset(h, 0, sizeof(*h));
	for (p = text, i = 0; i < 300; i++) {
		p += sprintf(p, "10.0.%zu.%zu ", i / 250, i % 250);
		memset(p, 'a', 60);
		p[60] = '.';
		memcpy(p + 61, p, 61);
		memcpy(p + 122, p, 61);
		p += 183;
		p += sprintf(p, "%060zu\n", i);
	}
	n = (int)stub_hosts_parse(h, text);
	assert_true(n > 100 && n < 300);
	assert_true(h->bytes <= PROTO_MAX_PAYLOAD);
	n = proto_put_hosts(b, PROTO_MAX_FRAME, h->h, h->n);
	assert_true(n > 0);
	assert_int_equal(proto_parse(b, (size_t)n, &f), n);
	free(b);
	free(text);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
