/* SPDX-License-Identifier: ISC */
/*
 * fw_pf_natlook.h - the original destination of a connection that a pf
 * rdr rule redirected to a listener: DIOCNATLOOK on /dev/pf.
 *
 * pf keeps the redirection in its state table; the accepted socket only
 * knows the client (its peer) and the listener (its own address).
 * DIOCNATLOOK takes those two and answers with the address and port the
 * client had asked for.  The request structure differs between the two
 * systems (Apple's ports are 4-byte unions), so both layouts are written
 * out here, each checked at compile time against the figures of its
 * system's header (fw_pf_natlook.c names the sources) and, when built
 * where <net/pfvar.h> exists (FreeBSD), against the real structure too.
 *
 * The ioctl itself is a parameter, so that the same code that builds and
 * decodes the request on macOS or FreeBSD is run here against a fake
 * device (tests/unit/test_fw_pf_natlook.c).
 */
#ifndef CSHUTTLE_FW_PF_NATLOOK_H
#define CSHUTTLE_FW_PF_NATLOOK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum fw_pf_abi {
	FW_PF_ABI_FREEBSD,	/* FreeBSD's struct pfioc_natlook, 76 bytes */
	FW_PF_ABI_MACOS		/* xnu's, 84 bytes */
};

/* This system's, where pf exists; FreeBSD's elsewhere (the tests say
 * which they use). */
#if defined(__APPLE__)
#define FW_PF_ABI_NATIVE	FW_PF_ABI_MACOS
#else
#define FW_PF_ABI_NATIVE	FW_PF_ABI_FREEBSD
#endif

#define FW_PF_NATLOOK_MAX	84	/* the larger request */

/* ioctl(2) as the BSDs declare it; a fake device in the tests. */
typedef int	fw_pf_ioctl_fn(int fd, unsigned long request, void *arg);

/*
 * The request for a TCP connection from `peer` accepted on `local` (both
 * as getpeername/getsockname give them, one family): its bytes into
 * req (FW_PF_NATLOOK_MAX), its length and ioctl code.  0, or -EINVAL
 * (families that differ or are unset).
 */
int	fw_pf_natlook_build(enum fw_pf_abi abi, const struct addr *peer,
	    const struct addr *local, uint8_t *req, size_t *len, unsigned long *code);
/* The original destination in a request the device answered: 0, or
 * -EINVAL (no address or port in the answer). */
int	fw_pf_natlook_decode(enum fw_pf_abi abi, const uint8_t *req, uint8_t family,
	    struct addr *orig);
/* Both, around one call of ioc on the open /dev/pf descriptor devfd:
 * 0, or -errno (-ENOENT: pf has no state for it, not a redirected
 * connection). */
int	fw_pf_natlook(int devfd, fw_pf_ioctl_fn *ioc, enum fw_pf_abi abi,
	    const struct addr *peer, const struct addr *local, struct addr *orig);

#endif
