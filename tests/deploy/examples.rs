//! The example projects deploy: an existing VPC with its endpoints, a zone shared between
//! environments, and project kinds.

use crate::support;
use support::{envc_at, root, Moto};

use super::*;

#[test]
fn an_existing_vpc_gets_the_endpoints_it_asks_for() {
    let project = local_project();
    let dir = project.path();
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        text.replace(
            "    ssm-path \"/envc/local/network\"",
            "    ssm-path \"/envc/local/network\"\n    (replace)endpoints \"ecr\" \"logs\" \"secretsmanager\" \"s3\"",
        ),
    )
    .unwrap();
    let rendered = support::envc(dir, &["render", "local", "--stack", "network"]);
    assert_eq!(rendered.code, 0, "{}", rendered.all());
    for endpoint in [
        "S3Endpoint",
        "EcrApiEndpoint",
        "EcrDockerEndpoint",
        "LogsEndpoint",
        "SecretsmanagerEndpoint",
    ] {
        assert!(
            rendered.stdout.contains(&format!("  {endpoint}:")),
            "{endpoint}:\n{}",
            rendered.stdout
        );
    }
    assert!(
        rendered
            .stdout
            .contains("RouteTableIds: !Ref PrivateRouteTableIds"),
        "{}",
        rendered.stdout
    );
    let template = dir.join("network.yaml");
    std::fs::write(&template, &rendered.stdout).unwrap();
    let lint = std::process::Command::new("cfn-lint")
        .arg(&template)
        .output()
        .expect("cfn-lint");
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );

    let written = support::envc(dir, &["render", "local", "--write"]);
    assert_eq!(written.code, 0, "{}", written.all());

    let moto = Moto::start();
    moto.seed_local();
    let deployed = envc_at(
        dir,
        &moto.url(),
        &["deploy", "local", "--yes", "--stack", "network"],
    );
    assert_eq!(deployed.code, 0, "{}", deployed.all());
    let endpoints = moto.python(
        "ec2 = boto3.client('ec2', **kw)\nprint(sorted(e['ServiceName'] for e in ec2.describe_vpc_endpoints()['VpcEndpoints']))",
    );
    for service in ["s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager"] {
        assert!(
            endpoints.contains(&format!("com.amazonaws.us-east-1.{service}'")),
            "{service}: {endpoints}"
        );
    }
}

#[test]
fn a_shared_zone_is_imported_from_the_environment_that_creates_it() {
    let project = local_project();
    let dir = project.path();
    // local takes prod's zone, as dev and staging do, instead of a zone of its own.
    let local = dir.join("env/local.kdl");
    let text = std::fs::read_to_string(&local).unwrap();
    let text = text
        .replace("domain \"api.hyperchonk.test\"\n", "")
        .replace(
            "zone-name \"hyperchonk.test\"",
            "zone-name \"hyperchonk.com\"",
        )
        .replace("    (remove)zone-owner\n", "");
    std::fs::write(&local, text).unwrap();
    let written = support::envc(dir, &["render", "local", "--write"]);
    assert_eq!(written.code, 0, "{}", written.all());

    let moto = Moto::start();
    moto.seed_local();
    let refused = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused
            .stderr
            .contains("imports `balancer-prod-dns-HostedZoneId`, which nothing exports"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("`envc deploy prod`"),
        "{}",
        refused.stderr
    );
    let stacks = moto.python("print(len(cf.describe_stacks()['Stacks']))");
    assert_eq!(
        stacks.trim(),
        "0",
        "nothing is created before the export exists"
    );

    // prod's `dns` stack, as far as moto can make it (it cannot issue certificates).
    moto.python(
        "cf.create_stack(StackName='balancer-prod-dns', TemplateBody=json.dumps({'Resources': {'HostedZone': {'Type': 'AWS::Route53::HostedZone', 'Properties': {'Name': 'hyperchonk.com'}}}, 'Outputs': {'HostedZoneId': {'Value': {'Ref': 'HostedZone'}, 'Export': {'Name': 'balancer-prod-dns-HostedZoneId'}}}}))",
    );
    let deployed = envc_at(dir, &moto.url(), &["deploy", "local", "--yes"]);
    assert_eq!(deployed.code, 0, "{}", deployed.all());
    let zones = moto.python(
        "r53 = boto3.client('route53', **kw)\nzones = [z for z in r53.list_hosted_zones()['HostedZones'] if z['Name'].rstrip('.') == 'hyperchonk.com']\nprint(len(zones))\nprint(sorted(r['Name'] for r in r53.list_resource_record_sets(HostedZoneId=zones[0]['Id'])['ResourceRecordSets']))",
    );
    let mut lines = zones.lines();
    assert_eq!(
        lines.next(),
        Some("1"),
        "one zone for hyperchonk.com: {zones}"
    );
    assert!(
        lines
            .next()
            .unwrap_or_default()
            .contains("'local-api.hyperchonk.com"),
        "local's record is in prod's zone: {zones}"
    );
}

