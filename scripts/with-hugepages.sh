#!/usr/bin/env bash
# Runs one command with the host offering huge pages to dpservice's shared-memory
# regions, and puts the host's settings back afterwards (Ctrl-C and failures included).
#
# Usage: sudo scripts/with-hugepages.sh MODE COMMAND [ARGS...]
#   MODE thp      transparent huge pages on advice: transparent_hugepage/shmem_enabled
#                 = advise (memfd regions of tests and benches) and /dev/shm remounted
#                 with huge=advise (the daemon's region); only memory that a process
#                 madvise(MADV_HUGEPAGE)s is affected
#   MODE hugetlb:N  N reserved 2 MiB pages (vm.nr_hugepages = N) for the private regions
#                 of tests and benches (MFD_HUGETLB); shmem THP stays as it is
#   MODE none     the host's current settings (for a same-script baseline)
# Example (the conntrack-at-scale cases of BENCHMARKS.md):
#   sudo scripts/with-hugepages.sh thp env PACKET_PATH_FLOWS=1 \
#       cargo bench -p dpservice-bin --bench packet_path
set -euo pipefail

mode=${1:-}
if [ $# -lt 2 ]; then
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
shift
if [ "$(id -u)" -ne 0 ]; then
    echo "with-hugepages: needs root to change the huge page settings (run with sudo)" >&2
    exit 1
fi

thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
nr=/proc/sys/vm/nr_hugepages
# the selected value is the one in brackets: "always within_size [never] deny force"
old_thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$thp")
old_nr=$(cat "$nr")
old_shm_huge=$(findmnt -no OPTIONS /dev/shm | tr ',' '\n' | sed -n 's/^huge=//p' | tail -n1)

restore() {
    echo "$old_thp" >"$thp" || echo "with-hugepages: could not restore $thp to $old_thp" >&2
    echo "$old_nr" >"$nr" || echo "with-hugepages: could not restore $nr to $old_nr" >&2
    mount -o remount,huge="${old_shm_huge:-never}" /dev/shm ||
        echo "with-hugepages: could not remount /dev/shm with huge=${old_shm_huge:-never}" >&2
}
trap restore EXIT

case "$mode" in
    thp)
        echo advise >"$thp"
        mount -o remount,huge=advise /dev/shm
        ;;
    hugetlb:*)
        want=${mode#hugetlb:}
        case "$want" in '' | *[!0-9]*) echo "with-hugepages: hugetlb:N needs a number" >&2; exit 2 ;; esac
        echo "$want" >"$nr"
        got=$(cat "$nr")
        [ "$got" -ge "$want" ] || echo "with-hugepages: only $got of $want huge pages could be reserved" >&2
        ;;
    none) ;;
    *) echo "with-hugepages: unknown mode '$mode' (thp, hugetlb:N, none)" >&2; exit 2 ;;
esac
echo "with-hugepages: $mode: shmem_enabled=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$thp"), nr_hugepages=$(cat "$nr"), /dev/shm $(findmnt -no OPTIONS /dev/shm)" >&2
"$@"
