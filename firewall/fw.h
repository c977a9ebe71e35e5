/*
 * fw.h - the firewall: nftables redirect rules owned by a small helper.
 *
 * The client never touches netlink itself.  fw_start() starts the helper
 * (a forked child when running as root, `sudo cshuttle --firewall`
 * otherwise); the helper opens one SOCK_CLOEXEC netfilter socket, creates
 * one table with NFT_TABLE_F_OWNER on it, and exits when its input
 * closes, so the kernel removes the table when either process dies.
 */
#ifndef CSHUTTLE_FW_H
#define CSHUTTLE_FW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "subnet.h"

#define FW_MAX_EXEMPT	8

/* A TCP destination that must never be redirected (the SSH connection). */
struct fw_exempt {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		addr[16];
	uint16_t	port;
};

struct fw_config {
	uint16_t		 port;		/* local listener port: redirect target */
	bool			 ipv4;		/* redirect IPv4 (listener on 127.0.0.1 / -l addr) */
	bool			 ipv6;		/* redirect IPv6 (listener on ::1 / -l addr) */
	bool			 prerouting;	/* also serve other hosts (-l on a non-loopback address) */
	const struct subnet_list *subnets;	/* includes and excludes */
	struct fw_exempt	 exempt[FW_MAX_EXEMPT];
	int			 nexempt;
};

struct fw;

/* Start the helper.  NULL with a one-line reason in err on failure. */
struct fw *fw_start(const char *self_exe, int verbose, char *err, size_t errlen);
/* Install (or atomically replace) the rules; returns once the kernel has
 * committed them.  0, or -1 with a reason in err. */
int	   fw_apply(struct fw *fw, const struct fw_config *cfg, char *err, size_t errlen);
/* Descriptor that becomes readable if the helper dies (for the event loop). */
int	   fw_fd(const struct fw *fw);
/* Remove the rules, end the helper and wait for it.  Accepts NULL. */
void	   fw_stop(struct fw *fw);

/* The helper's entry point (`cshuttle --firewall`): requests on in_fd,
 * replies on out_fd.  Returns the process exit code. */
int	   fw_helper_main(int in_fd, int out_fd, int verbose);

#endif
