#!/usr/bin/env bash
# Measures what one random memory access costs on this machine when its page is not in
# the TLB, with and without 2 MiB pages in the guest: tells whether the host backs the
# guest's memory with huge pages (then guest huge pages remove the page walks) or with
# 4 KiB pages (then every random access to a large table pays a nested page walk, as the
# 1M-flow conntrack case of BENCHMARKS.md does).
#
# Usage: scripts/page-walk-probe.sh        (needs a C compiler; no root)
#
# Each line: a pointer chase (every load depends on the previous one) over 8 192 cache
# lines, one per 4 KiB page (stride 4 160 bytes, so the lines spread over the cache sets
# and all fit the L2 cache), over a span of 32 MiB; the same lines packed into 512 KiB as
# the baseline (no TLB misses); and 2 048 pages (within the TLB's reach). "thp": the
# span was madvise(MADV_HUGEPAGE)d (needs transparent_hugepage/enabled = madvise or always).
set -euo pipefail

cc=${CC:-cc}
if ! command -v "$cc" >/dev/null; then
    echo "page-walk-probe: needs a C compiler (\$CC or cc)" >&2
    exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat >"$dir/probe.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double chase(size_t n, size_t stride, int huge) {
    size_t size = n * stride;
    char *a = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) { perror("mmap"); exit(1); }
    if (huge) madvise(a, size, MADV_HUGEPAGE);
    uint32_t *order = malloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = i;
    uint64_t s = 7;
    for (size_t i = n - 1; i > 0; i--) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t j = s % (i + 1);
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        *(char **)(a + (size_t)order[i] * stride) = a + (size_t)order[(i + 1) % n] * stride;
    char *p = a + (size_t)order[0] * stride;
    size_t hops = 20000000;
    for (size_t i = 0; i < hops / 10; i++) p = *(char **)p;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < hops; i++) p = *(char **)p;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (p == 0) puts("");
    munmap(a, size);
    free(order);
    return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / hops;
}

int main(void) {
    struct { const char *what; size_t n, stride; int huge; } c[] = {
        {"8192 lines packed in 512 KiB (baseline)", 8192, 64, 0},
        {"8192 pages over 32 MiB, 4 KiB guest pages", 8192, 4160, 0},
        {"8192 pages over 32 MiB, thp", 8192, 4160, 1},
        {"2048 pages over 8 MiB, thp", 2048, 4160, 1},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        printf("{\"case\":\"%s\",\"ns_per_load\":%.2f}\n", c[i].what,
               chase(c[i].n, c[i].stride, c[i].huge));
    return 0;
}
EOF
"$cc" -O2 -o "$dir/probe" "$dir/probe.c"
"$dir/probe"
