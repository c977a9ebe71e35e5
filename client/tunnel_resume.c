/* SPDX-License-Identifier: ISC */
/*
 * tunnel_resume.c - a session that outlives its link (docs/PROTOCOL.md
 * section 11).
 *
 * With --resume-grace, our HELLO announces resume and RESUME_SETUP asks
 * the stub to wait for us after a lost link; its RESUME_TOKEN (a secret
 * and a socket path on the remote) is kept here.  When the session is
 * lost, its mux is detached and kept, with every stream and socket, for
 * the grace period.  The next session's fresh stub is sent ATTACH with
 * the token: on ATTACHED (joined) the kept mux takes the place of the new
 * session's and resumes on its link, where the waiting stub now speaks;
 * on any other answer the kept streams are reset and the new session
 * goes on as a new one.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tunnel_int.h"

void
tunnel_resume_frame(struct mux *m, const struct proto_frame *f)
{
	struct tunnel	*t = mux_udata(m);
	struct session	*s = t->s;
	static const char *const why[] = {
		[PROTO_ATTACH_NOSTUB] = "no stub waits any more (its grace ran out, "
		    "or it was stopped)",
		[PROTO_ATTACH_REFUSED] = "the waiting stub refused the secret",
		[PROTO_ATTACH_FAILED] = "the new stub could not reach the waiting one",
	};
	char		 reason[160];

	if (s == NULL || s->mux != m)
		return;
	switch (f->type) {
	case PROTO_RESUME_TOKEN:
		memcpy(t->token_secret, f->u.token.secret, sizeof(t->token_secret));
		snprintf(t->token_path, sizeof(t->token_path), "%s", f->u.token.path);
		t->token_ok = true;
		log_debug("the stub waits at %s after a lost link", t->token_path);
		break;
	case PROTO_ATTACHED:
		if (!s->attaching || f->u.attached == PROTO_ATTACH_JOINED)
			break;	/* joined: tunnel_resume_swap, after this pass */
		s->attaching = false;
		snprintf(reason, sizeof(reason), "cannot resume the session: %s",
		    why[f->u.attached]);
		tunnel_resume_drop(t, reason);
		tunnel_session_setup(t, m);
		break;
	}
}

bool
tunnel_resume_hello(struct tunnel *t, struct mux *m)
{
	if (t->kept == NULL)
		return false;
	if (!t->token_ok || !mux_feature(m, PROTO_FEAT_RESUME)) {
		tunnel_resume_drop(t, "cannot resume the session: the new stub cannot");
		return false;
	}
	if (mux_send_token(m, PROTO_ATTACH, t->token_secret, t->token_path) != 0) {
		tunnel_resume_drop(t, "cannot resume the session: cannot send ATTACH");
		return false;
	}
	t->s->attaching = true;
	log_debug("asking the new stub to join the one waiting at %s", t->token_path);
	return true;
}

void
tunnel_resume_swap(struct tunnel *t)
{
	struct session	*s = t->s;
	struct mux	*fresh = s->mux, *kept = t->kept;
	const uint8_t	*rest;
	uint8_t		*p;
	size_t		 len, room;

	rest = mux_in_rest(fresh, &len);
	t->kept = NULL;
	ev_timer_del(&t->loop, &t->kept_tm);
	s->attaching = false;
	if (kept == NULL || mux_attach(kept, tunnel_session_features(t)) != 0) {
		if (kept != NULL)
			mux_free(kept);
		tunnel_session_lost(t, TUNNEL_END_REMOTE, "cannot resume the session");
		return;
	}
	/* What came after ATTACHED is the waiting stub's: its HELLO first.
	 * The kept mux's input is empty since mux_detach; both are
	 * MUX_IN_MAX long. */
	p = mux_in_space(kept, &room);
	if (len > room)
		len = room;
	memcpy(p, rest, len);
	s->mux = kept;
	s->resumed = true;
	mux_free(fresh);
	t->resumes++;
	/* Its HELLO makes the session ready (tunnel_session_hello); a
	 * failure here is the caller's to report. */
	if (len > 0)
		(void)mux_in_commit(kept, len);
}

bool
tunnel_resume_keep(struct tunnel *t)
{
	struct session		*s = t->s;
	struct mux_stats	 st;

	/* A session that only tried to attach keeps nothing of its own: the
	 * streams kept before are still there. */
	if (t->kept != NULL || t->ended || !t->reconnect || t->resume_grace_s == 0 ||
	    !t->token_ok || !mux_resumable(s->mux) || mux_error(s->mux)[0] != '\0' ||
	    !(s->ready || s->resumed) || s->why == TUNNEL_END_PROTOCOL)
		return false;
	mux_detach(s->mux);
	t->kept = s->mux;
	/* tunnel_session_free has added its counters to the tunnel's. */
	mux_stats_restart(t->kept);
	t->kept_tm.when = ev_now() + (uint64_t)t->resume_grace_s * 1000;
	tunnel_timer_add(&t->loop, &t->kept_tm);
	mux_stats(t->kept, &st);
	if (st.nstreams > 0)
		log_info("%zu connection%s wait%s for the session to resume (up to %u s)",
		    st.nstreams, st.nstreams == 1 ? "" : "s", st.nstreams == 1 ? "s" : "",
		    t->resume_grace_s);
	return true;
}

void
tunnel_resume_drop(struct tunnel *t, const char *why)
{
	struct mux_stats	st;

	if (t->kept == NULL)
		return;
	mux_stats(t->kept, &st);
	if (why == NULL)
		log_debug("%zu kept connection%s reset", st.nstreams,
		    st.nstreams == 1 ? "" : "s");
	else if (st.nstreams > 0)
		log_warn("%s: %zu connection%s reset", why, st.nstreams,
		    st.nstreams == 1 ? "" : "s");
	else
		log_info("%s", why);
	ev_timer_del(&t->loop, &t->kept_tm);
	/* The streams' sockets are reset, as after any lost session. */
	mux_free(t->kept);
	t->kept = NULL;
	t->token_ok = false;
}

void
tunnel_resume_kept_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct tunnel	*t = tm->arg;
	char		 why[96];

	(void)loop;
	snprintf(why, sizeof(why), "the session could not be resumed within %u s",
	    t->resume_grace_s);
	tunnel_resume_drop(t, why);
}
