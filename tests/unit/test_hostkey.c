/* SPDX-License-Identifier: ISC */
/*
 * test_hostkey.c - the pure parts of the host key check (ssh/hostkey.c):
 * fingerprints as OpenSSH prints them, the decision table, the answers to
 * "continue connecting?", host field matching (patterns, negation,
 * hashed names, [host]:port), the key types known_hosts has for a host,
 * and the names a key is looked up under: HostKeyAlias, CheckHostIP's
 * address and its decision table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hostkey.h"
#include "sshconfig.h"

static const char kv_b64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIHpbdBmkD8WSR2en9LgxGP8Iu1Odqt8kEjSXxIbQAWY4";
static const char kv_fp[] = "SHA256:/Fki+pIbprywzxxtUJImgd61bhF0/79GVgC924XOAtQ";
/* ssh-keygen -H of "example.org" and "[example.org]:2222" */
static const char kv_hash22[] = "|1|h7ytg/T7sO6w/U0vJQAPoeJ0CO0=|L7nN5e0Ry76u9zC8iB9jZAlPv9w=";
static const char kv_hash2222[] = "|1|Jd3MFO0ddEmCA/lwHCCFaNVkNjo=|uSOSeAI6JaqTvjcEg+RijNqM/QY=";

static void
test_fingerprint(void **state)
{
	unsigned char	blob[128];
	char		fp[80];
	int		n;

	n = EVP_DecodeBlock(blob, (const unsigned char *)kv_b64, (int)strlen(kv_b64));
	assert_true(n >= 51);
	assert_int_equal(hostkey_fingerprint(blob, 51, fp, sizeof(fp)), 0);
	assert_string_equal(fp, kv_fp);
	assert_int_equal(hostkey_fingerprint(blob, 51, fp, 20), -1);
}

static void
test_decide(void **state)
{
	static const enum sshcfg_strict all[] = { SSHCFG_STRICT_ASK, SSHCFG_STRICT_YES,
	    SSHCFG_STRICT_NO, SSHCFG_STRICT_ACCEPT_NEW };
	unsigned	i;

	for (i = 0; i < 4; i++) {
		assert_int_equal(hostkey_decide(HOSTKEY_MATCH, all[i], false), HOSTKEY_ACCEPT);
		assert_int_equal(hostkey_decide(HOSTKEY_MISMATCH, all[i], true), HOSTKEY_REFUSE);
		assert_int_equal(hostkey_decide(HOSTKEY_REVOKED, all[i], true), HOSTKEY_REFUSE);
	}
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_NO, false),
	    HOSTKEY_ACCEPT_ADD);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_ACCEPT_NEW, false),
	    HOSTKEY_ACCEPT_ADD);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_ASK, true), HOSTKEY_ASK);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_ASK, false),
	    HOSTKEY_REFUSE);
	assert_int_equal(hostkey_decide(HOSTKEY_NOTFOUND, SSHCFG_STRICT_YES, true),
	    HOSTKEY_REFUSE);
}

static void
test_answer(void **state)
{
	assert_int_equal(hostkey_answer("yes", kv_fp), 1);
	assert_int_equal(hostkey_answer(" YES ", kv_fp), 1);
	assert_int_equal(hostkey_answer("no", kv_fp), 0);
	assert_int_equal(hostkey_answer(kv_fp, kv_fp), 1);
	assert_int_equal(hostkey_answer("SHA256:AAAA", kv_fp), 0);
	assert_int_equal(hostkey_answer("y", kv_fp), -1);
	assert_int_equal(hostkey_answer("", kv_fp), -1);
}

