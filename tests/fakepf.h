/* SPDX-License-Identifier: ISC */
/*
 * fakepf.h - the fake pfctl (tests/unit/fake_pfctl.sh) as the cmocka
 * programs that drive it use it: a log file of their own for each test
 * (FAKE_PFCTL_LOG), the main ruleset it reports, and the log read back.
 * Needs CSHUTTLE_SOURCE_DIR and <cmocka.h>.
 */
#ifndef CSHUTTLE_FAKEPF_H
#define CSHUTTLE_FAKEPF_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define FAKE_PFCTL	CSHUTTLE_SOURCE_DIR "/tests/unit/fake_pfctl.sh"

static char	fakepf_path[64];

/* A new log; the main ruleset's translation and filter rules as given;
 * no failure, no anchors, pf disabled. */
static inline void
fakepf_start(const char *nat, const char *rules)
{
	int	fd;

	snprintf(fakepf_path, sizeof(fakepf_path), "/tmp/cshuttle-pfctl-XXXXXX");
	assert_true((fd = mkstemp(fakepf_path)) >= 0);
	close(fd);
	setenv("FAKE_PFCTL_LOG", fakepf_path, 1);
	unsetenv("FAKE_PFCTL_FAIL");
	unsetenv("FAKE_PFCTL_STATUS");
	unsetenv("FAKE_PFCTL_ANCHORS");
	setenv("FAKE_PFCTL_NAT", nat, 1);
	setenv("FAKE_PFCTL_RULES", rules, 1);
}

static inline void
fakepf_stop(void)
{
	unlink(fakepf_path);
}

/* Everything pfctl was given so far. */
static inline char *
fakepf_log(void)
{
	static char	 buf[1 << 20];
	FILE		*f;
	size_t		 n;

	assert_non_null(f = fopen(fakepf_path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static inline void
fakepf_clear(void)
{
	assert_int_equal(truncate(fakepf_path, 0), 0);
}

#endif
