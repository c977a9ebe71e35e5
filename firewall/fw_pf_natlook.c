/* SPDX-License-Identifier: ISC */
/*
 * fw_pf_natlook.c - DIOCNATLOOK requests (see fw_pf_natlook.h).
 *
 * The layouts, from the public sources of each system:
 *
 *   FreeBSD, sys/net/pfvar.h (freebsd/freebsd-src, commit 159ecae8f8ba,
 *   and the same in pf(4) of FreeBSD 12.2, Debian's freebsd-manpages):
 *	struct pfioc_natlook {
 *		struct pf_addr saddr, daddr, rsaddr, rdaddr;	0, 16, 32, 48
 *		u_int16_t sport, dport, rsport, rdport;		64, 66, 68, 70
 *		sa_family_t af;					72 (u_int8_t)
 *		u_int8_t proto, direction;			73, 74
 *	};							76 (align 4)
 *
 *   macOS, bsd/net/pfvar.h (apple-oss-distributions/xnu, commit
 *   5c2921b07a24; not shipped in the SDK, so there is no header to check
 *   against on a Mac):
 *	struct pfioc_natlook {
 *		struct pf_addr saddr, daddr, rsaddr, rdaddr;	0, 16, 32, 48
 *		union pf_state_xport sxport, dxport,		64, 68
 *		    rsxport, rdxport;				72, 76
 *			(u_int16_t port; u_int16_t call_id; u_int32_t spi)
 *		sa_family_t af;					80 (u_int8_t)
 *		u_int8_t proto, proto_variant, direction;	81, 82, 83
 *	};							84
 *
 *   Both: struct pf_addr is a 16-byte union (in_addr, in6_addr, u_int32_t
 *   [4]...), addresses and ports in network order; DIOCNATLOOK is
 *   _IOWR('D', 23, struct pfioc_natlook): IOC_INOUT 0xc0000000 | length
 *   (13 bits) << 16 | 'D' << 8 | 23; enum { PF_INOUT, PF_IN, PF_OUT }.
 *
 * The lookup is made with direction PF_OUT, the client's address and port
 * as the source and the listener's as the destination, as sshuttle's pf
 * method does on both systems.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#if defined(__FreeBSD__)
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <net/pfvar.h>
#endif

#include "fw_pf_natlook.h"

#define PFNL_IOWR(group, num, len) \
	(0xc0000000UL | (((unsigned long)(len) & 0x1fff) << 16) | \
	    ((unsigned long)(group) << 8) | (unsigned long)(num))

#define PFNL_PF_OUT	2
#define PFNL_AF_INET_BSD	2	/* AF_INET on both */
#define PFNL_AF_INET6_FREEBSD	28
#define PFNL_AF_INET6_MACOS	30
#define PFNL_PROTO_TCP	6

union fw_pf_addr {
	uint8_t		b[16];
	uint32_t	w[4];
};

struct fw_pfnl_freebsd {
	union fw_pf_addr saddr, daddr, rsaddr, rdaddr;
	uint16_t	 sport, dport, rsport, rdport;
	uint8_t		 af, proto, direction;
};

union fw_pf_xport {
	uint16_t	port;
	uint16_t	call_id;
	uint32_t	spi;
};

struct fw_pfnl_macos {
	union fw_pf_addr saddr, daddr, rsaddr, rdaddr;
	union fw_pf_xport sxport, dxport, rsxport, rdxport;
	uint8_t		 af, proto, proto_variant, direction;
};

/* The figures above, checked wherever this compiles. */
_Static_assert(sizeof(struct fw_pfnl_freebsd) == 76, "FreeBSD pfioc_natlook size");
_Static_assert(offsetof(struct fw_pfnl_freebsd, daddr) == 16, "FreeBSD daddr");
_Static_assert(offsetof(struct fw_pfnl_freebsd, rdaddr) == 48, "FreeBSD rdaddr");
_Static_assert(offsetof(struct fw_pfnl_freebsd, sport) == 64, "FreeBSD sport");
_Static_assert(offsetof(struct fw_pfnl_freebsd, rdport) == 70, "FreeBSD rdport");
_Static_assert(offsetof(struct fw_pfnl_freebsd, af) == 72, "FreeBSD af");
_Static_assert(offsetof(struct fw_pfnl_freebsd, direction) == 74, "FreeBSD direction");
_Static_assert(PFNL_IOWR('D', 23, 76) == 0xc04c4417UL, "FreeBSD DIOCNATLOOK");
_Static_assert(sizeof(struct fw_pfnl_macos) == 84, "macOS pfioc_natlook size");
_Static_assert(offsetof(struct fw_pfnl_macos, sxport) == 64, "macOS sxport");
_Static_assert(offsetof(struct fw_pfnl_macos, rdxport) == 76, "macOS rdxport");
_Static_assert(offsetof(struct fw_pfnl_macos, af) == 80, "macOS af");
_Static_assert(offsetof(struct fw_pfnl_macos, direction) == 83, "macOS direction");
_Static_assert(PFNL_IOWR('D', 23, 84) == 0xc0544417UL, "macOS DIOCNATLOOK");
_Static_assert(sizeof(struct fw_pfnl_macos) <= FW_PF_NATLOOK_MAX, "request buffer");

