/* SPDX-License-Identifier: ISC */
/*
 * dns_msg.c - question parsing, split-DNS matching and made-up replies.
 *
 * Written by hand rather than with ares_expand_name(): that one
 * allocates, decodes to escaped text (so matching would have to undo the
 * escapes), and its limits differ between c-ares versions.  Matching on
 * the wire form, label by label, cannot be fooled by a label that holds
 * a dot.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "dns_msg.h"

#define DNS_MSG_PTR_HOPS	64	/* compression pointers followed per name */
#define DNS_MSG_TYPE_OPT	41

static uint8_t
dns_msg_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/*
 * Read the name at m[off..): follow compression pointers (each must
 * point strictly before the label sequence that holds it, which rules
 * out loops, and into the message body), copy it uncompressed and lower
 * case into out (DNS_MSG_NAME_MAX bytes) when out is not NULL.  *end is
 * the offset just past the name where it started.
 */
static int
dns_msg_read_name(const uint8_t *m, size_t len, size_t off, uint8_t *out,
    size_t *outlen, size_t *end)
{
	size_t	 pos = off, seq = off, total = 0, i;
	int	 hops = 0;
	bool	 jumped = false;
	uint8_t	 l;

	for (;;) {
		if (pos >= len)
			return DNS_MSG_E_SHORT;
		l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return DNS_MSG_E_SHORT;
			target = buf_get_u16(m + pos) & 0x3fff;
			if (target < DNS_MSG_HDR_LEN || target >= seq ||
			    ++hops > DNS_MSG_PTR_HOPS)
				return DNS_MSG_E_NAME;
			if (!jumped)
				*end = pos + 2;
			jumped = true;
			pos = seq = target;
			continue;
		}
		if ((l & 0xc0) != 0)
			return DNS_MSG_E_NAME;	/* 0x40, 0x80: obsolete or unknown */
		if (total + 1 + l > DNS_MSG_NAME_MAX)
			return DNS_MSG_E_NAME;
		if (pos + 1 + l > len)
			return DNS_MSG_E_SHORT;
		if (out != NULL) {
			out[total] = l;
			for (i = 0; i < l; i++)
				out[total + 1 + i] = dns_msg_lower(m[pos + 1 + i]);
		}
		total += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (!jumped)
		*end = pos;
	if (outlen != NULL)
		*outlen = total;
	return 0;
}

/* Skip one resource record at m[*off..); *type and *class filled. */
static int
dns_msg_skip_rr(const uint8_t *m, size_t len, size_t *off, uint16_t *type,
    uint16_t *class)
{
	size_t	 end;
	int	 r;

	if ((r = dns_msg_read_name(m, len, *off, NULL, NULL, &end)) != 0)
		return r;
	if (end + 10 > len)
		return DNS_MSG_E_SHORT;
	*type = buf_get_u16(m + end);
	*class = buf_get_u16(m + end + 2);
	end += 10 + (size_t)buf_get_u16(m + end + 8);
	if (end > len)
		return DNS_MSG_E_SHORT;
	*off = end;
	return 0;
}

/* The UDP size an EDNS OPT record announces, else 512.  Lenient: a
 * malformed tail only means we assume the smallest size. */
static uint16_t
dns_msg_udp_size(const uint8_t *m, size_t len, size_t off)
{
	unsigned	 skip, nar, i;
	uint16_t	 type, class;

	skip = (unsigned)buf_get_u16(m + 6) + buf_get_u16(m + 8);
	nar = buf_get_u16(m + 10);
	for (i = 0; i < skip; i++)
		if (dns_msg_skip_rr(m, len, &off, &type, &class) != 0)
			return DNS_MSG_UDP_MIN;
	for (i = 0; i < nar; i++) {
		if (dns_msg_skip_rr(m, len, &off, &type, &class) != 0)
			return DNS_MSG_UDP_MIN;
		if (type == DNS_MSG_TYPE_OPT)
			return class > DNS_MSG_UDP_MIN ? class : DNS_MSG_UDP_MIN;
	}
	return DNS_MSG_UDP_MIN;
}

