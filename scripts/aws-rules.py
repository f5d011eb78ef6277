#!/usr/bin/env python3
"""Writes data/aws-rules.json, data/aws-region-types.json, data/aws-properties.json and
data/aws-property-limits.json: the AWS rules envc checks offline.

Lambda runtimes and RDS engine versions come from cfn-lint's own data (AWS's CloudFormation
linter, pinned in scripts/python-tools.sh), which AWS keeps in step with the Lambda runtime
table and DescribeDBEngineVersions. Run it after raising the cfn-lint pin:

    .venv/bin/python scripts/aws-rules.py           # write the file
    .venv/bin/python scripts/aws-rules.py --check   # fail if it differs from cfn-lint's data
"""
import datetime
import json
import pathlib
import sys

import cfnlint
from importlib.metadata import version as installed_version

data = pathlib.Path(cfnlint.__file__).parent / "data"
extensions = data / "schemas" / "extensions"


def versions(resource, file, engine):
    """The EngineVersion enum cfn-lint gives `engine` on `resource`."""
    schema = json.loads((extensions / resource / file).read_text())
    for case in schema["allOf"]:
        if case["if"]["properties"]["Engine"].get("const") != engine:
            continue
        listed = case["if"]["properties"].get("EngineVersion", {}).get("enum")
        if listed is None:
            listed = case["then"]["properties"]["EngineVersion"]["enum"]
        return sorted(set(map(str, listed)), key=version_key)
    raise SystemExit(f"cfn-lint has no {engine} versions in {resource}/{file}")


def version_key(version):
    return [int(p) if p.isdigit() else p for p in version.replace("-", ".").split(".")]


