/* SPDX-License-Identifier: ISC */
/*
 * udp_flow.c - the client's table of UDP flows (see udp_flow.h).
 */
#include <stdlib.h>
#include <string.h>

#include "udp_flow.h"

/* FNV-1a over the address bytes and the port: the local addresses of one
 * host differ mostly in the port, which this spreads well enough. */
static size_t
udp_flow_hash_local(const struct udp_flow_table *t, const struct addr *a)
{
	uint32_t	h = 2166136261U;
	size_t		i, n = a->family == ADDR_V6 ? 16 : 4;

	for (i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 16777619U;
	h = (h ^ (a->port & 0xff)) * 16777619U;
	h = (h ^ (a->port >> 8)) * 16777619U;
	h ^= a->family;
	return h & (t->nbuckets - 1);
}

static size_t
udp_flow_hash_id(const struct udp_flow_table *t, uint32_t id)
{
	return (id * 2654435761U) & (t->nbuckets - 1);
}

int
udp_flow_init(struct udp_flow_table *t, size_t max)
{
	size_t	nb = 16;

	memset(t, 0, sizeof(*t));
	/* About one flow per bucket at the maximum. */
	while (nb < max && nb < ((size_t)1 << 20))
		nb <<= 1;
	t->local_b = calloc(nb, sizeof(*t->local_b));
	t->id_b = calloc(nb, sizeof(*t->id_b));
	if (t->local_b == NULL || t->id_b == NULL) {
		free(t->local_b);
		free(t->id_b);
		memset(t, 0, sizeof(*t));
		return -1;
	}
	t->nbuckets = nb;
	t->max = max > 0 ? max : 1;
	TAILQ_INIT(&t->lists[0]);
	TAILQ_INIT(&t->lists[1]);
	t->next_id = 1;
	return 0;
}

void
udp_flow_clear(struct udp_flow_table *t)
{
	struct udp_flow	*f;
	int		 i;

	for (i = 0; i < 2; i++)
		while ((f = TAILQ_FIRST(&t->lists[i])) != NULL)
			udp_flow_remove(t, f);
}

void
udp_flow_fini(struct udp_flow_table *t)
{
	if (t->nbuckets == 0)
		return;
	udp_flow_clear(t);
	free(t->local_b);
	free(t->id_b);
	memset(t, 0, sizeof(*t));
}

struct udp_flow *
udp_flow_find(const struct udp_flow_table *t, const struct addr *local)
{
	struct udp_flow	*f;

	LIST_FOREACH(f, &t->local_b[udp_flow_hash_local(t, local)], by_local)
		if (f->local.port == local->port && addr_same_host(&f->local, local))
			return f;
	return NULL;
}

struct udp_flow *
udp_flow_by_id(const struct udp_flow_table *t, uint32_t id)
{
	struct udp_flow	*f;

	LIST_FOREACH(f, &t->id_b[udp_flow_hash_id(t, id)], by_id)
		if (f->id == id)
			return f;
	return NULL;
}

struct udp_flow *
udp_flow_add(struct udp_flow_table *t, const struct addr *local, uint16_t dport,
    uint64_t now)
{
	struct udp_flow	*f;

	if (t->n >= t->max || (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->local = *local;
	f->local.scope = 0;
	/* Ids are never reused within a run: a frame of a closed flow that
	 * crossed on the wire can never be taken for a new one's. */
	f->id = t->next_id++;
	if (t->next_id == 0)
		t->next_id = 1;
	f->last = now;
	f->dns_only = dport == 53;
	LIST_INSERT_HEAD(&t->local_b[udp_flow_hash_local(t, &f->local)], f, by_local);
	LIST_INSERT_HEAD(&t->id_b[udp_flow_hash_id(t, f->id)], f, by_id);
	TAILQ_INSERT_TAIL(&t->lists[f->dns_only], f, idle);
	t->n++;
	return f;
}

void
udp_flow_touch(struct udp_flow_table *t, struct udp_flow *f, uint16_t dport, uint64_t now)
{
	TAILQ_REMOVE(&t->lists[f->dns_only], f, idle);
	if (dport != 0 && dport != 53)
		f->dns_only = false;
	f->last = now;
	TAILQ_INSERT_TAIL(&t->lists[f->dns_only], f, idle);
}

void
udp_flow_remove(struct udp_flow_table *t, struct udp_flow *f)
{
	LIST_REMOVE(f, by_local);
	LIST_REMOVE(f, by_id);
	TAILQ_REMOVE(&t->lists[f->dns_only], f, idle);
	t->n--;
	free(f);
}

struct udp_flow *
udp_flow_expired(const struct udp_flow_table *t, uint64_t now, uint64_t ms, uint64_t dns_ms)
{
	struct udp_flow	*f;

	if ((f = TAILQ_FIRST(&t->lists[1])) != NULL && now - f->last >= dns_ms)
		return f;
	if ((f = TAILQ_FIRST(&t->lists[0])) != NULL && now - f->last >= ms)
		return f;
	return NULL;
}

uint64_t
udp_flow_next_expiry(const struct udp_flow_table *t, uint64_t ms, uint64_t dns_ms)
{
	struct udp_flow	*a = TAILQ_FIRST(&t->lists[0]), *d = TAILQ_FIRST(&t->lists[1]);
	uint64_t	 wa = a != NULL ? a->last + ms : 0, wd = d != NULL ? d->last + dns_ms : 0;

	if (wa == 0)
		return wd;
	if (wd == 0)
		return wa;
	return wa < wd ? wa : wd;
}
