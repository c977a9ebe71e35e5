/* SPDX-License-Identifier: ISC */
/*
 * privsep_msg.c - building and parsing the privilege separation's
 * messages (privsep_msg.h).  Root reads what the unprivileged side
 * writes: every field is checked, nothing is trusted to be terminated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "privsep_msg.h"

#define PRIVSEP_ADDR_LEN	19

/* A cursor over one message's body. */
struct privsep_rd {
	const uint8_t	*p;
	size_t		 n;
	bool		 bad;
};

static const uint8_t *
privsep_take(struct privsep_rd *r, size_t n)
{
	const uint8_t	*p;

	if (r->bad || r->n < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->n -= n;
	return p;
}

static uint8_t
privsep_u8(struct privsep_rd *r)
{
	const uint8_t	*p = privsep_take(r, 1);

	return p != NULL ? p[0] : 0;
}

static uint16_t
privsep_u16(struct privsep_rd *r)
{
	const uint8_t	*p = privsep_take(r, 2);

	return p != NULL ? buf_get_u16(p) : 0;
}

static uint32_t
privsep_u32(struct privsep_rd *r)
{
	const uint8_t	*p = privsep_take(r, 4);

	return p != NULL ? buf_get_u32(p) : 0;
}

static void
privsep_addr(struct privsep_rd *r, struct addr *a)
{
	const uint8_t	*p = privsep_take(r, PRIVSEP_ADDR_LEN);

	memset(a, 0, sizeof(*a));
	if (p == NULL)
		return;
	if (p[0] != 0 && p[0] != ADDR_V4 && p[0] != ADDR_V6) {
		r->bad = true;
		return;
	}
	a->family = p[0];
	memcpy(a->bytes, p + 1, 16);
	a->port = buf_get_u16(p + 17);
}

static int
privsep_addrs(struct privsep_rd *r, struct addr *v, int *n)
{
	int	i;

	*n = privsep_u8(r);
	if (*n > FW_MAX_EXEMPT)
		return -1;
	for (i = 0; i < *n; i++)
		privsep_addr(r, &v[i]);
	return r->bad ? -1 : 0;
}

/* A string of at most max bytes, no NUL in it, into out[max + 1]. */
static char *
privsep_text(struct privsep_rd *r, size_t len, size_t max, char *out)
{
	const uint8_t	*p;

	if (len > max || (p = privsep_take(r, len)) == NULL ||
	    memchr(p, '\0', len) != NULL) {
		r->bad = true;
		return NULL;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return out;
}

/* A writer: fails once (and stays failed) when the buffer is full. */
struct privsep_wr {
	uint8_t	*p;
	size_t	 len, off;
	bool	 bad;
};

static void
privsep_put(struct privsep_wr *w, const void *v, size_t n)
{
	if (w->bad || w->len - w->off < n) {
		w->bad = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->off, v, n);
	w->off += n;
}

static void
privsep_put_u8(struct privsep_wr *w, uint8_t v)
{
	privsep_put(w, &v, 1);
}

static void
privsep_put_u16(struct privsep_wr *w, uint16_t v)
{
	uint8_t	b[2];

	buf_set_u16(b, v);
	privsep_put(w, b, 2);
}

static void
privsep_put_u32(struct privsep_wr *w, uint32_t v)
{
	uint8_t	b[4];

	buf_set_u32(b, v);
	privsep_put(w, b, 4);
}

static void
privsep_put_addr(struct privsep_wr *w, const struct addr *a)
{
	privsep_put_u8(w, a->family);
	privsep_put(w, a->bytes, 16);
	privsep_put_u16(w, a->port);
}

static void
privsep_begin(struct privsep_wr *w, uint8_t *buf, size_t len,
    enum privsep_type type)
{
	w->p = buf;
	w->len = len;
	w->off = 0;
	w->bad = false;
	privsep_put_u32(w, 0);
	privsep_put_u8(w, (uint8_t)type);
}

static int
privsep_end(struct privsep_wr *w)
{
	if (w->bad || w->off > INT32_MAX)
		return -1;
	buf_set_u32(w->p, (uint32_t)w->off);
	return (int)w->off;
}

long
privsep_msg_len(const uint8_t *p, size_t n, size_t max)
{
	uint32_t	len;

	if (n < PRIVSEP_HDR_LEN)
		return 0;
	len = buf_get_u32(p);
	if (len < PRIVSEP_HDR_LEN || len > max)
		return -1;
	return (long)len;
}

int
privsep_build_simple(uint8_t *buf, size_t len, enum privsep_type type)
{
	struct privsep_wr	w;

	privsep_begin(&w, buf, len, type);
	return privsep_end(&w);
}

int
privsep_build_notify(uint8_t *buf, size_t len, const char *text)
{
	struct privsep_wr	w;
	size_t			n = strlen(text);

	if (n == 0 || n > PRIVSEP_NOTIFY_MAX)
		return -1;
	privsep_begin(&w, buf, len, PRIVSEP_NOTIFY);
	privsep_put(&w, text, n);
	return privsep_end(&w);
}

int
privsep_build_open(uint8_t *buf, size_t len, const struct privsep_open *o)
{
	struct privsep_wr	w;
	int			i;

	if (o->nexempt < 0 || o->nexempt > FW_MAX_EXEMPT ||
	    (o->flags & ~PRIVSEP_OPEN_FLAGS) != 0)
		return -1;
	privsep_begin(&w, buf, len, PRIVSEP_OPEN);
	privsep_put_u8(&w, o->flags);
	privsep_put_u32(&w, o->alive_interval_ms);
	privsep_put_u32(&w, o->alive_timeout_ms);
	privsep_put_u8(&w, (uint8_t)o->nexempt);
	for (i = 0; i < o->nexempt; i++)
		privsep_put_addr(&w, &o->exempt[i]);
	return privsep_end(&w);
}

int
privsep_build_opened(uint8_t *buf, size_t len, const struct privsep_opened *o)
{
	struct privsep_wr	w;
	size_t			n = strnlen(o->err, sizeof(o->err) - 1);
	int			i;

	if (o->nexempt < 0 || o->nexempt > FW_MAX_EXEMPT || o->fail < 0 ||
	    o->fail > 255)
		return -1;
	privsep_begin(&w, buf, len, PRIVSEP_OPENED);
	privsep_put_u8(&w, (uint8_t)o->result);
	privsep_put_u8(&w, (uint8_t)o->fail);
	privsep_put_u8(&w, (uint8_t)o->kind);
	privsep_put_addr(&w, &o->peer);
	privsep_put_u8(&w, (uint8_t)o->nexempt);
	for (i = 0; i < o->nexempt; i++)
		privsep_put_addr(&w, &o->exempt[i]);
	privsep_put_u16(&w, (uint16_t)n);
	privsep_put(&w, o->err, n);
	return privsep_end(&w);
}

long
privsep_build_files(const struct filecheck_files *f, uint8_t **out)
{
	struct privsep_wr	 w;
	const struct filecheck_file *e;
	size_t			 i, total = PRIVSEP_HDR_LEN + 1;
	uint8_t			*buf;
	int			 n;

	*out = NULL;
	if (f->n > FILECHECK_FILES_MAX)
		return -1;
	for (i = 0; i < f->n; i++) {
		e = &f->v[i];
		if (strlen(e->path) > UINT16_MAX || strlen(e->why) > UINT16_MAX ||
		    e->len > PRIVSEP_FILE_MAX)
			return -1;
		total += 2 + strlen(e->path) + 1 + 2 + strlen(e->why) + 4 + e->len;
	}
	if (total > PRIVSEP_FILES_BYTES || (buf = malloc(total)) == NULL)
		return -1;
	privsep_begin(&w, buf, total, PRIVSEP_FILES);
	privsep_put_u8(&w, (uint8_t)f->n);
	for (i = 0; i < f->n; i++) {
		e = &f->v[i];
		privsep_put_u16(&w, (uint16_t)strlen(e->path));
		privsep_put(&w, e->path, strlen(e->path));
		privsep_put_u8(&w, (uint8_t)e->step);
		privsep_put_u16(&w, (uint16_t)strlen(e->why));
		privsep_put(&w, e->why, strlen(e->why));
		privsep_put_u32(&w, (uint32_t)e->len);
		privsep_put(&w, e->data, e->len);
	}
	if ((n = privsep_end(&w)) < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return n;
}

/* The header, checked against the message's real length and type. */
static int
privsep_open_msg(const uint8_t *p, size_t n, struct privsep_rd *r,
    enum privsep_type *type, char *err, size_t errlen)
{
	if (n < PRIVSEP_HDR_LEN || buf_get_u32(p) != n) {
		snprintf(err, errlen, "privsep: a message of %zu bytes says %u",
		    n, n < PRIVSEP_HDR_LEN ? 0 : buf_get_u32(p));
		return -1;
	}
	*type = p[4];
	r->p = p + PRIVSEP_HDR_LEN;
	r->n = n - PRIVSEP_HDR_LEN;
	r->bad = false;
	return 0;
}

static int
privsep_close_msg(struct privsep_rd *r, enum privsep_type type, char *err,
    size_t errlen)
{
	if (r->bad || r->n != 0) {
		snprintf(err, errlen, "privsep: malformed message of type %u",
		    (unsigned)type);
		return -1;
	}
	return 0;
}

/* One line: a known assignment; STATUS's text printable. */
static bool
privsep_notify_line(const char *s, size_t n)
{
	static const char *const exact[] = {
		"READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1",
	};
	size_t	i;

	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (n == strlen(exact[i]) && memcmp(s, exact[i], n) == 0)
			return true;
	if (n < 7 || memcmp(s, "STATUS=", 7) != 0)
		return false;
	for (i = 7; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

bool
privsep_notify_ok(const char *text, size_t len)
{
	const char	*nl;

	if (len == 0 || len > PRIVSEP_NOTIFY_MAX || memchr(text, '\0', len) != NULL)
		return false;
	for (;;) {
		nl = memchr(text, '\n', len);
		if (!privsep_notify_line(text, nl != NULL ? (size_t)(nl - text) : len))
			return false;
		if (nl == NULL)
			return true;
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
}

int
privsep_parse_req(const uint8_t *p, size_t n, struct privsep_req *q, char *err,
    size_t errlen)
{
	struct privsep_rd	r;
	enum privsep_type	type;
	size_t			len;

	memset(q, 0, sizeof(*q));
	if (n > PRIVSEP_REQ_MAX) {
		snprintf(err, errlen, "privsep: a request of %zu bytes", n);
		return -1;
	}
	if (privsep_open_msg(p, n, &r, &type, err, errlen) != 0)
		return -1;
	q->type = type;
	switch (type) {
	case PRIVSEP_NOTIFY:
		len = r.n;
		if (!privsep_notify_ok((const char *)r.p, len)) {
			snprintf(err, errlen, "privsep: a notification not passed on");
			return -1;
		}
		(void)privsep_text(&r, len, PRIVSEP_NOTIFY_MAX, q->notify);
		break;
	case PRIVSEP_UP:
	case PRIVSEP_CANCEL:
	case PRIVSEP_RELOAD:
		break;
	case PRIVSEP_OPEN:
		q->open.flags = privsep_u8(&r);
		if ((q->open.flags & ~PRIVSEP_OPEN_FLAGS) != 0)
			r.bad = true;
		q->open.alive_interval_ms = privsep_u32(&r);
		q->open.alive_timeout_ms = privsep_u32(&r);
		if (q->open.alive_interval_ms > INT32_MAX ||
		    q->open.alive_timeout_ms > INT32_MAX)
			r.bad = true;
		if (privsep_addrs(&r, q->open.exempt, &q->open.nexempt) != 0)
			r.bad = true;
		break;
	default:
		snprintf(err, errlen, "privsep: unknown request type %u",
		    (unsigned)type);
		return -1;
	}
	return privsep_close_msg(&r, type, err, errlen);
}

int
privsep_parse_opened(const uint8_t *p, size_t n, struct privsep_opened *o,
    char *err, size_t errlen)
{
	struct privsep_rd	r;
	enum privsep_type	type;
	uint16_t		len;

	memset(o, 0, sizeof(*o));
	if (privsep_open_msg(p, n, &r, &type, err, errlen) != 0)
		return -1;
	if (type != PRIVSEP_OPENED) {
		snprintf(err, errlen, "privsep: type %u where OPENED belongs",
		    (unsigned)type);
		return -1;
	}
	o->result = privsep_u8(&r);
	o->fail = privsep_u8(&r);
	o->kind = privsep_u8(&r);
	if (o->result > PRIVSEP_RES_EXEMPT || o->kind > PRIVSEP_KIND_CMD)
		r.bad = true;
	privsep_addr(&r, &o->peer);
	if (privsep_addrs(&r, o->exempt, &o->nexempt) != 0)
		r.bad = true;
	len = privsep_u16(&r);
	(void)privsep_text(&r, len, sizeof(o->err) - 1, o->err);
	return privsep_close_msg(&r, type, err, errlen);
}

int
privsep_parse_files(const uint8_t *p, size_t n, struct filecheck_files *f,
    char *err, size_t errlen)
{
	struct privsep_rd	 r;
	struct filecheck_file	*e;
	enum privsep_type	 type;
	const uint8_t		*d;
	size_t			 i, count;
	uint32_t		 len;

	memset(f, 0, sizeof(*f));
	if (privsep_open_msg(p, n, &r, &type, err, errlen) != 0)
		return -1;
	if (type != PRIVSEP_FILES) {
		snprintf(err, errlen, "privsep: type %u where FILES belongs",
		    (unsigned)type);
		return -1;
	}
	count = privsep_u8(&r);
	if (count > FILECHECK_FILES_MAX)
		r.bad = true;
	for (i = 0; i < count && !r.bad; i++) {
		e = &f->v[f->n];
		len = privsep_u16(&r);
		if ((e->path = malloc((size_t)len + 1)) == NULL ||
		    privsep_text(&r, len, UINT16_MAX, e->path) == NULL ||
		    e->path[0] == '\0') {
			r.bad = true;
			free(e->path);
			e->path = NULL;
			break;
		}
		f->n++;
		e->step = privsep_u8(&r);
		if (e->step > FILECHECK_NOMEM)
			r.bad = true;
		len = privsep_u16(&r);
		if ((e->why = malloc((size_t)len + 1)) == NULL ||
		    privsep_text(&r, len, UINT16_MAX, e->why) == NULL) {
			r.bad = true;
			break;
		}
		len = privsep_u32(&r);
		if (r.bad || len > PRIVSEP_FILE_MAX ||
		    (e->step != FILECHECK_OK && len != 0) ||
		    (d = privsep_take(&r, len)) == NULL ||
		    (e->step == FILECHECK_OK && (e->data = malloc((size_t)len + 1)) == NULL)) {
			r.bad = true;
			break;
		}
		if (e->data != NULL) {
			memcpy(e->data, d, len);
			e->data[len] = '\0';
			e->len = len;
		}
	}
	return privsep_close_msg(&r, type, err, errlen);
}
