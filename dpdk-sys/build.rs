//! Finds the system DPDK with pkg-config, generates the bindings of the functions and
//! types dpservice uses, and compiles the C shim for DPDK's inline fast-path functions.

use std::path::PathBuf;
use std::process::Command;

/// The oldest DPDK whose API the bindings and the shim are written against.
const MIN_DPDK: &str = "22.11";

/// What dpservice calls: the EAL, ethdev, mbufs and mempools, lcores and threads,
/// errors, devices, and the shim's own wrappers.
const FUNCTIONS: &str = "rte_eal_.*|rte_eth_.*|rte_pktmbuf_.*|rte_mbuf_.*|rte_mempool_.*\
    |rte_lcore_.*|rte_thread_.*|rte_strerror|rte_dev_.*|rte_socket_id|rte_get_main_lcore\
    |rte_get_next_lcore|rte_openlog_stream|dpdk_sys_.*";

/// Plain constants (function-like macros are in the shim's enum instead).
const VARS: &str = "RTE_ETH_LINK_.*|RTE_ETH_NAME_MAX_LEN|RTE_ETHER_ADDR_LEN|RTE_ETHER_HDR_LEN|RTE_ETHER_CRC_LEN|RTE_MAX_ETHPORTS\
    |RTE_MAX_LCORE|RTE_PKTMBUF_HEADROOM|RTE_MBUF_DEFAULT_BUF_SIZE|RTE_MBUF_PRIV_ALIGN\
    |RTE_CACHE_LINE_SIZE|SOCKET_ID_ANY|LCORE_ID_ANY|RTE_MEMPOOL_CACHE_MAX_SIZE";

fn main() {
    let dpdk = match pkg_config::Config::new()
        .atleast_version(MIN_DPDK)
        .probe("libdpdk")
    {
        Ok(lib) => lib,
        Err(e) => fail(&format!(
            "DPDK {MIN_DPDK} or later was not found with pkg-config ({e}); install it \
             (Debian/Ubuntu: apt-get install libdpdk-dev pkg-config libclang-dev) or set \
             PKG_CONFIG_PATH to the directory holding libdpdk.pc; the default build of \
             dpservice needs no DPDK (the feature `dpdk` does)"
        )),
    };
    // include paths, `-include rte_config.h` and the `-march` DPDK was built for, as
    // pkg-config states them, for both clang (bindgen) and the C compiler (shim)
    let cflags = dpdk_cflags();

    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-changed=shim/shim.c");
    let mut shim = cc::Build::new();
    shim.file("shim/shim.c").opt_level(3).warnings(true);
    for flag in &cflags {
        shim.flag(flag);
    }
    shim.compile("dpdk_sys_shim");

    let bindings = bindgen::Builder::default()
        .header("shim/shim.h")
        .clang_args(&cflags)
        .allowlist_function(FUNCTIONS)
        .allowlist_var(VARS)
        .allowlist_type("dpdk_sys_flags")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate();
    let bindings = match bindings {
        Ok(b) => b,
        Err(e) => fail(&format!(
            "bindgen could not read the DPDK headers under {:?} ({e}); is libclang-dev installed?",
            dpdk.include_paths
        )),
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("bindings.rs");
    if let Err(e) = bindings.write_to_file(&out) {
        fail(&format!("cannot write {}: {e}", out.display()));
    }
}

/// `pkg-config --cflags libdpdk`, split into words.
fn dpdk_cflags() -> Vec<String> {
    let tool = std::env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_owned());
    let output = Command::new(&tool).args(["--cflags", "libdpdk"]).output();
    match output {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        Ok(o) => fail(&format!(
            "{tool} --cflags libdpdk failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => fail(&format!("cannot run {tool}: {e}")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}
