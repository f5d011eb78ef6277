"""Puts into a moto server what env/local.kdl expects to exist already: a VPC with subnets
and the route tables of its private ones, published in SSM under /envc/local/network, and
the IAM server certificate of its HTTPS listener. Usage: moto-seed.py ENDPOINT_URL"""

import sys

import boto3

endpoint = sys.argv[1]
session = dict(endpoint_url=endpoint, region_name="us-east-1",
               aws_access_key_id="test", aws_secret_access_key="test")
ec2 = boto3.client("ec2", **session)
ssm = boto3.client("ssm", **session)
iam = boto3.client("iam", **session)

vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
subnets = {"public": [], "private": []}
for i, (tier, zone) in enumerate([(t, z) for t in subnets for z in zones]):
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.3.{i}.0/24", AvailabilityZone=zone)
    subnets[tier].append(subnet["Subnet"]["SubnetId"])

route_tables = []
for subnet in subnets["private"]:
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    route_tables.append(table)

ssm.put_parameter(Name="/envc/local/network/vpc-id", Type="String", Value=vpc, Overwrite=True)
ssm.put_parameter(Name="/envc/local/network/private-route-table-ids", Type="StringList",
                  Value=",".join(route_tables), Overwrite=True)
for tier, ids in subnets.items():
    ssm.put_parameter(Name=f"/envc/local/network/{tier}-subnet-ids", Type="StringList",
                      Value=",".join(ids), Overwrite=True)

iam.upload_server_certificate(
    ServerCertificateName="envc-local",
    CertificateBody="-----BEGIN CERTIFICATE-----\nMIIBlocal\n-----END CERTIFICATE-----\n",
    PrivateKey="-----BEGIN PRIVATE KEY-----\nMIIBlocal\n-----END PRIVATE KEY-----\n",
)
print(f"seeded {endpoint}: {vpc}, subnets {subnets}, certificate envc-local")
