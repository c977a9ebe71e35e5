# SPDX-License-Identifier: ISC
"""labutil.py - what the lab's Python services and clients share."""

import resource


def raise_nofile():
    """Thousands of concurrent connections need as many descriptors: take
    the hard limit (a fresh system's soft limit is 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
