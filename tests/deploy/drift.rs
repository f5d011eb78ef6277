//! Drift: a property changed behind CloudFormation's back. moto has no drift detection, so
//! the proxy answers CloudFormation's three drift APIs (as AWS documents their responses)
//! and adds the drift status AWS then reports in `DescribeStacks`.

use crate::support;
use support::envc_at;
use support::proxy::{answer, rewrite, Proxy, Rule};

use super::*;

const XMLNS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const DRIFTED_STACK: &str = "balancer-local-queues";
const CHECKED_AT: &str = "2026-12-02T09:00:00Z";

fn form(body: &str, key: &str) -> String {
    body.split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .map(|v| v.replace("%2F", "/").replace("%3A", ":"))
        .unwrap_or_default()
}

/// The three drift APIs: the queues stack has drifted (its jobs queue's visibility timeout
/// set to 45 by hand, over two pages with an unsupported resource); every other stack is in
/// sync.
fn drift_answers() -> Vec<Rule> {
    let detect = answer(|body| {
        let stack = form(body, "StackName");
        format!("<DetectStackDriftResponse xmlns=\"{XMLNS}\"><DetectStackDriftResult><StackDriftDetectionId>detect-{stack}</StackDriftDetectionId></DetectStackDriftResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DetectStackDriftResponse>")
    });
    let status = answer(|body| {
        let id = form(body, "StackDriftDetectionId");
        let drifted = id.ends_with(DRIFTED_STACK);
        let status = if drifted { "DRIFTED" } else { "IN_SYNC" };
        format!("<DescribeStackDriftDetectionStatusResponse xmlns=\"{XMLNS}\"><DescribeStackDriftDetectionStatusResult><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/x/1</StackId><StackDriftDetectionId>{id}</StackDriftDetectionId><StackDriftStatus>{status}</StackDriftStatus><DetectionStatus>DETECTION_COMPLETE</DetectionStatus><DriftedStackResourceCount>{}</DriftedStackResourceCount><Timestamp>{CHECKED_AT}</Timestamp></DescribeStackDriftDetectionStatusResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></DescribeStackDriftDetectionStatusResponse>", u8::from(drifted))
    });
    let resources = answer(|body| {
        let stack = form(body, "StackName");
        let page = form(body, "NextToken");
        let members = match (stack == DRIFTED_STACK, page.as_str()) {
            (true, "") => format!("<member><StackId>s</StackId><LogicalResourceId>JobsQueue</LogicalResourceId><PhysicalResourceId>q</PhysicalResourceId><ResourceType>AWS::SQS::Queue</ResourceType><StackResourceDriftStatus>MODIFIED</StackResourceDriftStatus><PropertyDifferences><member><PropertyPath>/VisibilityTimeout</PropertyPath><ExpectedValue>300</ExpectedValue><ActualValue>45</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member></PropertyDifferences><Timestamp>{CHECKED_AT}</Timestamp></member>"),
            (true, _) => format!("<member><StackId>s</StackId><LogicalResourceId>JobsAlarmTopic</LogicalResourceId><ResourceType>AWS::Custom::Unsupported</ResourceType><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus><Timestamp>{CHECKED_AT}</Timestamp></member>"),
            _ => String::new(),
        };
        let next = if stack == DRIFTED_STACK && page.is_empty() {
            "<NextToken>page-2</NextToken>"
        } else {
            ""
        };
        format!("<DescribeStackResourceDriftsResponse xmlns=\"{XMLNS}\"><DescribeStackResourceDriftsResult><StackResourceDrifts>{members}</StackResourceDrifts>{next}</DescribeStackResourceDriftsResult><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></DescribeStackResourceDriftsResponse>")
    });
    // After a detection, AWS reports the stack's drift in DescribeStacks.
    let described = rewrite(|body| {
        let Some(end) = body.rfind("</Stacks>") else {
            return body.to_string();
        };
        let Some(at) = body[..end].rfind("</member>") else {
            return body.to_string();
        };
        let info = format!("<DriftInformation><StackDriftStatus>DRIFTED</StackDriftStatus><LastCheckTimestamp>{CHECKED_AT}</LastCheckTimestamp></DriftInformation>");
        format!("{}{info}{}", &body[..at], &body[at..])
    });
    vec![
        Rule::new("DetectStackDrift", detect),
        Rule::new("DescribeStackDriftDetectionStatus", status),
        Rule::new("DescribeStackResourceDrifts", resources),
        Rule::new("DescribeStacks", described).stack(DRIFTED_STACK),
    ]
}

#[test]
fn a_property_changed_by_hand_shows_in_drift_in_the_plan_and_stops_a_protected_deploy() {
    let (project, moto) = local_on_moto();
    let dir = project.path();
    let first = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let proxy = Proxy::start(moto.port, drift_answers());

    let drift = envc_at(dir, &proxy.url(), &["drift", "local"]);
    assert_eq!(drift.code, 1, "{}", drift.all());
    for line in [
        "queues (balancer-local-queues): DRIFTED",
        "  MODIFIED JobsQueue (AWS::SQS::Queue)",
        "      /VisibilityTimeout: 300 → 45",
        "  not checked (drift detection does not support their types): JobsAlarmTopic (AWS::Custom::Unsupported)",
        "network (balancer-local-network): IN_SYNC",
        "1 stack drifted",
    ] {
        assert!(drift.stdout.contains(line), "{line:?} in\n{}", drift.stdout);
    }
    // Every page of the drifted stack's resources was read.
    assert!(proxy.requests("DescribeStackResourceDrifts") > LOCAL_STACKS);

    let json = envc_at(
        dir,
        &proxy.url(),
        &["drift", "local", "--stack", "queues", "--format", "json"],
    );
    assert_eq!(json.code, 1, "{}", json.all());
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["stacks"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["stacks"][0]["resources"][0]["properties"][0]["actual"],
        "45"
    );
    let github = envc_at(
        dir,
        &proxy.url(),
        &["drift", "local", "--stack", "queues", "--format", "github"],
    );
    assert!(
        github
            .stdout
            .starts_with("::warning title=drift in balancer-local-queues::JobsQueue"),
        "{}",
        github.stdout
    );
    let in_sync = envc_at(dir, &proxy.url(), &["drift", "local", "--stack", "network"]);
    assert_eq!(in_sync.code, 0, "{}", in_sync.all());

    // A change to the drifted stack: the plan says it overwrites the drift.
    lengthen_jobs_visibility(dir);
    let dry = envc_at(
        dir,
        &proxy.url(),
        &["deploy", "local", "--dry-run", "--yes"],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout.contains(&format!(
            "  drifted from its template (detected {CHECKED_AT})"
        )),
        "{}",
        dry.stdout
    );

    // Protected, it refuses, unless told to put the template back.
    let local = dir.join("env/local.kdl");
    std::fs::write(
        &local,
        std::fs::read_to_string(&local).unwrap() + "\nprotected #true\n",
    )
    .unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
    let refused = envc_at(
        dir,
        &proxy.url(),
        &["deploy", "local", "--yes", "--stack", "queues"],
    );
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains("envc::deploy::drift"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--overwrite-drift"),
        "{}",
        refused.stderr
    );
    let forced = envc_at(
        dir,
        &proxy.url(),
        &[
            "deploy",
            "local",
            "--yes",
            "--stack",
            "queues",
            "--overwrite-drift",
        ],
    );
    assert_eq!(forced.code, 0, "{}", forced.all());
}
