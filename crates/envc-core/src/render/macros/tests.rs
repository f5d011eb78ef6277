//! Each macro as a function against the macro as written, byte for byte.

use super::super::Renderer;
use super::with_module_bound;
use minijinja::{context, Value};

/// Calls of every macro, with arguments that take each of its branches.
const CALLS: &[&str] = &[
    r#"header("queues")"#,
    r#"header("a \"quoted\" <name> & more")"#,
    r#"export("VpcId", "!Ref Vpc")"#,
    r#"export("PublicSubnetIds", "!Join [\",\", [A, B]]")"#,
    r#"hosted_zone_id("dns")"#,
    "image(units.own_repository)",
    "image(units.tagged)",
    "image(units.digest)",
    "image(units.untagged)",
    "image_tag_parameter(units.own_repository)",
    "image_tag_parameter(units.tagged)",
    "image_tag_parameter(units.digest)",
    "image_tag_parameter(units.untagged)",
    "container_secrets(secrets)",
    "container_secrets({})",
    "secret_read_statement(secrets)",
    "secret_read_statement(ssm_only)",
    "secret_read_statement(manager_only)",
    "secret_read_statement({})",
    "has_secret_refs(secrets)",
    "has_secret_refs({})",
    "container_environment(variables, [])",
    r#"container_environment(variables, [["QUEUE_URL", "!Ref Q"], ["B", "\"b\""]])"#,
    "container_environment({}, [])",
    r#"checkov_skip([["CKV_AWS_1", "a reason"], ["CKV_AWS_2", "another \"quoted\""]])"#,
    "checkov_skip([])",
    "checkov_skip(none)",
    "container_environment({}, none)",
    // The module's own text, as templates pass it (`m.aws_managed_key`).
    r#"checkov_skip([["CKV_AWS_149", written.aws_managed_key]])"#,
    r#"log_group("/ecs/balancer-dev/api")"#,
    r#"execution_role("balancer-dev-api-execution", secrets)"#,
    r#"execution_role("balancer-feature-a-very-long-environment-name-api-execution-role", {})"#,
    "queue_policies()",
    "stateful_policies(true)",
    "stateful_policies(false)",
    "aws_managed_key",
    "sse_sqs",
    r#"alarm("ApiHighCpu", "CPU of \"api\" above 80%", "AWS/ECS", "CPUUtilization", [("ClusterName", "\"c\""), ("ServiceName", "s")], "Average", "GreaterThanThreshold", 80)"#,
    r#"alarm("Low", "Free storage", "AWS/RDS", "FreeStorageSpace", [], "Minimum", "LessThanThreshold", 2147483648, 1, 300)"#,
    r#"alarm("Tasks", "Tasks", "ECS/ContainerInsights", "RunningTaskCount", [["A", 1]], "Minimum", "LessThanThreshold", 1.5, 2, 60, "breaching")"#,
    r#"alarm("Named", "d", "AWS/SQS", "Age", [], "Maximum", "GreaterThanThreshold", 0, period=300, missing="ignore")"#,
    r#"alarm(id="ById", description="d", namespace="N", metric="M", dimensions=[], statistic="Sum", comparison="GreaterThanThreshold", threshold=5)"#,
];

