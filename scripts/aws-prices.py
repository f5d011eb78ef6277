#!/usr/bin/env python3
"""Writes data/aws-prices.json: the AWS on-demand prices envc estimates costs with, per region.

Source: the AWS Price List Bulk API, public, no credentials (see DOCS). A regional price comes from
the service's offer file for the region, BASE/<ServiceCode>/current/<region>/index.json; a price set
once for every region (Route 53, CloudWatch dashboards: no regionCode) from the whole offer file,
BASE/<ServiceCode>/current/index.json.

    python3 scripts/aws-prices.py                         # download, write data/aws-prices.json
    python3 scripts/aws-prices.py --regions us-east-1,eu-central-1 --out FILE
    python3 scripts/aws-prices.py --offers DIR            # offline: DIR/<ServiceCode>/<region>.json,
                                                          # DIR/<ServiceCode>/global.json (whole offer)
    # the fixture: /tmp/x.json must equal tests/prices/expected.json
    python3 scripts/aws-prices.py --offers tests/prices/offers --regions us-east-1 --date 2026-12-01 --out /tmp/x.json

Each key is a row of RULES: offer, product attributes, the Price List units the price may be stated
in, the factor to the key's unit (per request -> per million...) and the tier. A regional product
must also have the region's regionCode and locationType "AWS Region" (no Local Zone or Outposts
prices), and a Usage(...) usagetype may only be preceded by the region's own prefix (none, USE1- or
us-east-1- in us-east-1): USE1-Fargate-vCPU-Hours:perCPU matches Usage("Fargate-vCPU-Hours:perCPU"),
USE1-Fargate-ARM-..., Global-... (free tier) and TS-LoadBalancerUsage don't. Tier "first-paid" is
the lowest tier priced above zero (a product priced only at zero is a free-tier row and ignored);
"first" is the lowest tier. Only OnDemand terms count. No matching product, matches at two prices,
or a unit the rule does not list is an error naming the key and filter (exit 1, nothing written).
Offer files are loaded one at a time (AmazonEC2's is hundreds of MB), each once.
"""
import argparse
import collections
import datetime
import json
import pathlib
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from decimal import Decimal

BASE = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws"
DOCS = "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-the-aws-price-list-bulk-api.html"
REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_REGIONS = ["us-east-1", "eu-west-1"]

# The billing code AWS puts before a usagetype in each region (besides none and the region's name).
PREFIXES = {
    "us-east-1": ["USE1"], "us-east-2": ["USE2"], "us-west-1": ["USW1"], "us-west-2": ["USW2"],
    "ca-central-1": ["CAN1"], "ca-west-1": ["CAN2"], "sa-east-1": ["SAE1"], "mx-central-1": ["MXC1"],
    "eu-west-1": ["EU", "EUW1"], "eu-west-2": ["EUW2"], "eu-west-3": ["EUW3"], "eu-central-1": ["EUC1"],
    "eu-central-2": ["EUC2"], "eu-north-1": ["EUN1"], "eu-south-1": ["EUS1"], "eu-south-2": ["EUS2"],
    "af-south-1": ["AFS1"], "il-central-1": ["ILC1"], "me-south-1": ["MES1"], "me-central-1": ["MEC1"],
    "ap-east-1": ["APE1"], "ap-south-1": ["APS3"], "ap-south-2": ["APS5"], "ap-southeast-1": ["APS1"],
    "ap-southeast-2": ["APS2"], "ap-southeast-3": ["APS4"], "ap-southeast-4": ["APS6"],
    "ap-northeast-1": ["APN1"], "ap-northeast-2": ["APN2"], "ap-northeast-3": ["APN3"],
}


class Usage(str):
    """A usagetype (a regular expression) written without the region's prefix."""


Rule = collections.namedtuple("Rule", "key service filters unit factor units scope tier",
                              defaults=("region", "first-paid"))