static void
test_host_matches(void **state)
{
	char	name[64];

	hostkey_lookup_name("Example.ORG", 22, name, sizeof(name));
	assert_string_equal(name, "example.org");
	assert_true(hostkey_host_matches("foo,example.org,bar", name));
	assert_true(hostkey_host_matches("EXAMPLE.org", name));
	assert_false(hostkey_host_matches("[example.org]:22", name));
	assert_true(hostkey_host_matches("*.org", name));
	assert_true(hostkey_host_matches("exampl?.org", name));
	assert_false(hostkey_host_matches("*.org,!example.*", name));
	assert_false(hostkey_host_matches("example.or", name));
	assert_true(hostkey_host_matches(kv_hash22, name));
	assert_false(hostkey_host_matches(kv_hash2222, name));

	hostkey_lookup_name("example.org", 2222, name, sizeof(name));
	assert_string_equal(name, "[example.org]:2222");
	assert_false(hostkey_host_matches("example.org", name));
	assert_true(hostkey_host_matches("[example.org]:2222", name));
	assert_true(hostkey_host_matches(kv_hash2222, name));
	assert_false(hostkey_host_matches(kv_hash22, name));
	assert_false(hostkey_host_matches("|1|garbage", name));
}

/* A private directory for the known_hosts files of one test. */
static char	tmpdir[64];

static int
setup_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cshostkey.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	char	path[128];

	/* A failed test leaves its file behind. */
	snprintf(path, sizeof(path), "%s/known_hosts", tmpdir);
	(void)unlink(path);
	return rmdir(tmpdir);
}

static void
test_known_types(void **state)
{
	char		 path[400], out[256];
	const char	*files[2];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/known_hosts", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "# comment\n\n"
	    "other ecdsa-sha2-nistp256 AAAA\n"
	    "@cert-authority example.org ssh-rsa AAAA\n"
	    "@revoked example.org ssh-dss AAAA\n"
	    "%s ssh-ed25519 %s\n"
	    "example.org,alias ecdsa-sha2-nistp384 AAAA\n"
	    "bad line\n"
	    "*.org ssh-ed25519 AAAA\n"
	    "[example.org]:2222 ssh-rsa AAAA", kv_hash22, kv_b64);
	fclose(f);
	files[0] = path;
	files[1] = "/nonexistent/known_hosts";
	hostkey_known_types(files, 2, "example.org", out, sizeof(out));
	assert_string_equal(out, "ssh-ed25519,ecdsa-sha2-nistp384");
	hostkey_known_types(files, 2, "[example.org]:2222", out, sizeof(out));
	assert_string_equal(out, "ssh-rsa");
	hostkey_known_types(files, 2, "nothing", out, sizeof(out));
	assert_string_equal(out, "");
	unlink(path);
}

static void
test_names(void **state)
{
	struct sshcfg	cfg;
	char		name[300], ip[300];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.hostname = "Gw.Example";
	cfg.port = 2222;
	hostkey_names(&cfg, "192.0.2.7", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(name, "[gw.example]:2222");
	assert_string_equal(ip, "");		/* CheckHostIP is off */
	cfg.check_host_ip = true;
	hostkey_names(&cfg, "192.0.2.7", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(ip, "[192.0.2.7]:2222");
	hostkey_names(&cfg, "2001:db8::7", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(ip, "[2001:db8::7]:2222");
	cfg.port = 22;
	hostkey_names(&cfg, "2001:db8::7", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(name, "gw.example");
	assert_string_equal(ip, "2001:db8::7");
	/* Not for a loopback address, nor for a host given as its address. */
	hostkey_names(&cfg, "127.0.0.1", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(ip, "");
	hostkey_names(&cfg, "::1", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(ip, "");
	hostkey_names(&cfg, NULL, name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(ip, "");
	cfg.hostname = "192.0.2.7";
	hostkey_names(&cfg, "192.0.2.7", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(ip, "");
	/* HostKeyAlias: the alias alone, whatever the port. */
	cfg.hostname = "gw.example";
	cfg.port = 2222;
	cfg.host_key_alias = "Pinned";
	hostkey_names(&cfg, "192.0.2.7", name, sizeof(name), ip, sizeof(ip));
	assert_string_equal(name, "pinned");
	assert_string_equal(ip, "[192.0.2.7]:2222");
}

static void
test_decide_ip(void **state)
{
	static const enum sshcfg_strict all[] = { SSHCFG_STRICT_ASK, SSHCFG_STRICT_YES,
	    SSHCFG_STRICT_NO, SSHCFG_STRICT_ACCEPT_NEW };
	bool	warn;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		/* The address's entry agrees, or there is none: recorded. */
		assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_MATCH, all[i], true,
		    &warn), HOSTKEY_ACCEPT);
		assert_false(warn);
		assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_NOTFOUND, all[i],
		    false, &warn), HOSTKEY_ACCEPT_ADD);
		assert_int_equal(hostkey_decide_ip(HOSTKEY_NOTFOUND, HOSTKEY_NOTFOUND, all[i],
		    false, &warn), HOSTKEY_ACCEPT_ADD);
		assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_REVOKED, all[i], true,
		    &warn), HOSTKEY_REFUSE);
		/* A host that is refused anyway stays refused. */
		assert_int_equal(hostkey_decide_ip(HOSTKEY_MISMATCH, HOSTKEY_MATCH, all[i],
		    true, &warn), HOSTKEY_REFUSE);
	}
	/* The address's entry differs: as StrictHostKeyChecking says. */
	assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_MISMATCH, SSHCFG_STRICT_YES,
	    true, &warn), HOSTKEY_REFUSE);
	assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_MISMATCH,
	    SSHCFG_STRICT_ACCEPT_NEW, true, &warn), HOSTKEY_REFUSE);
	assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_MISMATCH, SSHCFG_STRICT_ASK,
	    true, &warn), HOSTKEY_ASK);
	assert_int_equal(hostkey_decide_ip(HOSTKEY_MATCH, HOSTKEY_MISMATCH, SSHCFG_STRICT_ASK,
	    false, &warn), HOSTKEY_REFUSE);
	assert_int_equal(hostkey_decide_ip(HOSTKEY_NOTFOUND, HOSTKEY_MISMATCH,
	    SSHCFG_STRICT_NO, false, &warn), HOSTKEY_ACCEPT);
	assert_true(warn);
}