fn contexts() -> Vec<Value> {
    let secrets = context! {
        DB_PASSWORD => context! { from => "balancer/dev/db", key => "password", ssm => () },
        API_KEY => context! { from => "balancer/dev/api", key => (), ssm => () },
        a_lower => context! { from => "balancer/dev/db", key => "user", ssm => () },
        FLAG => context! { from => (), key => (), ssm => "/balancer/dev/flag/" },
        CONFIG => context! { from => "balancer-dev-config", key => (), ssm => () },
        CONFIG_KEY => context! { from => "balancer-dev-config", key => "url", ssm => () },
        BY_ARN => context! { from => "arn:aws:secretsmanager:eu-west-1:222222222222:secret:shared-AbCdEf", key => "token", ssm => () },
    };
    let units = context! {
        own_repository => context! { image => () },
        tagged => context! { image => "444444444444.dkr.ecr.eu-west-1.amazonaws.com/web:2.4.1" },
        digest => context! { image => "public.ecr.aws/nginx/nginx@sha256:abc" },
        untagged => context! { image => "public.ecr.aws/nginx/nginx" },
    };
    let variables = context! {
        LOG_LEVEL => "info",
        zeta => "z",
        CACHE_URL => context! { output => "cache.Url" },
    };
    let dns_settings = [
        Value::from(()),
        context! { zone_owner => "prod", zone_id => () },
        context! { zone_owner => "dev", zone_id => () },
        context! { zone_owner => "prod", zone_id => "Z1" },
    ];
    let mut contexts = Vec::new();
    for (index, dns) in dns_settings.into_iter().enumerate() {
        let protected = index % 2 == 0;
        let partition = if protected { "aws" } else { "aws-cn" };
        // The config secret is made by a stack of the environment, or outside envc.
        let kinds = if index < 2 {
            Value::from(std::collections::BTreeMap::from([
                ("config-secret", "config"),
                ("cluster", "cluster"),
            ]))
        } else {
            Value::from(std::collections::BTreeMap::from([("cluster", "cluster")]))
        };
        contexts.push(context! {
            project => "balancer",
            env => "dev",
            account => "111111111111",
            region => "eu-west-1",
            partition,
            protected,
            resource_prefix => "balancer-dev",
            stack => context! { name => "api" },
            image_repository => "111111111111.dkr.ecr.eu-west-1.amazonaws.com/balancer-dev",
            kinds,
            config => context! { dns, log_retention_days => 30, image_tag => "latest", config_secret => "balancer-dev-config" },
            secrets => secrets.clone(),
            ssm_only => context! { FLAG => context! { from => (), key => (), ssm => "a/b" } },
            manager_only => context! { A => context! { from => "x", key => (), ssm => () } },
            units => units.clone(),
            variables => variables.clone(),
        });
    }
    contexts
}

#[test]
fn each_macro_writes_what_the_macro_as_written_writes() {
    const BETWEEN: &str = "\u{1}";
    const AFTER: &str = "\u{2}";
    let project = tempfile::tempdir().unwrap();
    let mut renderer = Renderer::new(project.path()).unwrap();
    let mut text = String::from(
        "{% import \"_macros.j2\" as fast %}{% import \"builtin/_macros.j2\" as written %}",
    );
    for call in CALLS {
        text += &format!("{{{{ fast.{call} }}}}{BETWEEN}{{{{ written.{call} }}}}{AFTER}");
    }
    renderer
        .templates
        .add_template_owned("calls", text)
        .unwrap();
    let template = renderer.templates.get_template("calls").unwrap();
    for context in contexts() {
        let output = template.render(&context).unwrap();
        let outputs: Vec<&str> = output.split(AFTER).collect();
        assert_eq!(outputs.len(), CALLS.len() + 1, "{output}");
        for (call, both) in CALLS.iter().zip(outputs) {
            let (fast, written) = both.split_once(BETWEEN).unwrap();
            assert_eq!(fast, written, "m.{call} differs with {context}");
            assert!(!written.contains("none"), "m.{call} wrote none: {written}");
        }
    }
}

/// A call the macro as written refuses is refused.
#[test]
fn a_call_the_written_macro_refuses_is_refused() {
    let project = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(project.path()).unwrap();
    let refused = [
        r#"checkov_skip("CKV_1")"#,
        r#"checkov_skip([["CKV_2"]])"#,
        r#"checkov_skip([["CKV_2", "a", "b"]])"#,
        r#"checkov_skip(["ab"])"#,
        r#"container_environment({}, [["A"]])"#,
        "container_secrets(none)",
        r#"export("A")"#,
        r#"alarm("A", "d", "N", "M", [], "Sum", "GreaterThanThreshold")"#,
        r#"alarm("A", "d", "N", "M", [], "Sum", "GreaterThanThreshold", 0, 1, 2, "x", "extra")"#,
        r#"alarm("A", "d", "N", "M", [], "Sum", "GreaterThanThreshold", 0, periods=1, unknown=2)"#,
        r#"alarm("A", "d", "N", "M", [["one"]], "Sum", "GreaterThanThreshold", 0)"#,
    ];
    let render = |module: &str, call: &str| {
        let text = format!("{{% import \"{module}\" as m %}}{{{{ m.{call} }}}}");
        renderer.templates.render_str(&text, &contexts()[0])
    };
    for call in refused {
        assert!(render("builtin/_macros.j2", call).is_err(), "{call}");
        let fast = render("_macros.j2", call);
        assert!(fast.is_err(), "m.{call} wrote {fast:?}");
    }
}

