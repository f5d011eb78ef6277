//! The health of the services `status` reports: ECS's DescribeServices answer rewritten as
//! JSON (a service's counts and rollout), which a scenario file (tests/scenarios/) cannot say.

use crate::support;
use support::envc_at;
use support::proxy::{rewrite, Fault, Proxy, Rule};

use super::*;

/// DescribeServices as ECS answers it, with `api`'s counts and rollout changed.
fn api_service(running: i64, rollout: &'static str) -> Fault {
    rewrite(move |body| {
        let mut answer: serde_json::Value = serde_json::from_str(body).unwrap();
        for service in answer["services"].as_array_mut().unwrap() {
            if service["serviceName"] == "balancer-local-api" {
                service["runningCount"] = running.into();
                service["pendingCount"] = 0.into();
                for deployment in service["deployments"].as_array_mut().unwrap() {
                    deployment["rolloutState"] = rollout.into();
                    deployment["rolloutStateReason"] = format!("ECS deployment {rollout}").into();
                }
            }
        }
        answer.to_string()
    })
}

#[test]
fn status_exits_1_when_a_service_runs_fewer_tasks_than_desired_after_its_rollout() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let deployed = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.all());
    let healthy = envc_at(dir, &moto.url(), &["status", "local"]);
    assert_eq!(healthy.code, 0, "{}", healthy.all());
    assert!(
        healthy.stdout.contains("balancer-local-api"),
        "{}",
        healthy.stdout
    );

    let proxy = Proxy::start(
        moto.port,
        vec![Rule::new("DescribeServices", api_service(0, "COMPLETED"))],
    );
    let short = envc_at(dir, &proxy.url(), &["status", "local"]);
    assert_eq!(short.code, 1, "{}", short.all());
    assert!(
        short.stdout.contains("<< fewer than desired"),
        "{}",
        short.stdout
    );
    let json = envc_at(dir, &proxy.url(), &["status", "local", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["summary"]["unhealthy"], 1, "{report:#}");
    assert_eq!(report["summary"]["exit_code"], 1, "{report:#}");
    let api = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stack"] == "api")
        .unwrap();
    assert_eq!(
        (api["running"].as_i64(), api["desired"].as_i64()),
        (Some(0), Some(1)),
        "{api}"
    );

    // Stopped by the circuit breaker: unhealthy whatever the counts.
    proxy.set_rules(vec![Rule::new(
        "DescribeServices",
        api_service(1, "FAILED"),
    )]);
    let failed = envc_at(dir, &proxy.url(), &["status", "local"]);
    assert_eq!(failed.code, 1, "{}", failed.all());
    assert!(
        failed.stdout.contains("rolled back by the circuit breaker"),
        "{}",
        failed.stdout
    );

    // Still rolling out: in progress, as a stack update is.
    proxy.set_rules(vec![Rule::new(
        "DescribeServices",
        api_service(0, "IN_PROGRESS"),
    )]);
    assert_eq!(envc_at(dir, &proxy.url(), &["status", "local"]).code, 4);
}
