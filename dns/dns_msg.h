/* SPDX-License-Identifier: ISC */
/*
 * dns_msg.h - the little of the DNS wire format the client's DNS
 * interception needs: the question of a query, the split-DNS decision,
 * checking an answer against its query, and the replies the client makes
 * up itself (SERVFAIL, truncated).
 *
 * Everything here is pure (no descriptors, no allocation, no global
 * state) and reads bytes that came from the network: every function
 * accepts any input and is fuzzed (tests/fuzz/fuzz_dns_msg.c).
 */
#ifndef CSHUTTLE_DNS_MSG_H
#define CSHUTTLE_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MSG_HDR_LEN		12
#define DNS_MSG_NAME_MAX	255	/* wire form, with the root label */
#define DNS_MSG_TEXT_MAX	254	/* a --dns-domains entry, without the final dot */
#define DNS_MSG_QUERY_MAX	4096	/* longest query forwarded (= PROTO_DNS_MAX_QUERY) */
#define DNS_MSG_UDP_MIN		512	/* what every DNS client accepts over UDP */
/* Longest text dns_msg_name_text() may write: every byte escaped as \DDD. */
#define DNS_MSG_NAME_TEXT_MAX	(4 * DNS_MSG_NAME_MAX + 2)

#define DNS_MSG_RCODE_SERVFAIL	2
#define DNS_MSG_TYPE_A		1
#define DNS_MSG_TYPE_AAAA	28
#define DNS_MSG_CLASS_IN	1

/* Return codes (always negative). */
#define DNS_MSG_E_SHORT		-1	/* shorter than a header, or truncated */
#define DNS_MSG_E_LONG		-2	/* query longer than DNS_MSG_QUERY_MAX */
#define DNS_MSG_E_NOTQUERY	-3	/* QR set in a query / clear in an answer */
#define DNS_MSG_E_QDCOUNT	-4	/* a query must ask exactly one question */
#define DNS_MSG_E_NAME		-5	/* malformed name (label type, length, pointer) */
#define DNS_MSG_E_ID		-6	/* answer ID differs from the query's */
#define DNS_MSG_E_QUESTION	-7	/* answer is about another question */
#define DNS_MSG_E_SPACE		-8	/* output buffer too small */

struct dns_query_info {
	uint16_t	id;
	uint16_t	flags;		/* header bytes 2-3 */
	uint16_t	qtype, qclass;
	size_t		qend;		/* offset just past the question */
	uint16_t	udp_size;	/* largest UDP answer the asker takes */
	size_t		namelen;	/* bytes in name[], root label included */
	uint8_t		name[DNS_MSG_NAME_MAX];	/* uncompressed, lower case */
};

/*
 * Parse a query: header, exactly one question, and (leniently) an EDNS
 * OPT record in the additional section for the UDP payload size.
 * Returns 0 with *qi filled, or a DNS_MSG_E_* code.
 */
int	dns_msg_parse_query(const uint8_t *m, size_t len, struct dns_query_info *qi);

/*
 * Normalise one --dns-domains entry (text[0..len)): lower case, a final
 * dot dropped.  Labels are 1-63 letters, digits, '-' or '_', the whole
 * name at most 253 characters; the root (".") is refused.  Writes the
 * result, NUL-terminated, into out (DNS_MSG_TEXT_MAX + 1 bytes fit any).
 * Returns 0, or -1 with a short reason in why.
 */
int	dns_msg_domain_norm(const char *text, size_t len, char *out, size_t outlen,
	    const char **why);

/*
 * True when the query's name equals one of domains[0..n) or lies under
 * it, label by label ("a.corp.example" is under "corp.example",
 * "xcorp.example" and a single label "a.corp" holding a dot are not).
 * domains[] are normalised entries.  With n == 0 every name matches.
 */
bool	dns_msg_name_under(const struct dns_query_info *qi, char *const *domains,
	    size_t n);

/*
 * The query's name as text for messages ("www.example.com", "." for the
 * root), with bytes other than letters, digits, '-', '_' and '*' written
 * \DDD and '.' or '\' inside a label escaped.  Always NUL-terminated.
 */
const char *dns_msg_name_text(const struct dns_query_info *qi, char *buf, size_t len);

/*
 * Check an answer against the query it is meant for (q[0..qlen) as
 * given to dns_msg_parse_query, qi its result): at least a header, the
 * same ID, QR set and, when it carries a question, the same name (case
 * ignored), type and class.  0 or a DNS_MSG_E_* code.
 */
int	dns_msg_check_answer(const uint8_t *q, const struct dns_query_info *qi,
	    const uint8_t *a, size_t alen);

/*
 * Build the reply the client gives on its own for query q (parsed into
 * qi): same ID and opcode, QR and RA set, RD copied, the given rcode, the
 * question copied, no records.  Returns its length or DNS_MSG_E_SPACE.
 */
int	dns_msg_reply(const uint8_t *q, const struct dns_query_info *qi, uint8_t rcode,
	    uint8_t *out, size_t cap);

/*
 * Build an answer the client gives on its own for query q (parsed into
 * qi), as a hosts file would: like dns_msg_reply with rcode 0 and AA set,
 * and n records of the query's type and class for its name, each with
 * rdlen bytes of rdata[i * rdlen ...] and the given TTL (n == 0: the
 * name exists, without data of that type).  Returns its length or
 * DNS_MSG_E_SPACE.
 */
int	dns_msg_addr_reply(const uint8_t *q, const struct dns_query_info *qi,
	    const uint8_t *rdata, size_t rdlen, size_t n, uint32_t ttl, uint8_t *out,
	    size_t cap);

/*
 * Shorten answer a[0..alen) (already checked against q/qi) for a UDP
 * asker that cannot take alen bytes: its header with TC set and no
 * records, and the question.  The asker retries over TCP.  Returns the
 * length or DNS_MSG_E_SPACE.
 */
int	dns_msg_truncate(const uint8_t *q, const struct dns_query_info *qi,
	    const uint8_t *a, size_t alen, uint8_t *out, size_t cap);

/* Static description of a DNS_MSG_E_* code. */
const char *dns_msg_strerror(int err);

#endif