#if defined(__FreeBSD__)
/* Built on FreeBSD: the real structure and code as well. */
_Static_assert(sizeof(struct pfioc_natlook) == sizeof(struct fw_pfnl_freebsd),
    "pfioc_natlook changed size");
_Static_assert(offsetof(struct pfioc_natlook, rdaddr) ==
    offsetof(struct fw_pfnl_freebsd, rdaddr), "pfioc_natlook.rdaddr moved");
_Static_assert(offsetof(struct pfioc_natlook, rdport) ==
    offsetof(struct fw_pfnl_freebsd, rdport), "pfioc_natlook.rdport moved");
_Static_assert(offsetof(struct pfioc_natlook, direction) ==
    offsetof(struct fw_pfnl_freebsd, direction), "pfioc_natlook.direction moved");
_Static_assert(DIOCNATLOOK == PFNL_IOWR('D', 23, 76), "DIOCNATLOOK changed");
_Static_assert(PF_OUT == PFNL_PF_OUT, "PF_OUT changed");
#endif

static size_t
fw_pf_alen(uint8_t family)
{
	return family == ADDR_V4 ? 4 : 16;
}

static uint16_t
fw_pf_be16(uint16_t v)
{
	uint8_t		b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	uint16_t	r;

	memcpy(&r, b, 2);
	return r;
}

static uint16_t
fw_pf_host16(uint16_t v)
{
	uint8_t	b[2];

	memcpy(b, &v, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

int
fw_pf_natlook_build(enum fw_pf_abi abi, const struct addr *peer, const struct addr *local,
    uint8_t *req, size_t *len, unsigned long *code)
{
	union fw_pf_addr	 s, d;
	uint8_t			 af;

	if ((peer->family != ADDR_V4 && peer->family != ADDR_V6) ||
	    peer->family != local->family)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	memset(&d, 0, sizeof(d));
	memcpy(s.b, peer->bytes, fw_pf_alen(peer->family));
	memcpy(d.b, local->bytes, fw_pf_alen(local->family));
	memset(req, 0, FW_PF_NATLOOK_MAX);
	if (abi == FW_PF_ABI_MACOS) {
		struct fw_pfnl_macos	nl;

		af = peer->family == ADDR_V4 ? PFNL_AF_INET_BSD : PFNL_AF_INET6_MACOS;
		memset(&nl, 0, sizeof(nl));
		nl.saddr = s;
		nl.daddr = d;
		nl.sxport.port = fw_pf_be16(peer->port);
		nl.dxport.port = fw_pf_be16(local->port);
		nl.af = af;
		nl.proto = PFNL_PROTO_TCP;
		nl.direction = PFNL_PF_OUT;
		memcpy(req, &nl, sizeof(nl));
		*len = sizeof(nl);
	} else {
		struct fw_pfnl_freebsd	nl;

		af = peer->family == ADDR_V4 ? PFNL_AF_INET_BSD : PFNL_AF_INET6_FREEBSD;
		memset(&nl, 0, sizeof(nl));
		nl.saddr = s;
		nl.daddr = d;
		nl.sport = fw_pf_be16(peer->port);
		nl.dport = fw_pf_be16(local->port);
		nl.af = af;
		nl.proto = PFNL_PROTO_TCP;
		nl.direction = PFNL_PF_OUT;
		memcpy(req, &nl, sizeof(nl));
		*len = sizeof(nl);
	}
	*code = PFNL_IOWR('D', 23, *len);
	return 0;
}

int
fw_pf_natlook_decode(enum fw_pf_abi abi, const uint8_t *req, uint8_t family,
    struct addr *orig)
{
	union fw_pf_addr	rd;
	uint16_t		port;

	if (abi == FW_PF_ABI_MACOS) {
		struct fw_pfnl_macos	nl;

		memcpy(&nl, req, sizeof(nl));
		rd = nl.rdaddr;
		port = fw_pf_host16(nl.rdxport.port);
	} else {
		struct fw_pfnl_freebsd	nl;

		memcpy(&nl, req, sizeof(nl));
		rd = nl.rdaddr;
		port = fw_pf_host16(nl.rdport);
	}
	memset(orig, 0, sizeof(*orig));
	orig->family = family;
	memcpy(orig->bytes, rd.b, fw_pf_alen(family));
	orig->port = port;
	if (port == 0 || (family != ADDR_V4 && family != ADDR_V6))
		return -EINVAL;
	return 0;
}

int
fw_pf_natlook(int devfd, fw_pf_ioctl_fn *ioc, enum fw_pf_abi abi, const struct addr *peer,
    const struct addr *local, struct addr *orig)
{
	uint8_t		req[FW_PF_NATLOOK_MAX];
	size_t		len;
	unsigned long	code;
	int		r;

	if ((r = fw_pf_natlook_build(abi, peer, local, req, &len, &code)) != 0)
		return r;
	if (ioc(devfd, code, req) == -1)
		return errno != 0 ? -errno : -EIO;
	return fw_pf_natlook_decode(abi, req, peer->family, orig);
}
