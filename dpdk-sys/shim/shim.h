/*
 * dpdk-sys shim: DPDK's fast-path helpers are `static inline` in its headers, so the
 * shared libraries export no symbol for them. These wrappers give them one.
 * Also: the few values DPDK defines as function-like macros (RTE_BIT64), which bindgen
 * cannot evaluate, as enum constants.
 */
#ifndef DPDK_SYS_SHIM_H
#define DPDK_SYS_SHIM_H

#include <stdint.h>

#include <rte_config.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/*
 * Offload and device flags used by dpservice (RTE_BIT64/RTE_BIT32 macros in DPDK). All
 * are below bit 31, so a plain enum holds them; widen to uint64_t where DPDK wants it.
 */
enum dpdk_sys_flags {
	DPDK_SYS_TX_OFFLOAD_IPV4_CKSUM = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
	DPDK_SYS_TX_OFFLOAD_UDP_CKSUM = RTE_ETH_TX_OFFLOAD_UDP_CKSUM,
	DPDK_SYS_TX_OFFLOAD_TCP_CKSUM = RTE_ETH_TX_OFFLOAD_TCP_CKSUM,
	DPDK_SYS_TX_OFFLOAD_IP_TNL_TSO = RTE_ETH_TX_OFFLOAD_IP_TNL_TSO,
	DPDK_SYS_RX_OFFLOAD_TIMESTAMP = RTE_ETH_RX_OFFLOAD_TIMESTAMP,
	DPDK_SYS_DEV_INTR_LSC = RTE_ETH_DEV_INTR_LSC,
};

/* rte_eth_rx_burst */
uint16_t dpdk_sys_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t n);
/* rte_eth_tx_burst */
uint16_t dpdk_sys_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **pkts, uint16_t n);
/* rte_pktmbuf_alloc: NULL when the pool is empty */
struct rte_mbuf *dpdk_sys_pktmbuf_alloc(struct rte_mempool *mp);
/* rte_pktmbuf_alloc_bulk: 0, or a negative errno with nothing allocated */
int dpdk_sys_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned int count);
/* rte_pktmbuf_free (the whole chain; NULL is ignored) */
void dpdk_sys_pktmbuf_free(struct rte_mbuf *m);
/* rte_pktmbuf_mtod: the first byte of the packet data */
void *dpdk_sys_pktmbuf_data(struct rte_mbuf *m);
/* rte_mbuf_to_priv: the application's private area right after struct rte_mbuf */
void *dpdk_sys_mbuf_to_priv(struct rte_mbuf *m);
/* rte_pktmbuf_priv_size of a pktmbuf pool */
uint16_t dpdk_sys_pktmbuf_priv_size(struct rte_mempool *mp);
/* rte_pktmbuf_data_room_size of a pktmbuf pool */
uint16_t dpdk_sys_pktmbuf_data_room_size(struct rte_mempool *mp);
/* rte_pktmbuf_prepend / append / adj / trim (single segment): NULL or -1 when it does not fit */
char *dpdk_sys_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);
char *dpdk_sys_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
char *dpdk_sys_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);
int dpdk_sys_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);
/* rte_errno of the calling thread */
int dpdk_sys_errno(void);
/* rte_lcore_id of the calling thread (LCORE_ID_ANY outside EAL threads) */
unsigned int dpdk_sys_lcore_id(void);
/* DPDK's log lines go to stderr (call before rte_eal_init; stdout is the daemon's log) */
int dpdk_sys_log_to_stderr(void);

#endif