HOURS = ("Hrs", "Hours", "Hour")
GB = ("GB", "GigaBytes")
GB_MONTH = ("GB-Mo", "GB-Month", "GigaByte Month")
MONTHS = ("Month", "Months")
REQUESTS = ("Requests", "Request")
MILLION, TEN_K = 1_000_000, 10_000
# A filter value is a str (equal), a tuple (one of) or a Usage; "productFamily" is the product's own.
RULES = [
    Rule("fargate.linux-x86.vcpu-hour", "AmazonECS", {"productFamily": "Compute",
         "usagetype": Usage("Fargate-vCPU-Hours:perCPU")}, "vCPU-hour", 1, HOURS + ("vCPU-Hours",)),
    Rule("fargate.linux-x86.gb-hour", "AmazonECS", {"productFamily": "Compute",
         "usagetype": Usage("Fargate-GB-Hours")}, "GB-hour", 1, HOURS + ("GB-Hours",)),
    Rule("fargate.linux-arm.vcpu-hour", "AmazonECS", {"productFamily": "Compute",
         "usagetype": Usage("Fargate-ARM-vCPU-Hours:perCPU")}, "vCPU-hour", 1, HOURS + ("vCPU-Hours",)),
    Rule("fargate.linux-arm.gb-hour", "AmazonECS", {"productFamily": "Compute",
         "usagetype": Usage("Fargate-ARM-GB-Hours")}, "GB-hour", 1, HOURS + ("GB-Hours",)),
    Rule("elb.application.hour", "AWSELB", {"productFamily": "Load Balancer-Application",
         "usagetype": Usage("LoadBalancerUsage")}, "hour", 1, HOURS),
    Rule("elb.application.lcu-hour", "AWSELB", {"productFamily": "Load Balancer-Application",
         "usagetype": Usage("LCUUsage")}, "LCU-hour", 1, ("LCU-Hrs", "LCU-Hours")),
    Rule("ec2.nat-gateway.hour", "AmazonEC2", {"productFamily": "NAT Gateway",
         "usagetype": Usage("NatGateway-Hours")}, "hour", 1, HOURS),
    Rule("ec2.nat-gateway.gb", "AmazonEC2", {"productFamily": "NAT Gateway",
         "usagetype": Usage("NatGateway-Bytes")}, "GB", 1, GB),
    Rule("vpc.interface-endpoint.hour", "AmazonVPC", {"productFamily": "VpcEndpoint",
         "usagetype": Usage("VpcEndpoint-Hours")}, "endpoint-AZ-hour", 1, HOURS),
    Rule("vpc.interface-endpoint.gb", "AmazonVPC", {"productFamily": "VpcEndpoint",
         "usagetype": Usage("VpcEndpoint-Bytes")}, "GB", 1, GB),
    # The public IPv4 charge is in AmazonVPC, not AmazonEC2, and has no productFamily.
    Rule("vpc.public-ipv4.hour", "AmazonVPC", {"usagetype": Usage("PublicIPv4:InUseAddress")},
         "address-hour", 1, HOURS),
] + [
    Rule(f"rds.postgres.{az}.{cls}.hour", "AmazonRDS", {"productFamily": "Database Instance",
         "instanceType": cls, "databaseEngine": "PostgreSQL", "deploymentOption": option,
         "usagetype": Usage(usage + r":db\..+")}, "instance-hour", 1, HOURS)
    for az, option, usage in [("single-az", "Single-AZ", "InstanceUsage"), ("multi-az", "Multi-AZ", "Multi-AZUsage")]
    for cls in ["db.t3.micro", "db.t3.small", "db.t3.medium", "db.t4g.micro", "db.t4g.small",
                "db.t4g.medium", "db.t4g.large", "db.m7g.large"]
] + [
    # RDS lists storage under each engine, and under "Any" in older files: either, at one price.
    Rule(f"rds.storage.{vol}.{az}.gb-month", "AmazonRDS", {"productFamily": "Database Storage",
         "volumeType": volume_type, "deploymentOption": option, "databaseEngine": ("PostgreSQL", "Any"),
         "usagetype": Usage(f"RDS:{multi}{code}-Storage")}, "GB-month", 1, GB_MONTH)
    for vol, volume_type, code in [("gp3", "General Purpose-GP3", "GP3"), ("gp2", "General Purpose", "GP2")]
    for az, option, multi in [("single-az", "Single-AZ", ""), ("multi-az", "Multi-AZ", "Multi-AZ-")]
] + [
    Rule("aurora.postgres.serverless-v2.acu-hour", "AmazonRDS", {"productFamily": "ServerlessV2",
         "databaseEngine": "Aurora PostgreSQL", "usagetype": Usage("Aurora:ServerlessV2Usage")},
         "ACU-hour", 1, ("ACU-Hr", "ACU-Hrs", "ACU-Hours")),
    Rule("aurora.postgres.serverless-v2-io-optimized.acu-hour", "AmazonRDS", {"productFamily": "ServerlessV2",
         "databaseEngine": "Aurora PostgreSQL", "usagetype": Usage("Aurora:ServerlessV2IOOptimizedUsage")},
         "ACU-hour", 1, ("ACU-Hr", "ACU-Hrs", "ACU-Hours")),
    Rule("aurora.storage.gb-month", "AmazonRDS", {"productFamily": "Database Storage",
         "databaseEngine": ("Aurora PostgreSQL", "Any"), "usagetype": Usage("Aurora:StorageUsage")},
         "GB-month", 1, GB_MONTH),
    Rule("aurora.io-optimized-storage.gb-month", "AmazonRDS", {"productFamily": "Database Storage",
         "databaseEngine": ("Aurora PostgreSQL", "Any"), "usagetype": Usage("Aurora:IO-OptimizedStorageUsage")},
         "GB-month", 1, GB_MONTH),
    Rule("aurora.io.million-requests", "AmazonRDS", {"productFamily": "System Operation",
         "databaseEngine": ("Aurora PostgreSQL", "Any"), "usagetype": Usage("Aurora:StorageIOUsage")},
         "1M requests", MILLION, ("IOs", "IO")),
    # Some regions say AWSSecretsManager-Secret and EU-AWSSecretsManager-APIRequests.
    Rule("secretsmanager.secret.month", "AWSSecretsManager", {"usagetype": Usage("AWSSecretsManager-Secrets?")},
         "secret-month", 1, ("Secrets", "Secret")),
    Rule("secretsmanager.api.10k-requests", "AWSSecretsManager",
         {"usagetype": Usage("AWSSecretsManager(APIRequest|-APIRequests)")},
         "10k requests", TEN_K, REQUESTS + ("API Requests", "API Request")),
    Rule("cloudwatch.alarm.standard.month", "AmazonCloudWatch", {"productFamily": "Alarm",
         "usagetype": Usage("CW:AlarmMonitorUsage")}, "alarm metric-month", 1, ("Alarms", "Alarm")),
    # Dashboards: one price for the account (location "Any"); -Basic is a dashboard of up to 50 metrics.
    Rule("cloudwatch.dashboard.month", "AmazonCloudWatch", {"productFamily": "Dashboard",
         "usagetype": Usage("DashboardsUsageHour(-Basic)?")}, "dashboard-month", 1,
         ("Dashboards", "Dashboard"), "global"),
    Rule("logs.ingestion.gb", "AmazonCloudWatch", {"productFamily": "Data Payload",
         "usagetype": Usage("DataProcessing-Bytes")}, "GB", 1, GB),
    Rule("logs.storage.gb-month", "AmazonCloudWatch", {"productFamily": "Storage Snapshot",
         "usagetype": Usage("TimedStorage-ByteHrs")}, "GB-month", 1, GB_MONTH),
    Rule("route53.hosted-zone.month", "AmazonRoute53", {"productFamily": "DNS Zone",
         "usagetype": Usage("HostedZone")}, "zone-month", 1, ("HostedZone", "HostedZones"), "global"),
    Rule("route53.queries.million", "AmazonRoute53", {"productFamily": "DNS Query",
         "usagetype": Usage("DNS-Queries")}, "1M queries", MILLION, ("Queries", "Query"), "global"),
    Rule("kms.key.month", "awskms", {"productFamily": "Encryption Key", "usagetype": Usage("KMS-Keys")},
         "key-month", 1, ("Keys", "Key") + MONTHS),
    Rule("kms.requests.10k", "awskms", {"usagetype": Usage("KMS-Requests")}, "10k requests", TEN_K, REQUESTS),
] + [
    Rule(f"elasticache.{engine.lower()}.{node}.hour", "AmazonElastiCache", {"productFamily": "Cache Instance",
         "instanceType": node, "cacheEngine": engine, "usagetype": Usage(r"NodeUsage:cache\..+")},
         "node-hour", 1, HOURS)
    for engine in ["Redis", "Valkey"] for node in ["cache.t4g.micro", "cache.m7g.large"]
] + [
    Rule("wafv2.web-acl.month", "awswaf", {"usagetype": Usage("WebACLV2")}, "web ACL-month", 1, MONTHS),
    Rule("wafv2.rule.month", "awswaf", {"usagetype": Usage("RuleV2")}, "rule-month", 1, MONTHS + ("Rule", "Rules")),
    Rule("wafv2.requests.million", "awswaf", {"usagetype": Usage("RequestV2-Tier1")},
         "1M requests", MILLION, REQUESTS),
    Rule("sqs.standard.million-requests", "AWSQueueService", {"queueType": "Standard",
         "usagetype": Usage("Requests-(RBP|Tier1)")}, "1M requests", MILLION, REQUESTS),
    Rule("lambda.x86.gb-second", "AWSLambda", {"productFamily": "Serverless",
         "usagetype": Usage("Lambda-GB-Second")}, "GB-second", 1, ("Lambda-GB-Second", "GB-Seconds")),
    Rule("lambda.arm.gb-second", "AWSLambda", {"productFamily": "Serverless",
         "usagetype": Usage("Lambda-GB-Second-ARM")}, "GB-second", 1, ("Lambda-GB-Second", "GB-Seconds")),
    Rule("lambda.requests.million", "AWSLambda", {"productFamily": "Serverless", "usagetype": Usage("Request")},
         "1M requests", MILLION, REQUESTS),
    Rule("ecr.storage.gb-month", "AmazonECR", {"productFamily": "EC2 Container Registry",
         "usagetype": Usage("TimedStorage-ByteHrs")}, "GB-month", 1, GB_MONTH),
    Rule("s3.standard.gb-month", "AmazonS3", {"volumeType": "Standard",
         "usagetype": Usage("TimedStorage-ByteHrs")}, "GB-month", 1, GB_MONTH),
]


