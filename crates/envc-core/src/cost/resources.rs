//! How each resource type is billed, read from its template: what runs by the hour, how many
//! of it, and what is billed by use.

use super::{Line, Money, Price, Prices, Pricing, UsagePrice, HOURS_PER_MONTH};
use crate::render::cfn::{collect_references, Reference};
use crate::render::yaml::Yaml;

/// Resource types AWS charges nothing for (what they carry is billed elsewhere).
const FREE: &[&str] = &[
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Budgets::Budget",
    "AWS::CloudFormation::WaitConditionHandle",
    "AWS::CloudFormation::WaitCondition",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::ECS::Cluster",
    "AWS::ECS::TaskDefinition",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::Events::Rule",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Permission",
    "AWS::Logs::SubscriptionFilter",
    "AWS::RDS::DBParameterGroup",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::RDS::DBSubnetGroup",
    "AWS::Route53::RecordSet",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::KMS::Alias",
];

/// Usage-billed types: the price keys of what they bill by use, with what each is.
const USAGE: &[(&str, &[(&str, &str)])] = &[
    (
        "AWS::SQS::Queue",
        &[("sqs.standard.million-requests", "requests")],
    ),
    (
        "AWS::Logs::LogGroup",
        &[
            ("logs.ingestion.gb", "log data ingested"),
            ("logs.storage.gb-month", "log data stored"),
        ],
    ),
    (
        "AWS::S3::Bucket",
        &[("s3.standard.gb-month", "Standard storage")],
    ),
    (
        "AWS::ECR::Repository",
        &[("ecr.storage.gb-month", "image storage")],
    ),
    (
        "AWS::RDS::DBCluster",
        &[
            ("aurora.storage.gb-month", "Aurora storage"),
            ("aurora.io.million-requests", "Aurora I/O (Standard)"),
        ],
    ),
    ("AWS::SNS::Topic", &[]),
];

/// Prices the resources of one environment.
pub(super) struct Pricer<'p, 'a> {
    pub region: &'p str,
    pub prices: &'p Prices,
    pub stacks: &'p [(&'p str, &'p Yaml<'a>)],
}

/// What one resource costs, before it becomes a [`Line`].
#[derive(Default)]
struct Priced {
    what: Vec<String>,
    monthly: Money,
    usage: Vec<UsagePrice>,
    missing: Vec<String>,
    unverified: bool,
}

impl Priced {
    fn hourly(&mut self, price: Option<&Price>, count: Money, what: String) {
        match price {
            Some(price) => {
                self.unverified |= !price.verified;
                let month = price.usd * HOURS_PER_MONTH;
                self.monthly = self.monthly + Money::range(count.low * month, count.high * month);
                self.what
                    .push(format!("{what} × {} {}", price.usd, price.unit));
            }
            None => self.missing.push(what),
        }
    }

    fn monthly(&mut self, price: Option<&Price>, count: Money, what: String) {
        match price {
            Some(price) => {
                self.unverified |= !price.verified;
                self.monthly =
                    self.monthly + Money::range(count.low * price.usd, count.high * price.usd);
                self.what
                    .push(format!("{what} × {} per {}", price.usd, price.unit));
            }
            None => self.missing.push(what),
        }
    }

    fn by_use(&mut self, price: Option<&Price>, what: &str) {
        if let Some(price) = price {
            self.unverified |= !price.verified;
            self.usage.push(UsagePrice {
                what: what.to_string(),
                usd: price.usd,
                unit: price.unit.clone(),
            });
        }
    }
}

/// A resource's `Properties`, where it has them.
struct Props<'v, 'a>(Option<&'v Yaml<'a>>);

impl<'v, 'a> Props<'v, 'a> {
    fn get(&self, name: &str) -> Option<&'v Yaml<'a>> {
        self.0?.get(name)
    }
}

fn count(n: f64) -> Money {
    Money::exactly(n)
}

fn number(value: Option<&Yaml>) -> Option<f64> {
    match value? {
        Yaml::Number(n) => n.as_f64(),
        Yaml::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text<'v>(value: Option<&'v Yaml>) -> Option<&'v str> {
    value?.as_str()
}