int
dns_msg_parse_query(const uint8_t *m, size_t len, struct dns_query_info *qi)
{
	size_t	 end;
	int	 r;

	memset(qi, 0, sizeof(*qi));
	if (len < DNS_MSG_HDR_LEN)
		return DNS_MSG_E_SHORT;
	if (len > DNS_MSG_QUERY_MAX)
		return DNS_MSG_E_LONG;
	if (m[2] & 0x80)
		return DNS_MSG_E_NOTQUERY;
	if (buf_get_u16(m + 4) != 1)
		return DNS_MSG_E_QDCOUNT;
	if ((r = dns_msg_read_name(m, len, DNS_MSG_HDR_LEN, qi->name, &qi->namelen,
	    &end)) != 0)
		return r;
	if (end + 4 > len)
		return DNS_MSG_E_SHORT;
	qi->id = buf_get_u16(m);
	qi->flags = buf_get_u16(m + 2);
	qi->qtype = buf_get_u16(m + end);
	qi->qclass = buf_get_u16(m + end + 2);
	qi->qend = end + 4;
	qi->udp_size = dns_msg_udp_size(m, len, qi->qend);
	return 0;
}

static bool
dns_msg_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

int
dns_msg_domain_norm(const char *text, size_t len, char *out, size_t outlen,
    const char **why)
{
	size_t	 i, label = 0;
	char	 c;

	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty domain (the root cannot be split off)";
		return -1;
	}
	if (len > DNS_MSG_TEXT_MAX - 1) {
		*why = "longer than 253 characters";
		return -1;
	}
	if (len + 1 > outlen) {
		*why = "too long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = (char)dns_msg_lower((uint8_t)text[i]);
		if (c == '.') {
			if (label == 0) {
				*why = "empty label";
				return -1;
			}
			label = 0;
		} else if (!dns_msg_label_char((unsigned char)c)) {
			*why = "only letters, digits, '-', '_' and '.' are allowed";
			return -1;
		} else if (++label > 63) {
			*why = "a label is longer than 63 characters";
			return -1;
		}
		out[i] = c;
	}
	if (label == 0) {
		*why = "empty label";
		return -1;
	}
	out[len] = '\0';
	return 0;
}

bool
dns_msg_name_under(const struct dns_query_info *qi, char *const *domains, size_t n)
{
	size_t	 starts[DNS_MSG_NAME_MAX / 2 + 1], nl = 0, pos = 0, k, j;
	const char *d, *dot;

	if (n == 0)
		return true;
	/* Label offsets of the name, without the root label. */
	while (pos < qi->namelen && qi->name[pos] != 0 &&
	    nl < sizeof(starts) / sizeof(starts[0])) {
		starts[nl++] = pos;
		pos += 1 + (size_t)qi->name[pos];
	}
	for (k = 0; k < n; k++) {
		size_t dl = 1;

		for (d = domains[k]; *d != '\0'; d++)
			dl += *d == '.';
		if (dl > nl)
			continue;
		/* Compare the last dl labels of the name with the domain's. */
		d = domains[k];
		for (j = nl - dl; j < nl; j++) {
			size_t off = starts[j], ll = qi->name[off];

			dot = strchr(d, '.');
			if ((dot != NULL ? (size_t)(dot - d) : strlen(d)) != ll ||
			    memcmp(qi->name + off + 1, d, ll) != 0)
				break;
			d = dot != NULL ? dot + 1 : d + ll;
		}
		if (j == nl)
			return true;
	}
	return false;
}

const char *
dns_msg_name_text(const struct dns_query_info *qi, char *buf, size_t len)
{
	size_t	 pos = 0, o = 0, i, l;
	char	 tmp[5];
	int	 w;

	if (len == 0)
		return buf;
	buf[0] = '\0';
#define PUT(s, sl) do {					\
		if (o + (sl) >= len)			\
			return buf;			\
		memcpy(buf + o, (s), (sl));		\
		o += (sl);				\
		buf[o] = '\0';				\
	} while (0)
	if (qi->namelen == 0 || qi->name[0] == 0) {
		PUT(".", 1);
		return buf;
	}
	while (pos < qi->namelen && qi->name[pos] != 0) {
		l = qi->name[pos];
		if (pos + 1 + l > qi->namelen)
			break;
		if (pos > 0)
			PUT(".", 1);
		for (i = 0; i < l; i++) {
			unsigned char c = qi->name[pos + 1 + i];

			if (dns_msg_label_char(c) || c == '*')
				PUT((const char *)&c, 1);
			else if (c == '.' || c == '\\') {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				PUT(tmp, 2);
			} else {
				w = snprintf(tmp, sizeof(tmp), "\\%03u", c);
				PUT(tmp, (size_t)w);
			}
		}
		pos += 1 + l;
	}
#undef PUT
	return buf;
}

