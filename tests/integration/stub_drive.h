/* SPDX-License-Identifier: ISC */
/*
 * stub_drive.h - what the two parts of stub_drive share: stub_drive.c
 * (starting the stub, frames to and from it, the session and stream
 * checks), stub_drive_dns.c (the DNS forwarder's checks against a fake
 * DNS server), stub_drive_udp.c (UDP flows against echo servers) and
 * stub_drive_resume.c (a session waiting for a new link, and the attach).  Every check that fails ends the program through
 * drv_fatal() with "stub_drive: FAIL: ..." and exit 1.
 */
#ifndef CSHUTTLE_STUB_DRIVE_H
#define CSHUTTLE_STUB_DRIVE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

void	drv_fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	drv_ok(const char *what);
/* n bytes of frames to the stub. */
void	drv_send(const uint8_t *p, int n);
/* Next frame from the stub within timeout_ms into f, pointing into copy
 * (PROTO_MAX_FRAME bytes); 0 on EOF. */
int	drv_recv(struct proto_frame *f, int timeout_ms, uint8_t *copy);
/* The next frame other than CREDIT must be `type` on `stream`. */
void	drv_expect(struct proto_frame *f, uint8_t *copy, uint8_t type, uint32_t stream);
/* Start argv (a copy of the stub at copy_path, made by drv_copy from
 * src) on a new link, which drv_send and drv_recv use from then on; the
 * link's descriptor; the stub's exit status (10 s at most). */
pid_t	drv_start_stub(char **argv, const char *copy_path);
void	drv_copy(const char *src, char *path);
int	drv_link(void);
int	drv_wait(pid_t pid);
/* Descriptors process pid holds. */
int	drv_fd_count(pid_t pid);

/* The fake DNS server on 127.0.0.1 (UDP and TCP), in a child; its port. */
pid_t	drv_dns_server(uint16_t *port);
/* A UDP port on 127.0.0.1 where nothing listens. */
uint16_t drv_closed_udp_port(void);
/* A query for "<mode>.test" A with DNS id dnsid into q; its length. */
size_t	drv_dns_query(uint8_t *q, uint16_t dnsid, const char *mode);
/* DNS_QUERY frame id carrying q. */
void	drv_dns_send(uint32_t id, const uint8_t *q, size_t len);
/* The DNS checks, on a session after HELLO and DNS_CONFIG [closed UDP
 * port, fake server]; the stub held fds descriptors before them. */
void	drv_dns_checks(struct proto_frame *f, uint8_t *copy, uint16_t echo_port,
	    pid_t stub, int fds);
/* The UDP checks, on a session after HELLO with the UDP bit; the stub
 * held fds descriptors before them, and holds them again after. */
void	drv_udp_checks(struct proto_frame *f, uint8_t *copy, pid_t stub, int fds);
/* The resume checks (stub_drive_resume.c): stubs started from src as
 * above, streams to the TCP echo server on echo_port. */
void	drv_resume_checks(const char *src, char *tmpl, char **argv, uint16_t echo_port);

#endif
