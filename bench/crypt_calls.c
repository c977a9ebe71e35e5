/* SPDX-License-Identifier: ISC */
/*
 * crypt_calls.c - what libssh2 1.10's packet encryption costs against the
 * same cipher and MAC run over whole packets.
 *
 * libssh2 1.10 (src/transport.c) calls the cipher once per 16-byte block,
 * with a memcpy per block on the receive side; OpenSSH and libssh2 >= 1.11
 * run it over the whole packet.  This program times AES-128-CTR through
 * EVP_Cipher both ways, and HMAC-SHA2-256 per 32 KiB packet, on this
 * machine, so docs/PERFORMANCE.md can say how much of the built-in
 * transport's CPU is the library's call pattern rather than the crypto.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACKET		32768
#define TOTAL		(1024UL * 1024 * 1024)	/* bytes per measurement */

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* AES-128-CTR over TOTAL bytes, `chunk` bytes per EVP_Cipher call. */
static double
cipher_mbs(size_t chunk, int copy)
{
	static unsigned char	buf[PACKET], out[PACKET];
	unsigned char		key[16] = { 1 }, iv[16] = { 2 };
	EVP_CIPHER_CTX		*ctx = EVP_CIPHER_CTX_new();
	size_t			 done, off;
	double			 t0;

	if (ctx == NULL || !EVP_CipherInit(ctx, EVP_aes_128_ctr(), key, iv, 1))
		exit(1);
	t0 = now();
	for (done = 0; done < TOTAL; done += PACKET)
		for (off = 0; off < PACKET; off += chunk) {
			if (EVP_Cipher(ctx, buf + off, buf + off, (unsigned)chunk) < 0)
				exit(1);
			if (copy)
				memcpy(out + off, buf + off, chunk);
		}
	EVP_CIPHER_CTX_free(ctx);
	return (double)TOTAL / (now() - t0) / 1e6;
}

/* HMAC-SHA2-256 over TOTAL bytes, one MAC per PACKET (as libssh2 does). */
static double
mac_mbs(void)
{
	static unsigned char	buf[PACKET];
	unsigned char		key[32] = { 3 }, md[32];
	unsigned int		mdlen;
	size_t			done;
	double			t0 = now();

	for (done = 0; done < TOTAL; done += PACKET)
		if (HMAC(EVP_sha256(), key, sizeof(key), buf, PACKET, md, &mdlen) == NULL)
			exit(1);
	return (double)TOTAL / (now() - t0) / 1e6;
}

int
main(void)
{
	double	blk = cipher_mbs(16, 1), bulk = cipher_mbs(PACKET, 0), mac = mac_mbs();

	printf("aes128-ctr, one call per 16-byte block + memcpy (libssh2 1.10): %8.0f MB/s\n", blk);
	printf("aes128-ctr, one call per 32 KiB packet (OpenSSH, libssh2 1.11): %8.0f MB/s\n", bulk);
	printf("hmac-sha2-256, one MAC per 32 KiB packet:                       %8.0f MB/s\n", mac);
	printf("cipher+MAC per byte, libssh2 1.10 pattern: %.2f ns; per packet: %.2f ns\n",
	    1e3 / blk + 1e3 / mac, 1e3 / bulk + 1e3 / mac);
	return 0;
}