int
dns_msg_check_answer(const uint8_t *q, const struct dns_query_info *qi,
    const uint8_t *a, size_t alen)
{
	uint8_t	 name[DNS_MSG_NAME_MAX];
	size_t	 namelen, end;
	int	 r;

	if (alen < DNS_MSG_HDR_LEN)
		return DNS_MSG_E_SHORT;
	if (a[0] != q[0] || a[1] != q[1])
		return DNS_MSG_E_ID;
	if (!(a[2] & 0x80))
		return DNS_MSG_E_NOTQUERY;
	/* Some servers leave the question out of FORMERR or NOTIMP. */
	if (buf_get_u16(a + 4) == 0)
		return 0;
	if ((r = dns_msg_read_name(a, alen, DNS_MSG_HDR_LEN, name, &namelen, &end)) != 0)
		return r;
	if (end + 4 > alen)
		return DNS_MSG_E_SHORT;
	if (namelen != qi->namelen || memcmp(name, qi->name, namelen) != 0 ||
	    buf_get_u16(a + end) != qi->qtype ||
	    buf_get_u16(a + end + 2) != qi->qclass)
		return DNS_MSG_E_QUESTION;
	return 0;
}

int
dns_msg_reply(const uint8_t *q, const struct dns_query_info *qi, uint8_t rcode,
    uint8_t *out, size_t cap)
{
	if (cap < qi->qend)
		return DNS_MSG_E_SPACE;
	memcpy(out, q, qi->qend);
	/* QR, the opcode and RD as asked; RA; CD copied (RFC 4035 3.1.6). */
	out[2] = (uint8_t)(0x80 | (q[2] & 0x78) | (q[2] & 0x01));
	out[3] = (uint8_t)(0x80 | (q[3] & 0x10) | (rcode & 0x0f));
	buf_set_u16(out + 4, 1);
	buf_set_u16(out + 6, 0);
	buf_set_u16(out + 8, 0);
	buf_set_u16(out + 10, 0);
	return (int)qi->qend;
}

int
dns_msg_addr_reply(const uint8_t *q, const struct dns_query_info *qi,
    const uint8_t *rdata, size_t rdlen, size_t n, uint32_t ttl, uint8_t *out,
    size_t cap)
{
	uint8_t	*p;
	size_t	 i, len;

	if (n > 0xffff || rdlen > 0xffff || cap < qi->qend ||
	    (cap - qi->qend) / (12 + rdlen) < n)
		return DNS_MSG_E_SPACE;
	if (dns_msg_reply(q, qi, 0, out, cap) < 0)
		return DNS_MSG_E_SPACE;
	out[2] |= 0x04;			/* AA: the name is ours to answer */
	buf_set_u16(out + 6, (uint16_t)n);
	p = out + qi->qend;
	for (i = 0; i < n; i++) {
		/* The name: a pointer to the question's, at offset 12. */
		buf_set_u16(p, 0xc000 | DNS_MSG_HDR_LEN);
		buf_set_u16(p + 2, qi->qtype);
		buf_set_u16(p + 4, qi->qclass);
		buf_set_u32(p + 6, ttl);
		buf_set_u16(p + 10, (uint16_t)rdlen);
		memcpy(p + 12, rdata + i * rdlen, rdlen);
		p += 12 + rdlen;
	}
	len = (size_t)(p - out);
	return (int)len;
}

int
dns_msg_truncate(const uint8_t *q, const struct dns_query_info *qi,
    const uint8_t *a, size_t alen, uint8_t *out, size_t cap)
{
	if (cap < qi->qend || alen < DNS_MSG_HDR_LEN)
		return DNS_MSG_E_SPACE;
	memcpy(out, a, DNS_MSG_HDR_LEN);
	memcpy(out + DNS_MSG_HDR_LEN, q + DNS_MSG_HDR_LEN, qi->qend - DNS_MSG_HDR_LEN);
	out[2] |= 0x02;		/* TC */
	buf_set_u16(out + 4, 1);
	buf_set_u16(out + 6, 0);
	buf_set_u16(out + 8, 0);
	buf_set_u16(out + 10, 0);
	return (int)qi->qend;
}

const char *
dns_msg_strerror(int err)
{
	switch (err) {
	case 0:
		return "no error";
	case DNS_MSG_E_SHORT:
		return "truncated message";
	case DNS_MSG_E_LONG:
		return "query too long";
	case DNS_MSG_E_NOTQUERY:
		return "wrong QR bit";
	case DNS_MSG_E_QDCOUNT:
		return "not exactly one question";
	case DNS_MSG_E_NAME:
		return "malformed name";
	case DNS_MSG_E_ID:
		return "ID mismatch";
	case DNS_MSG_E_QUESTION:
		return "answer to another question";
	case DNS_MSG_E_SPACE:
		return "no room";
	default:
		return "unknown error";
	}
}
