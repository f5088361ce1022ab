//! The Kubernetes manifests (`deploy/kubernetes`, kustomize): every resource passes
//! an offline schema validation (`kubernetes-validate --strict`, from PyPI, installed
//! by `.ci/run`), and the DaemonSet runs the daemon and the exporter as promised.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kubernetes")
}

fn validate(file: &Path) -> std::process::Output {
    Command::new("kubernetes-validate")
        .args(["--strict", "--quiet"])
        .arg(file)
        .output()
        .expect("kubernetes-validate is needed (pip install kubernetes-validate; .ci/run does)")
}

/// The `resources:` and generator `files:` entries of the kustomization.
fn kustomization_files() -> Vec<String> {
    let text = std::fs::read_to_string(dir().join("kustomization.yaml")).unwrap();
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("- "))
        .filter(|l| l.ends_with(".yaml") || l.ends_with(".conf"))
        .map(str::to_owned)
        .collect()
}

/// A YAML file as JSON (PyYAML comes with kubernetes-validate).
fn yaml_as_json(file: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        ])
        .arg(file)
        .output()
        .expect("python3 with PyYAML");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_resource_passes_the_schema_validation() {
    let files = kustomization_files();
    assert!(files.contains(&"daemonset.yaml".to_owned()), "{files:?}");
    for file in &files {
        let path = dir().join(file);
        assert!(path.is_file(), "kustomization names missing {file}");
        if file.ends_with(".yaml") {
            let out = validate(&path);
            assert!(
                out.status.success(),
                "{file}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_validation_catches_a_misspelt_field() {
    let text = std::fs::read_to_string(dir().join("daemonset.yaml")).unwrap();
    let bad = std::env::temp_dir().join(format!("dps-bad-ds-{}.yaml", std::process::id()));
    std::fs::write(&bad, text.replace("hostNetwork:", "hostNetwrk:")).unwrap();
    let out = validate(&bad);
    let _ = std::fs::remove_file(&bad);
    assert!(!out.status.success(), "a misspelt field passed");
}

#[test]
fn the_daemonset_runs_daemon_and_exporter_sharing_the_runtime_directory() {
    let ds = yaml_as_json(&dir().join("daemonset.yaml"));
    let pod = &ds["spec"]["template"];
    assert_eq!(
        pod["metadata"]["annotations"]["prometheus.io/scrape"],
        "true"
    );
    assert_eq!(pod["metadata"]["annotations"]["prometheus.io/port"], "9064");
    let containers = pod["spec"]["containers"].as_array().unwrap();
    let by_name = |name: &str| {
        containers
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    };
    let daemon = by_name("dpservice");
    let exporter = by_name("exporter");
    assert_eq!(daemon["command"][0], "dpservice-bin");
    assert_eq!(exporter["command"][0], "dpservice-exporter");
    // the gRPC health probe on the daemon's port
    assert_eq!(daemon["livenessProbe"]["grpc"]["port"], 1337);
    // both see the runtime directory and the shared memory of the instance
    for c in [daemon, exporter] {
        let mounts: Vec<&str> = c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["mountPath"].as_str())
            .collect();
        assert!(
            mounts.contains(&"/var/run/dpdk"),
            "{}: {mounts:?}",
            c["name"]
        );
        assert!(mounts.contains(&"/dev/shm"), "{}: {mounts:?}", c["name"]);
        let prefix = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "DP_FILE_PREFIX")
            .map(|e| e["value"].clone());
        assert_eq!(prefix, Some("dpservice".into()), "{}", c["name"]);
    }
    assert!(daemon["args"]
        .as_array()
        .unwrap()
        .contains(&"--file-prefix=dpservice".into()));
}
