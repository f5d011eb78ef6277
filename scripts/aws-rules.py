#!/usr/bin/env python3
"""Writes data/aws-rules.json: the AWS rules envc checks offline.

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
    # Aurora Serverless v2 pauses at 0 ACU from these minor versions of each major version.
    "aurora_postgresql_pause_from": {"13": "13.15", "14": "14.12", "15": "15.7", "16": "16.3"},
}
out = pathlib.Path(__file__).resolve().parent.parent / "data" / "aws-rules.json"
if "--check" in sys.argv:
    committed = json.loads(out.read_text())
    rules["date"] = committed.get("date")
    if committed != rules:
        raise SystemExit(f"{out} is stale against the installed cfn-lint: run scripts/aws-rules.py")
    print(f"{out} matches cfn-lint's data")
else:
    out.write_text(json.dumps(rules, indent=2) + "\n")
    print(f"wrote {out}")
