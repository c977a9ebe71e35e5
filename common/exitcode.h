/* SPDX-License-Identifier: ISC */
/*
 * exitcode.h - the exit statuses of every cshuttle process, in one place.
 * The man page's EXIT STATUS section and the systemd unit's
 * RestartPreventExitStatus= name the same numbers.
 */
#ifndef CSHUTTLE_EXITCODE_H
#define CSHUTTLE_EXITCODE_H

/*
 * Process exit codes, shared by every cshuttle program (the
 * client and the firewall helper):
 *   OK     the tunnel ran and was stopped on request, or --help/--version.
 *   FAIL   a runtime failure: the SSH connection could not be made or
 *          was lost, the remote stub could not start, the firewall
 *          could not be set up.
 *   USAGE  the command line (or an argument file, -s/-X file,
 *          $CSHUTTLE_ARGS) is wrong, including a subnet host name that
 *          does not resolve; nothing was changed on the system.
 *   REFUSED  the SSH server refused us: its host key is unknown or has
 *          changed, or authentication failed (at start or on a
 *          reconnect).  Retrying will not help, so a service manager
 *          should not restart on it (the unit's RestartPreventExitStatus).
 *   FATAL  an internal error that should never happen (sshuttle's
 *          "fatal" exit): a broken invariant found after a check,
 *          not a user mistake and not bad input (fatal() in log.h).
 */
#define CSHUTTLE_EXIT_OK	0
#define CSHUTTLE_EXIT_FAIL	1
#define CSHUTTLE_EXIT_USAGE	2
#define CSHUTTLE_EXIT_REFUSED	3
#define CSHUTTLE_EXIT_FATAL	99

#endif