runtimes = json.loads((data / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json").read_text())
rules = {
    "source": f"cfn-lint {installed_version('cfn-lint')}: data/AdditionalSpecs/LmbdRuntimeLifecycle.json "
    "(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) and "
    "data/schemas/extensions/aws_rds_*/engine_version*.json (RDS DescribeDBEngineVersions); "
    "Aurora scale-to-zero versions from https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html",
    "date": datetime.date.today().isoformat(),
    "lambda_runtimes": {
        name: {
            "deprecated": r["deprecated"],
            "create_blocked": r["create-block"],
            "update_blocked": r["update-block"],
            "successor": r["successor"],
        }
        for name, r in sorted(runtimes.items())
    },
    "engines": {
        "postgres": {
            "versions": versions("aws_rds_dbinstance", "engine_version.json", "postgres"),
            "deprecated": versions("aws_rds_dbinstance", "engine_version_deprecated.json", "postgres"),
        },
        "aurora-postgresql": {
            "versions": versions("aws_rds_dbcluster", "engine_version.json", "aurora-postgresql"),
            "deprecated": versions("aws_rds_dbcluster", "engine_version_deprecated.json", "aurora-postgresql"),
        },
    },
    # Aurora Serverless v2 (every Aurora cluster envc makes) runs these minor versions of each
    # major and later: "Supported Regions and Aurora DB engines for Aurora Serverless v2"
    # (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.ServerlessV2.html),
    # the row of most regions; a few regions start later.
    "aurora_postgresql_serverless_from": {"13": "13.6", "14": "14.3", "15": "15.2", "16": "16.1", "17": "17.4"},
    # It pauses at 0 ACU from these ("Aurora Serverless v2 capacity",
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.how-it-works.html#aurora-serverless-v2.how-it-works.capacity);
    # 17 is not in that table: AWS CDK's engine table has every 17 version pause.
    "aurora_postgresql_pause_from": {"13": "13.15", "14": "14.12", "15": "15.7", "16": "16.3", "17": "17.4"},
    # It scales to 256 ACU from these, and to 128 below them (the same table; 17 is not in it).
    "aurora_postgresql_256_acu_from": {"13": "13.13", "14": "14.10", "15": "15.5", "16": "16.1"},
}

# Physical names: which property names a resource, and where AWS wants it unique. The scope,
# case rule and any limit the provider schema lacks are AWS's documentation (the URL on each
# row); the length and pattern come from the provider schema cfn-lint ships, where it has them.
# Scope: "region" (the account and region), "account" (every region of the account), "global"
# (every account: S3 buckets). "none": not unique by name alone (checked for length only).
NAMES = [
    # type, property (a path under Properties), scope, case-insensitive, max length if the schema has none, chars if the schema has no pattern, source
    ("AWS::ECR::Repository", "RepositoryName", "region", False, None, None,
     "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html"),
    ("AWS::ECS::Cluster", "ClusterName", "region", False, 255, "^[a-zA-Z0-9_-]+$",
     "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html"),
    ("AWS::ECS::Service", "ServiceName", "none", False, 255, "^[a-zA-Z0-9_-]+$",
     "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"),
    ("AWS::Logs::LogGroup", "LogGroupName", "region", False, None, None,
     "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"),
    ("AWS::SQS::Queue", "QueueName", "region", False, 80, "^[a-zA-Z0-9_-]+(\\.fifo)?$",
     "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"),
    ("AWS::SNS::Topic", "TopicName", "region", False, None, "^[a-zA-Z0-9_-]+(\\.fifo)?$",
     "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
    ("AWS::SecretsManager::Secret", "Name", "region", False, None, "^[a-zA-Z0-9/_+=.@-]+$",
     "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name", "region", False, 32, "^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$",
     "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name", "region", False, 32, "^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$",
     "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html"),
    ("AWS::Lambda::Function", "FunctionName", "region", False, None, "^[a-zA-Z0-9_-]+$",
     "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"),
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier", "region", True, None, None,
     "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html"),
    ("AWS::RDS::DBCluster", "DBClusterIdentifier", "region", True, None, None,
     "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html"),
    ("AWS::RDS::DBSubnetGroup", "DBSubnetGroupName", "region", True, 255, None,
     "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html"),
    ("AWS::SSM::Parameter", "Name", "region", False, None, None,
     "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html"),
    ("AWS::CloudWatch::Alarm", "AlarmName", "region", False, None, None,
     "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"),
    ("AWS::CloudWatch::Dashboard", "DashboardName", "account", False, 255, "^[a-zA-Z0-9_-]+$",
     "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"),
    ("AWS::WAFv2::WebACL", "Name", "region", False, None, None,
     "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html"),
    ("AWS::ElastiCache::ReplicationGroup", "ReplicationGroupId", "region", True, 40, "^[a-zA-Z](?:-?[a-zA-Z0-9])*$",
     "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html"),
    ("AWS::ElastiCache::CacheCluster", "ClusterName", "region", True, 50, "^[a-zA-Z](?:-?[a-zA-Z0-9])*$",
     "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheCluster.html"),
    ("AWS::ElastiCache::SubnetGroup", "CacheSubnetGroupName", "region", True, 255, None,
     "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheSubnetGroup.html"),
    ("AWS::DynamoDB::Table", "TableName", "region", False, 255, "^[a-zA-Z0-9_.-]+$",
     "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html"),
    ("AWS::IAM::Role", "RoleName", "account", True, None, None,
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName", "account", True, 128, "^[\\w+=,.@-]+$",
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName", "account", True, None, None,
     "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"),
    ("AWS::S3::Bucket", "BucketName", "global", False, None, None,
     "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"),
    ("AWS::Budgets::Budget", "Budget.BudgetName", "account", False, 100, "^[^:\\\\]+$",
     "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html"),
    ("AWS::Events::Rule", "Name", "none", False, None, None,
     "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName", "region", False, None, None,
     "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html"),
    ("AWS::KMS::Alias", "AliasName", "region", False, None, None,
     "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html"),
    ("AWS::Kinesis::Stream", "Name", "region", False, None, None,
     "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html"),
]


def provider_schema(type_name):
    """The resource provider schema cfn-lint ships for `type_name` (us-east-1's)."""
    from cfnlint.data.schemas.providers import us_east_1

    return json.loads((data / "schemas" / "resources" / f"{us_east_1.types[type_name]}.json").read_text())


def name_property(schema, path):
    """The schema of the property at `path` ("Budget.BudgetName"), through `$ref`s."""
    node = schema
    for part in path.split("."):
        node = node["properties"][part]
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    return node


def rust_pattern(pattern):
    """A provider schema's pattern as Rust's `regex` reads it, or None where it cannot."""
    if pattern is None:
        return None
    # ECR's `(?=.{2,256}$)` only restates the length, which is checked on its own.
    if pattern.startswith("^(?=.{"):
        pattern = "^" + pattern[pattern.index("$)") + 2:]
    pattern = pattern.replace("\\Z", "$")
    if "(?=" in pattern or "(?!" in pattern or "\\p{Print}" in pattern:
        return None
    return pattern


def physical_names():
    rows = {}
    for type_name, path, scope, case_insensitive, max_length, chars, source in NAMES:
        prop = name_property(provider_schema(type_name), path)
        rows[type_name] = {
            "property": path,
            "scope": scope,
            "case_insensitive": case_insensitive,
            "max_length": prop.get("maxLength", max_length),
            "pattern": rust_pattern(prop.get("pattern")) or chars,
            "source": source,
        }
    return rows


def region_types():
    """Which resource types each region's CloudFormation offers (cfn-lint's per-region
    provider lists, from the CloudFormation registry of each region): every type known in any
    region, and per region a bitmap over them (hex, lowest bit first in each byte)."""
    import importlib
    import pkgutil

    from cfnlint.data.schemas import providers

    offered = {}
    for module in pkgutil.iter_modules(providers.__path__):
        if module.name.startswith("_"):
            continue
        region = module.name.replace("_", "-")
        offered[region] = set(importlib.import_module(f"{providers.__name__}.{module.name}").types)
    types = sorted(set().union(*offered.values()))
    bitmaps = {}
    for region, present in sorted(offered.items()):
        bits = bytearray((len(types) + 7) // 8)
        for i, type_name in enumerate(types):
            if type_name in present:
                bits[i // 8] |= 1 << (i % 8)
        bitmaps[region] = bits.hex()
    from cfnlint.helpers import AVAILABILITY_ZONES

    return {
        "source": f"cfn-lint {installed_version('cfn-lint')}: data/schemas/providers/<region>.py, the "
        "resource types of each region's CloudFormation registry "
        "(https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schemas.html); "
        "helpers.AVAILABILITY_ZONES, the zones `!GetAZs` lists in each region",
        "date": datetime.date.today().isoformat(),
        "types": types,
        "offered": bitmaps,
        "zones": {region: len(AVAILABILITY_ZONES[region]) for region in sorted(offered) if region in AVAILABILITY_ZONES},
    }


def settable_properties(type_name):
    """The properties of `type_name` a template sets under `Properties` (its provider schema's,
    less the read-only ones), by name, each schema through its `$ref`s."""
    schema = provider_schema(type_name)
    read_only = {p.rsplit("/", 1)[1] for p in schema.get("readOnlyProperties", [])}
    for name, prop in sorted(schema.get("properties", {}).items()):
        if name in read_only:
            continue
        while "$ref" in prop:
            prop = schema.get("definitions", {}).get(prop["$ref"].rsplit("/", 1)[1], {})
        yield name, prop


def resource_properties():
    """The properties a template may set on each resource type (the provider schema's, less
    its read-only ones), with their JSON types: what an environment's `override` block is
    checked against."""
    from cfnlint.data.schemas.providers import us_east_1

    types = {}
    for type_name in sorted(us_east_1.types):
        properties = {}
        for name, prop in settable_properties(type_name):
            kind = prop.get("type", "object" if "properties" in prop else "any")
            if isinstance(kind, list):
                kind = "any" if len(kind) != 1 else kind[0]
            properties[name] = kind
        types[type_name] = properties
    return {
        "source": f"cfn-lint {installed_version('cfn-lint')}: the us-east-1 resource provider schemas "
        "(https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schemas.html), "
        "read-only properties left out",
        "date": datetime.date.today().isoformat(),
        "types": types,
    }


def property_limits():
    """The values each resource type's properties take, where its provider schema says: a
    property's `enum` (of plain values), `minimum`, `maximum`, `minLength` and `maxLength`.
    Properties set directly under `Properties` only (not inside their blocks): what an
    environment's `override` values are checked against."""
    from cfnlint.data.schemas.providers import us_east_1

    kept = ("enum", "minimum", "maximum", "minLength", "maxLength")
    types = {}
    for type_name in sorted(us_east_1.types):
        properties = {}
        for name, prop in settable_properties(type_name):
            limits = {k: prop[k] for k in kept if k in prop}
            enum = limits.get("enum")
            if enum is not None and not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in enum):
                del limits["enum"]
            if limits:
                properties[name] = limits
        if properties:
            types[type_name] = properties
    return {
        "source": f"cfn-lint {installed_version('cfn-lint')}: the us-east-1 resource provider schemas "
        "(https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schemas.html), "
        "the enum, minimum, maximum, minLength and maxLength of each property under Properties",
        "date": datetime.date.today().isoformat(),
        "types": types,
    }


def create_only_properties():
    """The properties whose change makes CloudFormation replace the resource, per type: the
    provider schema's `createOnlyProperties` (always replaced) and
    `conditionalCreateOnlyProperties` (replaced for some changes), as dotted paths under
    `Properties`. What `envc diff` predicts replacements from."""
    from cfnlint.data.schemas.providers import us_east_1

    def paths(pointers):
        return sorted(p.removeprefix("/properties/").replace("/", ".") for p in pointers or [])

    types = {}
    for type_name in sorted(us_east_1.types):
        schema = provider_schema(type_name)
        always = paths(schema.get("createOnlyProperties"))
        conditional = paths(schema.get("conditionalCreateOnlyProperties"))
        if always or conditional:
            types[type_name] = {"always": always, "conditional": conditional}
    return {
        "source": f"cfn-lint {installed_version('cfn-lint')}: createOnlyProperties and "
        "conditionalCreateOnlyProperties of the us-east-1 resource provider schemas "
        "(https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html)",
        "date": datetime.date.today().isoformat(),
        "types": types,
    }


def write_or_check(data, name, indent):
    out = pathlib.Path(__file__).resolve().parent.parent / "data" / name
    if "--check" in sys.argv:
        committed = json.loads(out.read_text())
        data["date"] = committed.get("date")
        if committed != data:
            raise SystemExit(f"{out} is stale against the installed cfn-lint: run scripts/aws-rules.py")
        print(f"{out} matches cfn-lint's data")
    else:
        out.write_text(json.dumps(data, indent=indent) + "\n")
        print(f"wrote {out}")


rules["physical_names"] = physical_names()
write_or_check(rules, "aws-rules.json", 2)
write_or_check(region_types(), "aws-region-types.json", 1)
write_or_check(resource_properties(), "aws-properties.json", None)
write_or_check(property_limits(), "aws-property-limits.json", None)
write_or_check(create_only_properties(), "aws-create-only.json", None)
