/* SPDX-License-Identifier: ISC */
/*
 * test_ssh2_auth.c - the pure parts of the built-in client's login
 * (ssh/ssh2_auth.c, ssh/prompt.c): which methods are tried in which
 * order, when the RSA hint applies, where a question goes
 * (SSH_ASKPASS_REQUIRE), and server text made harmless for a terminal.
 */
#include <stdbool.h>
#include <stdint.h>

#include "prompt.h"
#include "ssh2_auth.h"
#include "sshconfig.h"
#include "testutil.h"

static struct sshcfg
cfg_all(void)
{
	struct sshcfg	c;

	/* Zero is OpenSSH's default: every method allowed. */
	memset(&c, 0, sizeof(c));
	c.password_prompts = 3;
	return c;
}

static void
test_methods(void **state)
{
	struct sshcfg		c = cfg_all();
	enum ssh2_method	m[SSH2_M_COUNT];

	(void)state;
	/* ssh's order, what the server offers. */
	assert_int_equal(ssh2_auth_methods(&c, "publickey,password,keyboard-interactive", m), 3);
	assert_int_equal(m[0], SSH2_M_PUBKEY);
	assert_int_equal(m[1], SSH2_M_KBDINT);
	assert_int_equal(m[2], SSH2_M_PASSWORD);
	assert_int_equal(ssh2_auth_methods(&c, "password", m), 1);
	assert_int_equal(m[0], SSH2_M_PASSWORD);
	/* Names are whole words of the list. */
	assert_int_equal(ssh2_auth_methods(&c, "publickeys,passwordx,gssapi-with-mic", m), 0);
	/* PreferredAuthentications reorders and leaves out. */
	c.preferred_auth = "gssapi-with-mic,password,hostbased,publickey";
	assert_int_equal(ssh2_auth_methods(&c, "publickey,password,keyboard-interactive", m), 2);
	assert_int_equal(m[0], SSH2_M_PASSWORD);
	assert_int_equal(m[1], SSH2_M_PUBKEY);
	c.preferred_auth = "password,password";
	assert_int_equal(ssh2_auth_methods(&c, "password", m), 1);
	/* The configuration turns methods off. */
	c.preferred_auth = NULL;
	c.no_password = true;
	c.no_pubkey = true;
	assert_int_equal(ssh2_auth_methods(&c, "publickey,password,keyboard-interactive", m), 1);
	assert_int_equal(m[0], SSH2_M_KBDINT);
}

static void
test_rsa_banner(void **state)
{
	(void)state;
	assert_true(ssh2_auth_refuses_ssh_rsa("SSH-2.0-OpenSSH_8.8"));
	assert_true(ssh2_auth_refuses_ssh_rsa("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"));
	assert_true(ssh2_auth_refuses_ssh_rsa("SSH-2.0-OpenSSH_10.0"));
	assert_false(ssh2_auth_refuses_ssh_rsa("SSH-2.0-OpenSSH_8.7"));
	assert_false(ssh2_auth_refuses_ssh_rsa("SSH-2.0-OpenSSH_7.4"));
	assert_false(ssh2_auth_refuses_ssh_rsa("SSH-2.0-dropbear_2022.83"));
	assert_false(ssh2_auth_refuses_ssh_rsa(NULL));
}

static void
test_prompt_decide(void **state)
{
	(void)state;
	/* Unset: the terminal, else the program with a display. */
	assert_int_equal(prompt_decide(NULL, true, true, true), PROMPT_TTY);
	assert_int_equal(prompt_decide(NULL, true, false, true), PROMPT_ASKPASS);
	assert_int_equal(prompt_decide(NULL, false, false, true), PROMPT_NONE);
	assert_int_equal(prompt_decide(NULL, true, false, false), PROMPT_NONE);
	/* never: only the terminal. */
	assert_int_equal(prompt_decide("never", true, false, true), PROMPT_NONE);
	assert_int_equal(prompt_decide("NEVER", true, true, true), PROMPT_TTY);
	/* prefer: the program when there is a display. */
	assert_int_equal(prompt_decide("prefer", true, true, true), PROMPT_ASKPASS);
	assert_int_equal(prompt_decide("prefer", false, true, true), PROMPT_TTY);
	/* force: the program, display or not. */
	assert_int_equal(prompt_decide("force", false, true, true), PROMPT_ASKPASS);
	assert_int_equal(prompt_decide("force", false, true, false), PROMPT_NONE);
	/* Anything else counts as unset. */
	assert_int_equal(prompt_decide("maybe", false, true, true), PROMPT_TTY);
}

static void
test_prompt_sanitize(void **state)
{
	char	out[32];

	(void)state;
	prompt_sanitize("Password: ", 10, out, sizeof(out));
	assert_string_equal(out, "Password: ");
	/* An escape sequence from the server cannot reach the terminal. */
	prompt_sanitize("\x1b[2JOTP\x07\x00x\n\t\xff", 13, out, sizeof(out));
	assert_string_equal(out, "?[2JOTP??x\n\t?");
	prompt_sanitize("abcdef", 6, out, 4);
	assert_string_equal(out, "abc");
	prompt_sanitize(NULL, 0, out, sizeof(out));
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_rsa_banner),
		cmocka_unit_test(test_prompt_decide),
		cmocka_unit_test(test_prompt_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