/* Lookups under an alias see the alias's entries and no other. */
static void
test_lookup_alias(void **state)
{
	static const char other[] =
	    "AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther";
	char		 path[400], glob[400], where[300];
	const char	*files[3];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/known_hosts", tmpdir);
	snprintf(glob, sizeof(glob), "%s/global", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	/* The host's own name has another key: under the alias it does
	 * not count. */
	fprintf(f, "gw.example ssh-ed25519 %s\n"
	    "pinned ssh-ed25519 %s\n"
	    "changed ssh-ed25519 %s\n", other, kv_b64, other);
	fclose(f);
	assert_non_null(f = fopen(glob, "w"));
	fprintf(f, "global-only ssh-ed25519 %s\n", kv_b64);
	fclose(f);
	files[0] = path;
	files[1] = "/nonexistent/known_hosts";
	files[2] = glob;
	assert_int_equal(hostkey_lookup(files, 3, "pinned", "ssh-ed25519", kv_b64, where,
	    sizeof(where)), HOSTKEY_MATCH);
	assert_string_equal(where, "");
	assert_int_equal(hostkey_lookup(files, 3, "gw.example", "ssh-ed25519", kv_b64, where,
	    sizeof(where)), HOSTKEY_MISMATCH);
	/* A changed key under the alias, with where it is pinned. */
	assert_int_equal(hostkey_lookup(files, 3, "changed", "ssh-ed25519", kv_b64, where,
	    sizeof(where)), HOSTKEY_MISMATCH);
	assert_non_null(strstr(where, "known_hosts:3"));
	/* The global file is read too. */
	assert_int_equal(hostkey_lookup(files, 3, "global-only", "ssh-ed25519", kv_b64, where,
	    sizeof(where)), HOSTKEY_MATCH);
	assert_int_equal(hostkey_lookup(files, 2, "global-only", "ssh-ed25519", kv_b64, where,
	    sizeof(where)), HOSTKEY_NOTFOUND);
	/* Another type's key for the name: not this one's business. */
	assert_int_equal(hostkey_lookup(files, 3, "pinned", "ecdsa-sha2-nistp256", "AAAA",
	    where, sizeof(where)), HOSTKEY_NOTFOUND);
	unlink(glob);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_host_matches),
		cmocka_unit_test_setup_teardown(test_known_types, setup_dir, teardown_dir),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_decide_ip),
		cmocka_unit_test_setup_teardown(test_lookup_alias, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