#[test]
fn an_example_with_project_kinds_deploys_their_stacks() {
    let example = root().join("examples/kinds");
    let moto = Moto::start_in_account("444444444444");
    let deploy = envc_at(&example, &moto.url(), &["deploy", "dev", "--yes"]);
    assert_eq!(deploy.code, 0, "{}", deploy.all());
    assert_eq!(
        count_lines(&deploy.stdout, " created "),
        5,
        "{}",
        deploy.stdout
    );
    // The scheduled function, with its settings from the environment's block.
    let function = moto.python(
        "kw['region_name'] = 'eu-west-1'\nlam = boto3.client('lambda', **kw)\nf = lam.get_function_configuration(FunctionName='reports-dev-nightly-report')\nprint(f['Runtime'], f['MemorySize'], f['Timeout'], f['Environment']['Variables']['REPORT_BUCKET'])\nev = boto3.client('events', **kw)\nprint([r['ScheduleExpression'] for r in ev.list_rules()['Rules']])",
    );
    assert!(
        function.starts_with("python3.13 512 300 reports-dev-output\n"),
        "{function}"
    );
    assert!(function.contains("cron(0 3 * * ? *)"), "{function}");
    // The cache, from the `cache` block base gives every environment.
    let cache = moto.python(
        "kw['region_name'] = 'eu-west-1'\nec = boto3.client('elasticache', **kw)\ng = ec.describe_replication_groups(ReplicationGroupId='reports-dev-cache')['ReplicationGroups'][0]\nprint(g['CacheNodeType'], len(g['MemberClusters']), g['TransitEncryptionEnabled'], g['AtRestEncryptionEnabled'])",
    );
    assert_eq!(cache.trim(), "cache.t4g.micro 1 True True", "{cache}");
    // The web service's REDIS_URL is the cache stack's output, imported (no SSM parameter).
    let redis_url = moto.python(
        "kw['region_name'] = 'eu-west-1'\nec = boto3.client('elasticache', **kw)\ng = ec.describe_replication_groups(ReplicationGroupId='reports-dev-cache')['ReplicationGroups'][0]['NodeGroups'][0]['PrimaryEndpoint']\nprint(f\"rediss://{g['Address']}:{g['Port']}\")\necs = boto3.client('ecs', **kw)\nsvc = ecs.describe_services(cluster='reports-dev', services=['reports-dev-web'])['services'][0]\ntd = ecs.describe_task_definition(taskDefinition=svc['taskDefinition'])['taskDefinition']\nprint([e['value'] for e in td['containerDefinitions'][0].get('environment', []) if e['name'] == 'REDIS_URL'])",
    );
    let mut lines = redis_url.lines();
    let expected = lines.next().unwrap_or_default().to_string();
    assert!(expected.starts_with("rediss://"), "{redis_url}");
    assert_eq!(
        lines.next(),
        Some(format!("['{expected}']").as_str()),
        "{redis_url}"
    );
}

/// `deploy --image-tag` ships an image whose repository is not the environment's own: the
/// web service of examples/kinds names an existing repository by its tag (`reports-web:2.4.1`),
/// which becomes its stack's `ImageTag` parameter. Only that stack changes.
#[test]
fn an_image_of_an_existing_repository_ships_with_image_tag() {
    let example = root().join("examples/kinds");
    let moto = Moto::start_in_account("444444444444");
    let first = envc_at(&example, &moto.url(), &["deploy", "dev", "--yes"]);
    assert_eq!(first.code, 0, "{}", first.all());
    let ship = envc_at(
        &example,
        &moto.url(),
        &["deploy", "dev", "--image-tag", "2.5.0", "--yes"],
    );
    assert_eq!(ship.code, 0, "{}", ship.all());
    assert_eq!(count_lines(&ship.stdout, " updated "), 1, "{}", ship.stdout);
    assert!(ship.stdout.contains("  web "), "{}", ship.stdout);
    assert!(
        ship.stdout.contains("ContainerDefinitions/0/Image (from parameter ImageTag): …/reports-web:2.4.1 → …/reports-web:2.5.0"),
        "{}",
        ship.stdout
    );
    // The web task definition runs the tag.
    let images = moto.python(
        "kw['region_name'] = 'eu-west-1'\necs = boto3.client('ecs', **kw)\nfor arn in ecs.list_task_definitions()['taskDefinitionArns']:\n    print(ecs.describe_task_definition(taskDefinition=arn)['taskDefinition']['containerDefinitions'][0]['image'])",
    );
    let web = |tag: &str| {
        images
            .lines()
            .filter(|l| {
                *l == format!("444444444444.dkr.ecr.eu-west-1.amazonaws.com/reports-web:{tag}")
            })
            .count()
    };
    assert_eq!(web("2.5.0"), 1, "{images}");
}
