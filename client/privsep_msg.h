/* SPDX-License-Identifier: ISC */
/*
 * privsep_msg.h - the messages between the two sides of a root run
 * (privsep.h), built and parsed without touching a descriptor.
 *
 * Every message is a 32-bit big-endian length (of the whole message,
 * these four bytes included), a type byte, then the type's body.  The
 * unprivileged side's requests travel one to a SOCK_SEQPACKET packet;
 * the answers to OPEN and RELOAD come on a stream socket sent along with
 * the request (SCM_RIGHTS), since they carry descriptors or may be large.
 *
 *   NOTIFY   text: newline-separated sd_notify assignments, only READY=1,
 *            RELOADING=1, STOPPING=1, WATCHDOG=1 and STATUS=<printable>
 *   UP       empty: the first session is up (pid file, READY=1, -D)
 *   OPEN     u8 flags (PRIVSEP_OPEN_*), u32 alive interval ms, u32 alive
 *            timeout ms, u8 n, n addresses: the exemptions in place
 *   CANCEL   empty: the OPEN in progress is abandoned
 *   RELOAD   empty: read the options' files again
 *   OPENED   u8 result (PRIVSEP_RES_*), u8 fail kind, u8 transport kind,
 *            address peer, u8 n, n addresses, u16 len + error text
 *   FILES    u8 n, n times: u16 len + path, u8 step, u16 len + reason,
 *            u32 len + contents
 * An address is u8 family (0, 4, 6), 16 bytes, u16 port.  The parser
 * takes exactly one whole message and refuses anything else: a length
 * that disagrees, a field out of range, bytes left over.
 */
#ifndef CSHUTTLE_PRIVSEP_MSG_H
#define CSHUTTLE_PRIVSEP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "filecheck.h"
#include "fw.h"

#define PRIVSEP_HDR_LEN		5
#define PRIVSEP_REQ_MAX		2048		/* any request */
#define PRIVSEP_NOTIFY_MAX	1024		/* a NOTIFY's text */
#define PRIVSEP_ERR_MAX		512		/* an OPENED's text, with NUL */
#define PRIVSEP_FILE_MAX	(1024 * 1024 + 1)	/* one file's contents */
#define PRIVSEP_FILES_BYTES	(8 * 1024 * 1024)	/* a whole FILES */

enum privsep_type {
	PRIVSEP_NOTIFY = 1,
	PRIVSEP_UP,
	PRIVSEP_OPEN,
	PRIVSEP_CANCEL,
	PRIVSEP_RELOAD,
	PRIVSEP_OPENED = 16,
	PRIVSEP_FILES,
};

#define PRIVSEP_OPEN_BATCH	(1U << 0)	/* a reconnect: bounded waits */
#define PRIVSEP_OPEN_ASK_PASS	(1U << 1)	/* yet a password may be asked */
#define PRIVSEP_OPEN_CHECK	(1U << 2)	/* compare the server's addresses
						 * with the exemptions first */
#define PRIVSEP_OPEN_FLAGS	0x07U

enum privsep_result {
	PRIVSEP_RES_OK = 0,	/* descriptors attached */
	PRIVSEP_RES_FAIL,	/* fail kind and text */
	PRIVSEP_RES_EXEMPT,	/* exempt these first, then ask again */
};

enum privsep_kind {
	PRIVSEP_KIND_RELAY = 0,	/* one socket: a relay of the libssh2 channel */
	PRIVSEP_KIND_CMD,	/* the command's socket and its stderr pipe */
};

struct privsep_open {
	uint8_t		flags;
	uint32_t	alive_interval_ms, alive_timeout_ms;
	struct addr	exempt[FW_MAX_EXEMPT];
	int		nexempt;
};

struct privsep_opened {
	enum privsep_result	result;
	int			fail;		/* enum transport_fail */
	enum privsep_kind	kind;
	struct addr		peer;
	struct addr		exempt[FW_MAX_EXEMPT];	/* all of them, to apply */
	int			nexempt;
	char			err[PRIVSEP_ERR_MAX];
};

/* A request as parsed. */
struct privsep_req {
	enum privsep_type	type;
	char			notify[PRIVSEP_NOTIFY_MAX + 1];	/* NOTIFY */
	struct privsep_open	open;				/* OPEN */
};

/*
 * The length a message starting at p says it has: 0 when fewer than
 * PRIVSEP_HDR_LEN bytes are there yet, -1 when it is below the header or
 * above max.
 */
long	privsep_msg_len(const uint8_t *p, size_t n, size_t max);

/*
 * Builders: into buf (len bytes), the message's length, or -1 when it
 * does not fit (or a field is out of range).
 */
int	privsep_build_simple(uint8_t *buf, size_t len, enum privsep_type type);
int	privsep_build_notify(uint8_t *buf, size_t len, const char *text);
int	privsep_build_open(uint8_t *buf, size_t len, const struct privsep_open *o);
int	privsep_build_opened(uint8_t *buf, size_t len,
	    const struct privsep_opened *o);
/* The FILES message is malloc'ed: *out, its length, or -1. */
long	privsep_build_files(const struct filecheck_files *f, uint8_t **out);

/*
 * Parsers of one whole message.  0, or -1 with a reason in err.
 * privsep_parse_files() fills f (filecheck_files_clear() frees it, also
 * after a failure).
 */
int	privsep_parse_req(const uint8_t *p, size_t n, struct privsep_req *r,
	    char *err, size_t errlen);
int	privsep_parse_opened(const uint8_t *p, size_t n, struct privsep_opened *o,
	    char *err, size_t errlen);
int	privsep_parse_files(const uint8_t *p, size_t n, struct filecheck_files *f,
	    char *err, size_t errlen);

/* Is this text one the main process may pass to the service manager? */
bool	privsep_notify_ok(const char *text, size_t len);

#endif
