//! Deploys against a real local emulator: moto on a free port of 127.0.0.1, and a
//! fault-injecting proxy in front of it for the states moto cannot produce.

mod connection;
mod daily;
mod drift;
mod examples;
mod faults;
mod lifecycle;
mod many;
mod secret;

use crate::support;
use support::proxy::{rewrite, Fault};
use support::{copy_project, root, Moto};

const LOCAL_STACKS: usize = 13;

fn local_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_project(root(), dir.path());
    dir
}

/// A copy of the root project, and a moto seeded with what `local` expects.
fn local_on_moto() -> (tempfile::TempDir, Moto) {
    let moto = Moto::start();
    moto.seed_local();
    (local_project(), moto)
}

/// A moto seeded for `local`, with `local`'s cluster stack deployed to it.
fn moto_with_cluster() -> Moto {
    let moto = Moto::start();
    moto.seed_local();
    let deploy = support::envc_at(
        root(),
        &moto.url(),
        &["deploy", "local", "--yes", "--stack", "cluster"],
    );
    assert_eq!(deploy.code, 0, "{}", deploy.all());
    moto
}

fn count_lines(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// staging's `jobs` queue at 600 s instead of 300, rendered: a change to the queues stack
/// alone.
fn lengthen_jobs_visibility(dir: &std::path::Path) {
    let staging = dir.join("env/staging.kdl");
    let text =
        std::fs::read_to_string(&staging).unwrap() + "queue \"jobs\" visibility-timeout=600\n";
    std::fs::write(&staging, text).unwrap();
    assert_eq!(support::envc(dir, &["render", "--write"]).code, 0);
}

/// The `jobs` queue's visibility timeout in moto, then the execution status of each change
/// set the queues stack has.
fn jobs_visibility_and_change_sets(moto: &Moto) -> Vec<String> {
    moto.python(
        "sqs = boto3.client('sqs', **kw)\n\
         for url in sorted(sqs.list_queues()['QueueUrls']):\n\
         \x20   if url.endswith('-jobs'):\n\
         \x20       print(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['VisibilityTimeout'])['Attributes']['VisibilityTimeout'])\n\
         print(*[c['ExecutionStatus'] for c in cf.list_change_sets(StackName='balancer-local-queues')['Summaries']])",
    )
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

fn with_status(from: &'static str, to: &'static str) -> Fault {
    rewrite(move |body| {
        body.replace(
            &format!("<StackStatus>{from}</StackStatus>"),
            &format!("<StackStatus>{to}</StackStatus>"),
        )
    })
}
