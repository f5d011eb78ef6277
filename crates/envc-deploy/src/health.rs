//! The health of an environment's ECS services (its services and Fargate workers): desired,
//! running and pending tasks, and the rollout of each one's newest deployment, from ECS's
//! DescribeServices. The stacks say where to look: the cluster stack's `ClusterName`, and
//! each service stack's `ServiceName`.

use super::clients::OrFailure;
use super::status::StackStatusRow;
use envc_core::diagnostic::Diagnostic;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceHealth {
    pub stack: String,
    pub service: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// The newest deployment's rollout: `IN_PROGRESS`, `COMPLETED`, or `FAILED` (the
    /// circuit breaker stopped it); `MISSING` when ECS has no such service.
    pub rollout: String,
    pub reason: Option<String>,
}

impl ServiceHealth {
    /// A failed rollout, or fewer tasks running than desired once the rollout is over.
    pub fn is_unhealthy(&self) -> bool {
        matches!(self.rollout.as_str(), "FAILED" | "MISSING")
            || (!self.is_rolling_out() && self.running < self.desired)
    }

    pub fn is_rolling_out(&self) -> bool {
        self.rollout == "IN_PROGRESS"
    }
}

/// DescribeServices takes at most this many services a call.
const BATCH: usize = 10;

/// The health of every service the stacks in `rows` run.
pub async fn services(
    ecs: &aws_sdk_ecs::Client,
    rows: &[StackStatusRow],
) -> Result<Vec<ServiceHealth>, Diagnostic> {
    let Some(cluster) = rows.iter().find_map(|r| r.outputs.get("ClusterName")) else {
        return Ok(Vec::new());
    };
    let wanted: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|r| Some((r.stack.as_str(), r.outputs.get("ServiceName")?.as_str())))
        .collect();
    let mut found = Vec::new();
    for batch in wanted.chunks(BATCH) {
        let answer = ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(batch.iter().map(|(_, s)| s.to_string()).collect()))
            .send()
            .await
            .or_failure(|| format!("cannot describe the services of cluster `{cluster}`"))?;
        for (stack, name) in batch {
            let service = answer.services().iter().find(|s| {
                s.service_name() == Some(name)
                    || s.service_arn()
                        .is_some_and(|a| a.ends_with(&format!("/{name}")))
            });
            found.push(match service {
                Some(service) => health(stack, name, service),
                None => ServiceHealth {
                    stack: stack.to_string(),
                    service: name.to_string(),
                    desired: 0,
                    running: 0,
                    pending: 0,
                    rollout: "MISSING".to_string(),
                    reason: Some(format!(
                        "ECS has no service `{name}` in cluster `{cluster}`"
                    )),
                },
            });
        }
    }
    Ok(found)
}

fn health(stack: &str, name: &str, service: &aws_sdk_ecs::types::Service) -> ServiceHealth {
    let newest = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .or(service.deployments().first());
    ServiceHealth {
        stack: stack.to_string(),
        service: name.to_string(),
        desired: service.desired_count(),
        running: service.running_count(),
        pending: service.pending_count(),
        rollout: newest
            .and_then(|d| d.rollout_state())
            .map_or("COMPLETED".to_string(), |r| r.as_str().to_string()),
        reason: newest
            .and_then(|d| d.rollout_state_reason())
            .map(str::to_string),
    }
}