impl<'p, 'a> Pricer<'p, 'a> {
    fn price(&self, key: &str) -> Option<&'p Price> {
        self.prices.get(self.region, key)
    }

    pub fn line(&self, stack: &str, id: &str, kind: &str, node: &Yaml, tree: &Yaml) -> Line {
        let properties = node.get("Properties");
        let prop = Props(properties);
        let mut priced = Priced::default();
        let mut pricing = self.price_kind(stack, id, kind, &prop, tree, &mut priced);
        if !priced.missing.is_empty() {
            pricing = Pricing::NotPriced;
            priced.what.push(format!(
                "no price in {} for {}",
                self.region,
                priced.missing.join(", ")
            ));
        }
        Line {
            stack: stack.to_string(),
            id: id.to_string(),
            kind: kind.to_string(),
            pricing,
            what: priced.what.join("; "),
            monthly: priced.monthly,
            usage: priced.usage,
            unverified: priced.unverified,
        }
    }

    /// Prices one resource by its type into `priced`, and says how it is billed.
    fn price_kind(
        &self,
        stack: &str,
        id: &str,
        kind: &str,
        prop: &Props,
        tree: &Yaml,
        priced: &mut Priced,
    ) -> Pricing {
        match kind {
            "AWS::ECS::Service" => self.fargate_service(id, prop, tree, priced),
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => self.load_balancer(prop, priced),
            "AWS::EC2::NatGateway" => {
                priced.hourly(
                    self.price("ec2.nat-gateway.hour"),
                    count(1.0),
                    "1 NAT gateway".into(),
                );
                priced.by_use(
                    self.price("ec2.nat-gateway.gb"),
                    "data processed by the NAT gateway",
                );
            }
            "AWS::EC2::EIP" => priced.hourly(
                self.price("vpc.public-ipv4.hour"),
                count(1.0),
                "1 public IPv4 address".into(),
            ),
            "AWS::EC2::VPCEndpoint" => return self.vpc_endpoint(stack, prop, priced),
            "AWS::RDS::DBInstance" => self.db_instance(prop, tree, priced),
            "AWS::SecretsManager::Secret" => {
                priced.monthly(
                    self.price("secretsmanager.secret.month"),
                    count(1.0),
                    "1 secret".into(),
                );
                priced.by_use(self.price("secretsmanager.api.10k-requests"), "API calls");
            }
            "AWS::CloudWatch::Alarm" => self.alarm(prop, priced),
            "AWS::CloudWatch::Dashboard" => priced.monthly(
                self.price("cloudwatch.dashboard.month"),
                count(1.0),
                "1 dashboard".into(),
            ),
            "AWS::Route53::HostedZone" => {
                priced.monthly(
                    self.price("route53.hosted-zone.month"),
                    count(1.0),
                    "1 hosted zone".into(),
                );
                priced.by_use(self.price("route53.queries.million"), "DNS queries");
            }
            "AWS::KMS::Key" => {
                priced.monthly(
                    self.price("kms.key.month"),
                    count(1.0),
                    "1 customer managed key".into(),
                );
                priced.by_use(self.price("kms.requests.10k"), "key requests");
            }
            "AWS::ElastiCache::ReplicationGroup" | "AWS::ElastiCache::CacheCluster" => {
                self.cache(prop, priced)
            }
            "AWS::WAFv2::WebACL" => self.web_acl(prop, priced),
            "AWS::Lambda::Function" => return self.lambda(prop, priced),
            "AWS::CertificateManager::Certificate" => return Pricing::Free,
            _ if FREE.contains(&kind) => return Pricing::Free,
            _ => return self.usage_billed(kind, priced),
        }
        Pricing::Priced
    }

    /// A VPC endpoint: interface endpoints bill by the hour in each zone, gateway ones are free.
    fn vpc_endpoint(&self, stack: &str, prop: &Props, priced: &mut Priced) -> Pricing {
        match text(prop.get("VpcEndpointType")).unwrap_or("Gateway") {
            "Interface" => {
                let zones = self.list_len(stack, prop.get("SubnetIds")).unwrap_or(2.0);
                priced.hourly(
                    self.price("vpc.interface-endpoint.hour"),
                    count(zones),
                    format!("interface endpoint in {zones} zones"),
                );
                priced.by_use(
                    self.price("vpc.interface-endpoint.gb"),
                    "data through the endpoint",
                );
            }
            "Gateway" => return Pricing::Free,
            other => priced.missing.push(format!("{other} endpoint")),
        }
        Pricing::Priced
    }

    /// A CloudWatch alarm, billed by the metrics it watches.
    fn alarm(&self, prop: &Props, priced: &mut Priced) {
        let metrics = match prop.get("Metrics") {
            Some(Yaml::Sequence(items)) => items
                .iter()
                .filter(|m| m.get("MetricStat").is_some())
                .count()
                .max(1) as f64,
            _ => 1.0,
        };
        priced.monthly(
            self.price("cloudwatch.alarm.standard.month"),
            count(metrics),
            if metrics == 1.0 {
                "alarm on 1 metric".to_string()
            } else {
                format!("alarm on {metrics} metrics")
            },
        );
    }

    /// A WAF web ACL: the ACL and each of its rules by the month, the requests by use.
    fn web_acl(&self, prop: &Props, priced: &mut Priced) {
        let rules = match prop.get("Rules") {
            Some(Yaml::Sequence(items)) => items.len() as f64,
            _ => 0.0,
        };
        priced.monthly(
            self.price("wafv2.web-acl.month"),
            count(1.0),
            "1 web ACL".into(),
        );
        priced.monthly(
            self.price("wafv2.rule.month"),
            count(rules),
            format!("{rules} rules"),
        );
        priced.by_use(self.price("wafv2.requests.million"), "requests inspected");
    }

    /// A Lambda function, billed by use: compute for its architecture, and invocations.
    fn lambda(&self, prop: &Props, priced: &mut Priced) -> Pricing {
        let arm = matches!(prop.get("Architectures"), Some(Yaml::Sequence(a)) if a.iter().any(|x| x.as_str() == Some("arm64")));
        let key = if arm {
            "lambda.arm.gb-second"
        } else {
            "lambda.x86.gb-second"
        };
        priced.by_use(self.price(key), "compute");
        priced.by_use(self.price("lambda.requests.million"), "invocations");
        Pricing::Usage
    }

    /// A type billed only by use (from [`USAGE`]), or one envc does not price.
    fn usage_billed(&self, kind: &str, priced: &mut Priced) -> Pricing {
        match USAGE.iter().find(|(k, _)| *k == kind) {
            Some((_, keys)) => {
                for (key, what) in *keys {
                    priced.by_use(self.price(key), what);
                }
                Pricing::Usage
            }
            None => Pricing::NotPriced,
        }
    }

    fn fargate_service(&self, id: &str, prop: &Props, tree: &Yaml, priced: &mut Priced) {
        let definition = self.referenced(tree, prop.get("TaskDefinition"));
        let definition = definition.and_then(|d| d.get("Properties"));
        let field = |name: &str| definition.and_then(|d| d.get(name));
        let (Some(cpu), Some(memory)) = (number(field("Cpu")), number(field("Memory"))) else {
            priced
                .missing
                .push("a task size (its task definition is not in this stack)".into());
            return;
        };
        let arm = field("RuntimePlatform")
            .and_then(|r| r.get("CpuArchitecture"))
            .and_then(Yaml::as_str)
            == Some("ARM64");
        let arch = if arm { "linux-arm" } else { "linux-x86" };
        let desired = number(prop.get("DesiredCount")).unwrap_or(1.0);
        let name = text(prop.get("ServiceName"));
        let tasks = self
            .scaling(tree, id, name)
            .map_or(count(desired), |(min, max)| Money::range(min, max));
        let (vcpu, gb) = (cpu / 1024.0, memory / 1024.0);
        let shown = |n: Money| {
            if n.low == n.high {
                format!("{}", n.low)
            } else {
                format!("{}–{}", n.low, n.high)
            }
        };
        let tasks_text = match shown(tasks).as_str() {
            "1" => "1 task".to_string(),
            n => format!("{n} tasks"),
        };
        priced.hourly(
            self.price(&format!("fargate.{arch}.vcpu-hour")),
            Money::range(tasks.low * vcpu, tasks.high * vcpu),
            format!(
                "{tasks_text} × {vcpu} vCPU ({})",
                if arm { "Linux/ARM" } else { "Linux/x86" }
            ),
        );
        priced.hourly(
            self.price(&format!("fargate.{arch}.gb-hour")),
            Money::range(tasks.low * gb, tasks.high * gb),
            format!("{tasks_text} × {gb} GB"),
        );
        let public = prop
            .get("NetworkConfiguration")
            .and_then(|n| n.get("AwsvpcConfiguration"))
            .and_then(|a| a.get("AssignPublicIp"))
            .and_then(Yaml::as_str)
            == Some("ENABLED");
        if public {
            priced.hourly(
                self.price("vpc.public-ipv4.hour"),
                tasks,
                format!("a public IPv4 address for each of {tasks_text}"),
            );
        }
    }

    /// The minimum and maximum tasks of a service that scales: the scalable target whose
    /// `ResourceId` names the service (by reference, or as `service/<cluster>/<name>`) or
    /// that depends on it.
    fn scaling(&self, tree: &Yaml, service: &str, name: Option<&str>) -> Option<(f64, f64)> {
        let resources = tree.get("Resources")?.as_mapping()?;
        resources.iter().map(|(_, r)| r).find_map(|target| {
            if target.get("Type")?.as_str()? != "AWS::ApplicationAutoScaling::ScalableTarget" {
                return None;
            }
            let properties = target.get("Properties")?;
            let resource_id = properties.get("ResourceId")?;
            let mut references = Vec::new();
            collect_references(resource_id, &mut references);
            let by_reference = references.iter().any(|r| match r {
                Reference::Ref(t) | Reference::GetAtt(t) => *t == service,
                Reference::Sub(t) => t.split('.').next() == Some(service),
                Reference::Import(_) | Reference::Tag(_) => false,
            });
            let by_name = name.is_some_and(|n| {
                resource_id
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!("/{n}")))
            });
            let depends = match target.get("DependsOn") {
                Some(Yaml::Sequence(items)) => items.iter().any(|i| i.as_str() == Some(service)),
                Some(one) => one.as_str() == Some(service),
                None => false,
            };
            if !(by_reference || by_name || depends) {
                return None;
            }
            Some((
                number(properties.get("MinCapacity"))?,
                number(properties.get("MaxCapacity"))?,
            ))
        })
    }

    fn load_balancer(&self, prop: &Props, priced: &mut Priced) {
        if text(prop.get("Type")).unwrap_or("application") != "application" {
            priced.missing.push(format!(
                "a {} load balancer",
                text(prop.get("Type")).unwrap_or_default()
            ));
            return;
        }
        priced.hourly(
            self.price("elb.application.hour"),
            count(1.0),
            "1 Application Load Balancer".into(),
        );
        priced.by_use(
            self.price("elb.application.lcu-hour"),
            "load balancer capacity units (LCU)",
        );
        if text(prop.get("Scheme")).unwrap_or("internet-facing") == "internet-facing" {
            let zones = self
                .list_len("", prop.get("Subnets").or(prop.get("SubnetMappings")))
                .unwrap_or(2.0);
            priced.hourly(
                self.price("vpc.public-ipv4.hour"),
                count(zones),
                format!("{zones} public IPv4 addresses (one per zone)"),
            );
        }
    }

    fn db_instance(&self, prop: &Props, tree: &Yaml, priced: &mut Priced) {
        let class = text(prop.get("DBInstanceClass")).unwrap_or_default();
        let engine = text(prop.get("Engine")).unwrap_or_default();
        if class == "db.serverless" {
            let cluster = self
                .referenced(tree, prop.get("DBClusterIdentifier"))
                .and_then(|c| c.get("Properties"));
            let scaling = cluster.and_then(|c| c.get("ServerlessV2ScalingConfiguration"));
            let (min, max) = (
                number(scaling.and_then(|s| s.get("MinCapacity"))).unwrap_or(0.5),
                number(scaling.and_then(|s| s.get("MaxCapacity"))).unwrap_or(1.0),
            );
            let optimized = cluster
                .and_then(|c| c.get("StorageType"))
                .and_then(Yaml::as_str)
                == Some("aurora-iopt1");
            let flavour = if optimized {
                "serverless-v2-io-optimized"
            } else {
                "serverless-v2"
            };
            let engine = match engine {
                "aurora-postgresql" => "postgres",
                other => other.trim_start_matches("aurora-"),
            };
            let paused = if min == 0.0 { ", pausing to zero" } else { "" };
            priced.hourly(
                self.price(&format!("aurora.{engine}.{flavour}.acu-hour")),
                Money::range(min, max),
                format!("Aurora Serverless v2, {min}–{max} ACU{paused}"),
            );
            return;
        }
        let multi = matches!(prop.get("MultiAZ"), Some(Yaml::Bool(true)));
        let az = if multi { "multi-az" } else { "single-az" };
        priced.hourly(
            self.price(&format!("rds.{engine}.{az}.{class}.hour")),
            count(1.0),
            format!("{class} {engine}{}", if multi { ", Multi-AZ" } else { "" }),
        );
        if let Some(gb) = number(prop.get("AllocatedStorage")) {
            let storage = text(prop.get("StorageType")).unwrap_or("gp2");
            let most = number(prop.get("MaxAllocatedStorage")).unwrap_or(gb);
            priced.monthly(
                self.price(&format!("rds.storage.{storage}.{az}.gb-month")),
                Money::range(gb, most),
                if most > gb {
                    format!("{gb}–{most} GB {storage}")
                } else {
                    format!("{gb} GB {storage}")
                },
            );
        }
    }

    fn cache(&self, prop: &Props, priced: &mut Priced) {
        let node_type = text(prop.get("CacheNodeType")).unwrap_or_default();
        let engine = text(prop.get("Engine"))
            .unwrap_or("redis")
            .to_ascii_lowercase();
        let nodes = number(prop.get("NumCacheClusters"))
            .or_else(|| {
                let groups = number(prop.get("NumNodeGroups"))?;
                Some(groups * (number(prop.get("ReplicasPerNodeGroup")).unwrap_or(0.0) + 1.0))
            })
            .or_else(|| number(prop.get("NumCacheNodes")))
            .unwrap_or(1.0);
        priced.hourly(
            self.price(&format!("elasticache.{engine}.{node_type}.hour")),
            count(nodes),
            format!("{nodes} {node_type} {engine} nodes"),
        );
    }

    /// The resource of `tree` that `value` names (`!Ref X`, `!GetAtt X.Arn`).
    fn referenced<'t>(&self, tree: &'t Yaml<'a>, value: Option<&Yaml>) -> Option<&'t Yaml<'a>> {
        let mut references = Vec::new();
        collect_references(value?, &mut references);
        let id = references.into_iter().find_map(|r| match r {
            Reference::Ref(id) | Reference::GetAtt(id) => Some(id),
            _ => None,
        })?;
        tree.get("Resources")?.get(id)
    }

    /// How many items a list value has: a sequence, or a `!Split` of an import whose export
    /// joins a sequence.
    fn list_len(&self, _stack: &str, value: Option<&Yaml>) -> Option<f64> {
        let mut value = value?;
        for _ in 0..4 {
            match value {
                Yaml::Sequence(items) => return Some(items.len() as f64),
                Yaml::Tagged(tag, argument) => match (tag.as_ref(), argument.as_ref()) {
                    ("!Split" | "!Join", Yaml::Sequence(parts)) if parts.len() == 2 => {
                        value = &parts[1]
                    }
                    ("!ImportValue", Yaml::String(name)) => value = self.exported(name)?,
                    _ => return None,
                },
                _ => return None,
            }
        }
        None
    }

    fn exported(&self, name: &str) -> Option<&'p Yaml<'a>> {
        self.stacks.iter().find_map(|(_, tree)| {
            let outputs = tree.get("Outputs")?.as_mapping()?;
            outputs.iter().map(|(_, o)| o).find_map(|output| {
                let export = output.get("Export")?.get("Name")?.as_str()?;
                (export == name).then(|| output.get("Value")).flatten()
            })
        })
    }
}