def offer_url(service, where):
    return f"{BASE}/{service}/current/{'' if where == 'global' else where + '/'}index.json"


def describe(filters):
    return ", ".join(f"{k}={'|'.join(v) if isinstance(v, tuple) else getattr(v, 'pattern', v)}"
                     for k, v in filters.items())


def compile_filters(rule, region):
    """The rule's filters for one region, a Usage turned into a regex with the region's prefixes."""
    prefixes = "" if rule.scope == "global" else "|".join(p + "-" for p in PREFIXES[region] + [region])
    return {k: re.compile(f"(?:{prefixes})?(?:{v})") if isinstance(v, Usage) else v
            for k, v in rule.filters.items()}


def matches(product, filters, region, scope):
    attrs = product.get("attributes", {})
    if scope == "region":
        if attrs.get("regionCode", region) != region or attrs.get("locationType", "AWS Region") != "AWS Region":
            return False
    elif attrs.get("regionCode"):  # a whole offer: only the products priced for no one region
        return False
    for name, want in filters.items():
        have = product.get("productFamily") if name == "productFamily" else attrs.get(name)
        if have is None:
            return False
        if isinstance(want, re.Pattern):
            if not want.fullmatch(have):
                return False
        elif have not in (want if isinstance(want, tuple) else (want,)):
            return False
    return True