/// A built-in's import bound to the module's value writes what the import writes, and
/// the module's value has the names, and the text, an imported module has.
#[test]
fn the_bound_module_is_the_imported_one() {
    let project = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(project.path()).unwrap();
    let imported = r#"{% import "_macros.j2" as m %}"#;
    assert_eq!(with_module_bound(imported).len(), imported.len());
    assert!(!with_module_bound(imported).contains("import"));
    let uses = "[{{ m }}] {{ m | list | join(',') }} {{ m.header('x') }} \
        {{ m['export']('A', '!Ref B') }} {{ m.sse_sqs }} {{ m is mapping }}";
    let written = format!("{imported}{uses}");
    let render = |text: &str| renderer.templates.render_str(text, &contexts()[0]);
    let bound = render(&with_module_bound(&written)).unwrap();
    assert_eq!(bound, render(&written).unwrap());
    assert!(bound.contains("header,"), "{bound}");
    let unknown = format!("{imported}{{{{ m.nothing() }}}}");
    assert!(render(&with_module_bound(&unknown)).is_err());
    assert!(render(&unknown).is_err());
}

/// Every name `_macros.j2` defines is bound, and nothing else.
#[test]
fn the_module_binds_every_name_the_macros_define() {
    let project = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(project.path()).unwrap();
    let exports = |name: &str| {
        let template = renderer.templates.get_template(name).unwrap();
        let captured = template.render_captured(context! {}).unwrap();
        let exports = captured.state().exports();
        let mut names: Vec<String> = exports.iter().map(|n| n.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(exports("_macros.j2"), exports("builtin/_macros.j2"));
    assert!(exports("_macros.j2").len() > 10);
}

/// The config secret an environment's stack makes is read by the complete ARN that stack
/// exports; one made outside envc by the partial ARN of its name; an ARN as written.
#[test]
fn secrets_are_read_by_the_arn_secrets_manager_finds() {
    let project = tempfile::tempdir().unwrap();
    let renderer = Renderer::new(project.path()).unwrap();
    let template = "{% import \"_macros.j2\" as m %}{{ m.container_secrets(secrets) }}{{ m.secret_read_statement(secrets) }}";
    let contexts = contexts();
    let made = renderer
        .templates
        .render_str(template, &contexts[0])
        .unwrap();
    assert!(
        made.contains("ValueFrom: !ImportValue balancer-dev-config-SecretArn\n"),
        "{made}"
    );
    assert!(
        made.contains(
            r#"ValueFrom: !Join ["", [!ImportValue balancer-dev-config-SecretArn, ":url::"]]"#
        ),
        "{made}"
    );
    assert!(
        made.contains("- !ImportValue balancer-dev-config-SecretArn\n"),
        "{made}"
    );
    let by_arn = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:shared-AbCdEf";
    assert!(
        made.contains(&format!("ValueFrom: \"{by_arn}:token::\"")),
        "{made}"
    );
    assert!(
        made.contains(&format!("- \"{by_arn}\"\n"))
            && made.contains(&format!("- \"{by_arn}-*\"\n")),
        "{made}"
    );
    let outside = renderer
        .templates
        .render_str(template, &contexts[2])
        .unwrap();
    assert!(
        outside.contains(":secret:balancer-dev-config\"\n"),
        "{outside}"
    );
    assert!(!outside.contains("ImportValue"), "{outside}");
}
