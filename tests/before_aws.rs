//! Values AWS would refuse are refused before any client is built: a `--region` that is no
//! AWS region or one of another partition than the environment's, on every command that asks
//! AWS. The recording proxy in front of moto sees no request, and envc exits 2.

use crate::support;

use support::proxy::Proxy;
use support::{envc_at, root, Moto};

#[test]
fn a_region_aws_would_refuse_is_refused_before_any_request() {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port, Vec::new());
    let refused: [(&[&str], &str); 6] = [
        (
            &["deploy", "local", "--yes", "--region", "us-east1"],
            "did you mean `us-east-1`?",
        ),
        (
            &["diff", "local", "--live", "--region", "eu-west-9"],
            "`eu-west-9` is not an AWS region",
        ),
        (
            &["status", "local", "--region", "cn-north-1"],
            "`--region cn-north-1` is in partition `aws-cn`, but `local` is in `aws` (us-east-1)",
        ),
        (
            &["destroy", "local", "--yes", "--region", "us-gov-west-1"],
            "in partition `aws-us-gov`",
        ),
        (
            &["run", "migration", "local", "--region", "us-east-1a"],
            "did you mean `us-east-1`?",
        ),
        (&["run", "migratoin", "local"], "did you mean `migration`?"),
    ];
    for (args, shown) in refused {
        let run = envc_at(root(), &proxy.url(), args);
        assert_eq!(run.code, 2, "{args:?}:\n{}", run.all());
        assert!(
            run.stderr.contains(shown),
            "{args:?}: {shown:?}\n{}",
            run.stderr
        );
        let seen = proxy.seen.lock().unwrap().clone();
        assert!(seen.is_empty(), "{args:?} reached AWS: {seen:?}");
    }
    // The environment's region is shown where it is set, beside the `--region` refused.
    let other = envc_at(
        root(),
        &proxy.url(),
        &["status", "local", "--region", "cn-north-1"],
    );
    assert!(
        other.stderr.contains("─[stacks.kdl:3:8]")
            && other
                .stderr
                .contains("`local`'s region, without `--region`"),
        "{}",
        other.stderr
    );
    assert!(proxy.seen.lock().unwrap().is_empty());
    // The proxy does see what is sent: a region of the environment's partition is asked.
    let status = envc_at(
        root(),
        &proxy.url(),
        &["status", "local", "--region", "eu-west-1"],
    );
    assert!(
        proxy.requests("DescribeStacks") > 0,
        "{:?}\n{}",
        proxy.seen.lock().unwrap(),
        status.all()
    );
}
