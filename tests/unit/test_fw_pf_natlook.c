/* SPDX-License-Identifier: ISC */
/*
 * test_fw_pf_natlook.c - DIOCNATLOOK through the code the pf build uses,
 * against a fake /dev/pf: the request must carry the client and the
 * listener where each system's struct pfioc_natlook has them (the byte
 * offsets of fw_pf_natlook.c, written out again here from the headers),
 * under the right ioctl code; the answer the device writes must come back
 * as the original destination; a lookup pf cannot answer is an error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "fw_pf_natlook.h"

/* Where the fake device finds and puts things: one row per system. */
struct layout {
	enum fw_pf_abi	abi;
	unsigned long	code;
	size_t		size, saddr, daddr, rdaddr, sport, dport, rdport, af, proto, dir;
	uint8_t		af6;
};

static const struct layout L_FREEBSD = { FW_PF_ABI_FREEBSD, 0xc04c4417UL, 76,
	0, 16, 48, 64, 66, 70, 72, 73, 74, 28 };
static const struct layout L_MACOS = { FW_PF_ABI_MACOS, 0xc0544417UL, 84,
	0, 16, 48, 64, 68, 76, 80, 81, 83, 30 };

static const struct layout	*fake_layout;
static int			 fake_calls, fake_errno;
static struct addr		 fake_answer;

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
fake_ioctl(int fd, unsigned long request, void *arg)
{
	const struct layout	*l = fake_layout;
	uint8_t			*b = arg;
	size_t			 alen;

	fake_calls++;
	assert_int_equal(fd, 42);
	assert_int_equal(request, l->code);
	/* The client 192.0.2.10:40000 / [2001:db8::10]:40000 asked, the
	 * listener 127.0.0.1:12300 / [::1]:12300 took it. */
	alen = b[l->af] == 2 ? 4 : 16;
	assert_true(b[l->af] == 2 || b[l->af] == l->af6);
	if (alen == 4) {
		assert_memory_equal(b + l->saddr, "\xc0\x00\x02\x0a", 4);
		assert_memory_equal(b + l->daddr, "\x7f\x00\x00\x01", 4);
	} else {
		assert_memory_equal(b + l->saddr,
		    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x10", 16);
		assert_memory_equal(b + l->daddr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	}
	assert_int_equal(be16(b + l->sport), 40000);
	assert_int_equal(be16(b + l->dport), 12300);
	assert_int_equal(b[l->proto], 6);
	assert_int_equal(b[l->dir], 2);		/* PF_OUT */
	/* Nothing past the structure is touched. */
	if (fake_errno != 0) {
		errno = fake_errno;
		return -1;
	}
	memcpy(b + l->rdaddr, fake_answer.bytes, alen);
	b[l->rdport] = (uint8_t)(fake_answer.port >> 8);
	b[l->rdport + 1] = (uint8_t)fake_answer.port;
	return 0;
}

static void
t_addr(struct addr *a, const char *s)
{
	assert_int_equal(addr_parse(a, s, (size_t)-1, ADDR_P_PORT, 0), 0);
}

static void
t_lookup(const struct layout *l, const char *peer_s, const char *local_s, const char *want)
{
	struct addr	peer, local, orig;
	char		buf[ADDR_STRLEN];

	t_addr(&peer, peer_s);
	t_addr(&local, local_s);
	t_addr(&fake_answer, want);
	fake_layout = l;
	fake_errno = 0;
	fake_calls = 0;
	assert_int_equal(fw_pf_natlook(42, fake_ioctl, l->abi, &peer, &local, &orig), 0);
	assert_int_equal(fake_calls, 1);
	assert_string_equal(addr_format(&orig, true, buf, sizeof(buf)), want);
}

static void
test_freebsd(void **state)
{
	t_lookup(&L_FREEBSD, "192.0.2.10:40000", "127.0.0.1:12300", "198.51.100.7:443");
	t_lookup(&L_FREEBSD, "[2001:db8::10]:40000", "[::1]:12300", "[2001:db8:5::7]:8443");
}

static void
test_macos(void **state)
{
	t_lookup(&L_MACOS, "192.0.2.10:40000", "127.0.0.1:12300", "198.51.100.7:443");
	t_lookup(&L_MACOS, "[2001:db8::10]:40000", "[::1]:12300", "[2001:db8:5::7]:8443");
}

/* The request's length is the structure's, and the code says so. */
static void
test_sizes(void **state)
{
	struct addr	peer, local;
	uint8_t		req[FW_PF_NATLOOK_MAX];
	size_t		len;
	unsigned long	code;

	t_addr(&peer, "192.0.2.10:40000");
	t_addr(&local, "127.0.0.1:12300");
	assert_int_equal(fw_pf_natlook_build(FW_PF_ABI_FREEBSD, &peer, &local, req, &len,
	    &code), 0);
	assert_int_equal(len, 76);
	assert_int_equal((code >> 16) & 0x1fff, 76);
	assert_int_equal(fw_pf_natlook_build(FW_PF_ABI_MACOS, &peer, &local, req, &len,
	    &code), 0);
	assert_int_equal(len, 84);
	assert_int_equal(code, 0xc0544417UL);
}

/* No state (a connection pf did not redirect), mixed families, and an
 * answer without a port: errors, never a made-up destination. */
static void
test_errors(void **state)
{
	struct addr	peer, local, orig;

	t_addr(&peer, "192.0.2.10:40000");
	t_addr(&local, "127.0.0.1:12300");
	fake_layout = &L_FREEBSD;
	fake_errno = ENOENT;
	assert_int_equal(fw_pf_natlook(42, fake_ioctl, FW_PF_ABI_FREEBSD, &peer, &local,
	    &orig), -ENOENT);
	fake_errno = 0;
	t_addr(&fake_answer, "198.51.100.7:0");
	assert_int_equal(fw_pf_natlook(42, fake_ioctl, FW_PF_ABI_FREEBSD, &peer, &local,
	    &orig), -EINVAL);
	t_addr(&local, "[::1]:12300");
	fake_calls = 0;
	assert_int_equal(fw_pf_natlook(42, fake_ioctl, FW_PF_ABI_FREEBSD, &peer, &local,
	    &orig), -EINVAL);
	assert_int_equal(fake_calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_freebsd),
		cmocka_unit_test(test_macos),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
