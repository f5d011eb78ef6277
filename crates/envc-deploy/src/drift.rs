//! Drift: what was changed in AWS behind CloudFormation's back (`envc drift`). Runs
//! CloudFormation's drift detection on each deployed stack of the environment, waits for it
//! with a bound, and reads every drifted resource with its property differences, page by
//! page. Resource types drift detection does not support are reported as not checked.

use std::time::Duration;

use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};
use aws_sdk_cloudformation::Client;

use super::clients::{aws_failure, error_message, Clients};
use super::{stack, DeployTarget};
use envc_core::diagnostic::Diagnostic;

/// How long one stack's detection may take before envc gives up on it. AWS documents
/// detection as taking "several minutes" for large stacks.
const DETECTION_BOUND: Duration = Duration::from_secs(600);
/// Waits between asking whether a detection is done, growing to the last.
const POLL_DELAYS_MS: &[u64] = &[200, 500, 1_000, 2_000, 5_000];

/// What drift detection found in one stack.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StackDrift {
    pub stack: String,
    pub stack_name: String,
    /// `IN_SYNC`, `DRIFTED`, `NOT_DEPLOYED`, or `UNKNOWN` where detection failed.
    pub status: String,
    pub resources: Vec<ResourceDrift>,
    /// Resources of types drift detection does not support, as `Id (Type)`.
    pub not_checked: Vec<String>,
    /// Why detection failed, where it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A resource that differs from its template, or is gone.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResourceDrift {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    pub properties: Vec<PropertyDrift>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PropertyDrift {
    /// As CloudFormation writes it: `/VisibilityTimeout`, `/Tags/0/Value`.
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub difference: String,
}

impl StackDrift {
    pub fn drifted(&self) -> bool {
        !self.resources.is_empty()
    }
}

/// Detects drift in every deployed stack of `target` (or those of `only`), stacks side by
/// side.
pub async fn detect(target: &DeployTarget, only: &[String]) -> Result<Vec<StackDrift>, Diagnostic> {
    let clients = Clients::new(&target.aws).await?;
    let mut detecting = tokio::task::JoinSet::new();
    let stacks: Vec<_> = target
        .stacks
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.stack))
        .cloned()
        .collect();
    for (order, rendered) in stacks.into_iter().enumerate() {
        let cf = clients.cloudformation.clone();
        detecting.spawn(async move {
            (
                order,
                stack_drift(&cf, &rendered.stack, &rendered.stack_name).await,
            )
        });
    }
    let mut found = Vec::new();
    while let Some(joined) = detecting.join_next().await {
        found.push(joined.map_err(|e| aws_failure("drift detection stopped", e.to_string()))?);
    }
    // In the stacks' order, so the problem reported is the first stack's, whichever answered
    // first.
    found.sort_by_key(|(order, _)| *order);
    found.into_iter().map(|(_, drift)| drift).collect()
}

async fn stack_drift(cf: &Client, stack: &str, stack_name: &str) -> Result<StackDrift, Diagnostic> {
    let mut drift = StackDrift {
        stack: stack.to_string(),
        stack_name: stack_name.to_string(),
        status: "NOT_DEPLOYED".to_string(),
        resources: Vec::new(),
        not_checked: Vec::new(),
        failure: None,
    };
    if stack::describe(cf, stack_name).await?.is_none() {
        return Ok(drift);
    }
    let started = cf.detect_stack_drift().stack_name(stack_name).send().await;
    let id = match started {
        Ok(response) => response
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_string(),
        Err(error) => {
            return Err(aws_failure(
                &format!("cannot start drift detection of `{stack_name}`"),
                error_message(&error),
            ))
        }
    };
    match wait_for(cf, stack_name, &id).await? {
        Ok(status) => drift.status = status,
        Err(reason) => {
            drift.status = "UNKNOWN".to_string();
            drift.failure = Some(reason);
        }
    }
    read_drifts(cf, &mut drift).await?;
    if drift.status == "UNKNOWN" && drift.failure.is_none() {
        drift.failure = Some("drift detection did not finish".to_string());
    }
    Ok(drift)
}

/// Waits for detection `id` within [`DETECTION_BOUND`]: the stack's drift status, or why
/// the detection failed.
async fn wait_for(
    cf: &Client,
    stack_name: &str,
    id: &str,
) -> Result<Result<String, String>, Diagnostic> {
    let started = std::time::Instant::now();
    for attempt in 0.. {
        let response = cf
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(id)
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    &format!("cannot read the drift detection of `{stack_name}`"),
                    error_message(&error),
                )
            })?;
        match response.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => {
                let status = response
                    .stack_drift_status()
                    .map(|s| s.as_str().to_string());
                return Ok(Ok(status.unwrap_or_else(|| "UNKNOWN".to_string())));
            }
            Some(StackDriftDetectionStatus::DetectionFailed) => {
                // Failed detections still report the resources they could check.
                let reason = response
                    .detection_status_reason()
                    .unwrap_or("detection failed");
                return Ok(Err(reason.to_string()));
            }
            _ => {}
        }
        if started.elapsed() > DETECTION_BOUND {
            return Ok(Err(format!(
                "drift detection did not finish in {} s",
                DETECTION_BOUND.as_secs()
            )));
        }
        let delay = POLL_DELAYS_MS[attempt.min(POLL_DELAYS_MS.len() - 1)];
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    unreachable!("the loop returns")
}

/// Every modified, deleted and unchecked resource of the stack's last detection, page by page.
async fn read_drifts(cf: &Client, drift: &mut StackDrift) -> Result<(), Diagnostic> {
    let mut next: Option<String> = None;
    loop {
        let response = cf
            .describe_stack_resource_drifts()
            .stack_name(&drift.stack_name)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
            .stack_resource_drift_status_filters(StackResourceDriftStatus::NotChecked)
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|error| {
                aws_failure(
                    &format!(
                        "cannot read the drifted resources of `{}`",
                        drift.stack_name
                    ),
                    error_message(&error),
                )
            })?;
        for resource in response.stack_resource_drifts() {
            let id = resource
                .logical_resource_id()
                .unwrap_or_default()
                .to_string();
            let kind = resource.resource_type().unwrap_or_default().to_string();
            let status = resource
                .stack_resource_drift_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            if status == "NOT_CHECKED" {
                drift.not_checked.push(format!("{id} ({kind})"));
                continue;
            }
            let properties = resource
                .property_differences()
                .iter()
                .map(|p| {
                    let path = p.property_path().unwrap_or_default().to_string();
                    // Values as AWS holds them: a container's variable or a property may
                    // hold a credential, which is never shown.
                    let key = path
                        .rsplit('/')
                        .find(|s| s.parse::<usize>().is_err())
                        .unwrap_or_default();
                    let hidden = |value: Option<&str>| {
                        envc_core::credentials::hide_in_reported(key, value.unwrap_or_default())
                    };
                    PropertyDrift {
                        expected: hidden(p.expected_value()),
                        actual: hidden(p.actual_value()),
                        path,
                        difference: p
                            .difference_type()
                            .map(|d| d.as_str().to_string())
                            .unwrap_or_default(),
                    }
                })
                .collect();
            drift.resources.push(ResourceDrift {
                id,
                kind,
                status,
                properties,
            });
        }
        match response.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => return Ok(()),
        }
    }
}