def tier_prices(offer, sku, tier):
    """{(price, unit)} of the product's OnDemand tier the rule chooses; empty if it has none."""
    dims = [(Decimal(d.get("beginRange") or "0"), Decimal(d["pricePerUnit"]["USD"]), d["unit"])
            for term in offer.get("terms", {}).get("OnDemand", {}).get(sku, {}).values()
            for d in term["priceDimensions"].values() if "USD" in d.get("pricePerUnit", {})]
    if tier == "first-paid":
        dims = [d for d in dims if d[1] > 0]
    elif tier != "first":
        raise ValueError(f"unknown tier {tier!r}")
    low = min((d[0] for d in dims), default=None)
    return {(price, unit) for begin, price, unit in dims if begin == low}


def select(offer, rule, region, url):
    """The rule's price in the key's unit, or an error message."""
    filters = compile_filters(rule, region)
    found = collections.defaultdict(list)
    for sku, product in offer.get("products", {}).items():
        if matches(product, filters, region, rule.scope):
            for price_unit in tier_prices(offer, sku, rule.tier):
                found[price_unit].append(sku)
    label = "every region" if rule.scope == "global" else region
    where = f"{rule.key} ({label}): {rule.service} {url} [{describe(filters)}; tier {rule.tier}]"
    if not found:
        return None, f"{where}: no product with an on-demand price matches"
    if len(found) > 1:
        listed = "; ".join(f"{p} per {u} (SKU {', '.join(s)})" for (p, u), s in sorted(found.items()))
        return None, f"{where}: {len(found)} different prices match: {listed}"
    [(price, unit)] = found
    if unit.lower() not in {u.lower() for u in rule.units}:
        return None, f"{where}: priced per {unit!r}, not per one of {rule.units}: check the factor {rule.factor}"
    return (price * rule.factor).normalize(), None


def load_offer(service, where, offers_dir, tmp):
    if offers_dir:
        path = offers_dir / service / f"{where}.json"
    else:
        url = offer_url(service, where)
        path = pathlib.Path(tmp) / f"{service}-{where}.json"
        print(f"downloading {url}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=600) as response, open(path, "wb") as f:
            shutil.copyfileobj(response, f, 1 << 20)
    try:
        with open(path, "rb") as f:
            return json.load(f)
    finally:
        if not offers_dir:
            path.unlink(missing_ok=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=pathlib.Path, metavar="DIR",
                        help="read DIR/<ServiceCode>/<region>.json (global.json: the whole offer) instead of downloading")
    parser.add_argument("--out", type=pathlib.Path, metavar="FILE", default=REPO / "data" / "aws-prices.json",
                        help="where to write (default: data/aws-prices.json)")
    parser.add_argument("--regions", default=",".join(DEFAULT_REGIONS), help="comma-separated region codes")
    parser.add_argument("--date", type=lambda d: datetime.date.fromisoformat(d).isoformat(),
                        default=datetime.date.today().isoformat(), help="YYYY-MM-DD (default: today)")
    args = parser.parse_args()
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    unknown = [r for r in regions if r not in PREFIXES]
    if unknown:
        parser.error(f"no usagetype prefix known for {', '.join(unknown)}: add the region to PREFIXES")

    # Each offer file once: a regional one for each region, a whole one for the global rules.
    files = collections.defaultdict(list)  # (service, "global" or region) -> rules
    for rule in RULES:
        for where in (["global"] if rule.scope == "global" else regions):
            files[(rule.service, where)].append(rule)
    prices, errors = collections.defaultdict(dict), []
    with tempfile.TemporaryDirectory(prefix="aws-prices-") as tmp:
        for (service, where), rules in files.items():
            url = offer_url(service, where)
            try:
                offer = load_offer(service, where, args.offers, tmp)
            except (OSError, urllib.error.URLError, json.JSONDecodeError) as e:
                errors.append(f"{service} {where}: cannot read {url}: {e} (keys {', '.join(r.key for r in rules)})")
                continue
            for rule in rules:
                targets = regions if where == "global" else [where]
                price, error = select(offer, rule, targets[0], url)
                if error:
                    errors.append(error)
                    continue
                row = {"usd": float(price), "unit": rule.unit, "source": url, "date": args.date}
                for region in targets:
                    prices[region][rule.key] = row
            del offer
    if errors:
        for error in errors:
            print(f"aws-prices.py: {error}", file=sys.stderr)
        sys.exit(1)

    snapshot = {
        "source": f"AWS Price List Bulk API ({DOCS})",
        "date": args.date,
        "currency": "USD",
        "regions": {region: dict(sorted(prices[region].items())) for region in regions},
    }
    text = json.dumps(snapshot, indent=2) + "\n"
    # json writes 1.66667e-05; a price list reads better as 0.0000166667.
    text = re.sub(r'(?<="usd": )-?[0-9.]+e-?[0-9]+', lambda m: format(Decimal(m.group()), "f"), text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}: {len(RULES)} prices for {', '.join(regions)}", file=sys.stderr)


if __name__ == "__main__":
    main()
