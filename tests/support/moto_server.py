"""moto's server, with CloudFormation support for the ElastiCache resources it lacks, and
updates that follow a parameter through `Fn::Sub` as CloudFormation does.

moto models ElastiCache (its API creates and describes replication groups and subnet
groups) but its CloudFormation does not know `AWS::ElastiCache::*`: it skips them, then
fails on a `GetAtt` of one. These models create the resources through moto's own
ElastiCache backend, so a stack deploys and `describe_replication_groups` shows what it made.

moto updates a resource whose template is unchanged when a parameter it uses changed, but it
finds only the parameters named by `Ref`; a `${Param}` inside `Fn::Sub` (how envc writes an
image from the `ImageTag` parameter) is missed, so `--image-tag` would change nothing. The
lookup is widened to `Fn::Sub` strings, as CloudFormation reads them.

moto's change sets name the resources that change but not how: no `Replacement`, and no
`Details` (the properties, with their values when `IncludePropertyValues` is asked). They are
added here as CloudFormation gives them: one detail per changed leaf, its path under
`/Properties`, before and after values, `ParameterReference` when a parameter caused it, and
`RequiresRecreation` for the properties CloudFormation's resource reference says replace.

moto's CloudFormation has no `AWS::CertificateManager::Certificate` either: a stack with one
lacks its outputs, and the stack importing them fails. The model requests the certificate
from moto's ACM; CloudFormation would wait for its DNS validation, which an emulator has no
registrar for.

moto's CloudFormation has no `AWS::SecretsManager::Secret`: the config stack deploys and no
secret exists. The model creates it in moto's Secrets Manager, with its `SecretString`, or
with a string made as `GenerateSecretString` asks (its template with the generated key), and
deletes it without a recovery window.

moto's CloudFormation deletes no route table, NAT gateway, internet gateway or Elastic IP
of a stack: they stay behind, and the VPC after them cannot be deleted (DependencyViolation),
so a stack with a VPC of its own could never be destroyed and made again. CloudFormation
deletes them; so do the models here, through moto's EC2 backend (an internet gateway is
detached first, as deleting its attachment does).

moto reads `${Resource.Attribute}` in `Fn::Sub` by splitting at every dot, so an attribute
with a dot of its own (`${ReplicationGroup.PrimaryEndPoint.Address}`) is asked for as
`PrimaryEndPoint` and fails. CloudFormation splits at the first dot only; so does this.

An executed change set updates moto's resources but not the stack's outputs and exports,
which stay those of the stack's creation; CloudFormation updates both, and a later stack
imports the new exports. They are made again from the new template.

moto ignores the tokens CloudFormation takes so that a resent write is not done twice
(`ClientRequestToken` of CreateStack and ExecuteChangeSet, `ClientToken` of CreateChangeSet):
a CreateStack resent after a lost answer fails with `AlreadyExistsException` on the stack the
first one made. A write resent with the token of one already done is answered as that one.

moto's server answers requests on many threads, but its backends take no locks: two stacks
made at once (as envc makes a wave's stacks) can meet in a dictionary that one of them is
changing, and a request fails half done. CloudFormation is consistent; here requests are
answered one at a time.

moto has no UpdateTerminationProtection, and deletes a stack whatever its
`EnableTerminationProtection`; CloudFormation refuses to. Both are added.

moto has no ListImports. CloudFormation lists the stacks that import an export, and refuses
to when none does ("Export 'X' is not imported by any stack"). Added: the live stacks whose
template names the export in `Fn::ImportValue`.

moto's CloudFormation has no `AWS::WAFv2::WebACL` or `AWS::WAFv2::WebACLAssociation` (a
stack with one fails with HTTP 500), though moto's WAFv2 API has both. The models create the
ACL and associate it through that backend, and delete them again.

Usage: python moto_server.py -H 127.0.0.1 -p PORT   (the arguments of `moto_server`)
"""

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.acm.models import acm_backends
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_ip_addresses import ElasticAddress
from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.nat_gateways import NatGateway
from moto.ec2.models.route_tables import RouteTable
from moto.elasticache.models import elasticache_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.wafv2.models import wafv2_backends


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


class CacheSubnetGroupResource(CloudFormationModel):
    # moto names a model's service after its module.
    __module__ = "moto.elasticache.cloudformation"

    def __init__(self, name: str):
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "CacheSubnetGroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElastiCache::SubnetGroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        name = props.get("CacheSubnetGroupName") or resource_name.lower()
        elasticache_backends[account_id][region_name].create_cache_subnet_group(
            cache_subnet_group_name=name,
            cache_subnet_group_description=props.get("Description", ""),
            subnet_ids=props.get("SubnetIds", []),
            tags=props.get("Tags"),
        )
        return cls(name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        elasticache_backends[account_id][region_name].cache_subnet_groups.pop(resource_name, None)

    def is_created(self) -> bool:
        return True


class ReplicationGroupResource(CloudFormationModel):
    __module__ = "moto.elasticache.cloudformation"

    def __init__(self, group: Any):
        self.group = group

    @property
    def physical_resource_id(self) -> str:
        return self.group.replication_group_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return "ReplicationGroupId"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElastiCache::ReplicationGroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("PrimaryEndPoint.Address", "PrimaryEndPoint.Port", "ReaderEndPoint.Address")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        node_group = self.group.node_groups[0]
        return {
            "PrimaryEndPoint.Address": node_group["primary_endpoint_address"],
            "PrimaryEndPoint.Port": str(node_group["port"]),
            "ReaderEndPoint.Address": node_group["reader_endpoint_address"],
        }[attribute_name]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        group = elasticache_backends[account_id][region_name].create_replication_group(
            replication_group_id=props.get("ReplicationGroupId") or resource_name.lower(),
            replication_group_description=props["ReplicationGroupDescription"],
            global_replication_group_id=None,
            primary_cluster_id=None,
            automatic_failover_enabled=_flag(props.get("AutomaticFailoverEnabled", False)),
            multi_az_enabled=_flag(props.get("MultiAZEnabled", False)),
            num_cache_clusters=int(props.get("NumCacheClusters", 1)),
            preferred_cache_cluster_azs=[],
            num_node_groups=None,
            replicas_per_node_group=None,
            node_group_configuration=[],
            cache_node_type=props.get("CacheNodeType"),
            engine=props.get("Engine", "redis"),
            engine_version=props.get("EngineVersion"),
            cache_parameter_group_name=None,
            cache_subnet_group_name=props.get("CacheSubnetGroupName"),
            cache_security_group_names=[],
            security_group_ids=props.get("SecurityGroupIds", []),
            tags=props.get("Tags", []),
            snapshot_arns=[],
            snapshot_name=None,
            preferred_maintenance_window=None,
            port=props.get("Port"),
            notification_topic_arn=None,
            auto_minor_version_upgrade=_flag(props.get("AutoMinorVersionUpgrade", True)),
            snapshot_retention_limit=int(props.get("SnapshotRetentionLimit", 0)),
            snapshot_window=None,
            auth_token=props.get("AuthToken"),
            transit_encryption_enabled=_flag(props.get("TransitEncryptionEnabled", False)),
            at_rest_encryption_enabled=_flag(props.get("AtRestEncryptionEnabled", False)),
            kms_key_id=None,
            user_group_ids=[],
            log_delivery_configurations=[],
            data_tiering_enabled=False,
            network_type=None,
            ip_discovery=None,
            transit_encryption_mode=None,
            cluster_mode=None,
            serverless_cache_snapshot_name=None,
        )
        return cls(group)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        elasticache_backends[account_id][region_name].replication_groups.pop(resource_name, None)

    def is_created(self) -> bool:
        return True


class CertificateResource(CloudFormationModel):
    __module__ = "moto.acm.cloudformation"

    def __init__(self, arn: str):
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CertificateManager::Certificate"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        arn = acm_backends[account_id][region_name].request_certificate(
            domain_name=props["DomainName"],
            idempotency_token=None,
            subject_alt_names=props.get("SubjectAlternativeNames") or [],
            tags=props.get("Tags") or [],
        )
        return cls(arn)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = acm_backends[account_id][region_name]
        if resource_name in backend._certificates:
            backend.delete_certificate(resource_name)

    def is_created(self) -> bool:
        return True


class SecretResource(CloudFormationModel):
    __module__ = "moto.secretsmanager.cloudformation"

    def __init__(self, arn: str):
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        import json
        import secrets

        props = cloudformation_json.get("Properties", {})
        text = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if text is None and generate is not None:
            made = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))[: int(generate.get("PasswordLength", 32))]
            if generate.get("GenerateStringKey"):
                template = json.loads(generate.get("SecretStringTemplate") or "{}")
                template[generate["GenerateStringKey"]] = made
                text = json.dumps(template)
            else:
                text = made
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=props.get("Name") or resource_name,
            secret_string=text,
            secret_binary=None,
            description=props.get("Description"),
            tags=props.get("Tags") or [],
            kms_key_id=props.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(created)["ARN"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = secretsmanager_backends[account_id][region_name]
        try:
            backend.delete_secret(secret_id=resource_name, recovery_window_in_days=None, force_delete_without_recovery=True)
        except Exception:
            pass

    def is_created(self) -> bool:
        return True


class WebAclResource(CloudFormationModel):
    __module__ = "moto.wafv2.cloudformation"

    def __init__(self, acl: Any):
        self.acl = acl

    @property
    def physical_resource_id(self) -> str:
        # CloudFormation's Ref of a web ACL is `name|id|scope`.
        return f"{self.acl.name}|{self.acl.id}|REGIONAL"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::WAFv2::WebACL"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "Id")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.acl.arn if attribute_name == "Arn" else self.acl.id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json.get("Properties", {})
        acl = wafv2_backends[account_id][region_name].create_web_acl(
            name=props.get("Name") or resource_name,
            visibility_config=props.get("VisibilityConfig", {}),
            default_action=props.get("DefaultAction", {}),
            scope=props.get("Scope", "REGIONAL"),
            description=props.get("Description", ""),
            tags=props.get("Tags") or [],
            rules=props.get("Rules") or [],
            association_config=None,
            captcha_config=None,
            challenge_config=None,
            custom_response_bodies=None,
            token_domains=None,
        )
        return cls(acl)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = wafv2_backends[account_id][region_name]
        for arn, acl in list(backend.wacls.items()):
            if f"{acl.name}|{acl.id}|REGIONAL" == resource_name or acl.name == resource_name:
                backend.wacls.pop(arn)

    def is_created(self) -> bool:
        return True


class WebAclAssociationResource(CloudFormationModel):
    __module__ = "moto.wafv2.cloudformation"

    def __init__(self, resource_arn: str):
        self.resource_arn = resource_arn

    @property
    def physical_resource_id(self) -> str:
        return self.resource_arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::WAFv2::WebACLAssociation"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        wafv2_backends[account_id][region_name].associate_web_acl(props["WebACLArn"], props["ResourceArn"])
        return cls(props["ResourceArn"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        wafv2_backends[account_id][region_name].disassociate_web_acl(resource_name)

    def is_created(self) -> bool:
        return True


def _ec2_deletes(model, delete):
    """Gives moto's EC2 `model` the CloudFormation delete it lacks."""

    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        delete(ec2_backends[account_id][region_name], resource_name)

    model.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)


def _delete_internet_gateway(backend, gateway_id):
    gateway = backend.internet_gateways.get(gateway_id)
    if gateway is not None:
        gateway.vpc = None
        backend.internet_gateways.pop(gateway_id)


def _release_address(backend, public_ip):
    if backend.address_by_ip([public_ip], fail_if_not_found=False):
        backend.release_address(address=public_ip)


_ec2_deletes(RouteTable, lambda backend, table: backend.route_tables.pop(table, None))
_ec2_deletes(NatGateway, lambda backend, gateway: backend.nat_gateways.pop(gateway, None))
_ec2_deletes(InternetGateway, _delete_internet_gateway)
_ec2_deletes(ElasticAddress, _release_address)


import moto.cloudformation.parsing as _parsing

_clean_json = _parsing.clean_json


def _clean_json_with_dotted_attributes(resource_json, resources_map):
    get_att = resource_json.get("Fn::GetAtt") if isinstance(resource_json, dict) else None
    if isinstance(get_att, list) and len(get_att) > 2 and all(isinstance(p, str) for p in get_att):
        resource_json = {"Fn::GetAtt": [get_att[0], ".".join(get_att[1:])]}
    return _clean_json(resource_json, resources_map)


_parsing.clean_json = _clean_json_with_dotted_attributes


def _sub_references(template: Any) -> list:
    """Names `${Name}` refers to in the `Fn::Sub` strings of `template`, and its `Ref`s."""
    import re

    found = _references_by_ref(template)
    if isinstance(template, dict):
        for key, value in template.items():
            if key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                if isinstance(text, str):
                    found.extend(re.findall(r"\$\{([A-Za-z0-9:]+)\}", text))
            else:
                found.extend(n for n in _sub_references(value) if n not in found)
    elif isinstance(template, list):
        for item in template:
            found.extend(_sub_references(item))
    return found


from moto.cloudformation import parsing as _parsing  # noqa: E402

_references_by_ref = _parsing.get_references_from_template
_parsing.get_references_from_template = _sub_references


from moto.ecs import models as _ecs  # noqa: E402
from moto.core.utils import pascal_to_camelcase, remap_nested_keys  # noqa: E402

_update_task_definition = _ecs.TaskDefinition.update_from_cloudformation_json.__func__


def _update_task_definition_with_keys(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    properties = dict(cloudformation_json["Properties"])
    for key in ("ContainerDefinitions", "Volumes"):
        if key in properties:
            properties[key] = remap_nested_keys(properties[key], pascal_to_camelcase)
    converted = {**cloudformation_json, "Properties": properties}
    return _update_task_definition(cls, original_resource, new_resource_name, converted, account_id, region_name)


_ecs.TaskDefinition.update_from_cloudformation_json = classmethod(_update_task_definition_with_keys)


_service_init = _ecs.Service.__init__


def _service_running_what_it_desires(self, *args, **kwargs):
    _service_init(self, *args, **kwargs)
    self.running_count = self.desired_count
    self.pending_count = 0
    for deployment in self.deployments:
        deployment.update(runningCount=self.desired_count, pendingCount=0, rolloutState="COMPLETED")
        deployment["rolloutStateReason"] = f"ECS deployment {deployment['id']} completed."


_ecs.Service.__init__ = _service_running_what_it_desires


import json  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from moto.cloudformation import models as _cf  # noqa: E402

# Properties whose update replaces the resource ("Update requires: Replacement" in the
# CloudFormation resource reference); `*` is every property.
_REPLACING = {
    "AWS::SQS::Queue": {"QueueName", "FifoQueue"},
    "AWS::S3::Bucket": {"BucketName"},
    "AWS::Logs::LogGroup": {"LogGroupName"},
    "AWS::ECR::Repository": {"RepositoryName"},
    "AWS::ECS::TaskDefinition": {"*"},
    "AWS::RDS::DBInstance": {"DBInstanceIdentifier", "DBSubnetGroupName", "StorageEncrypted", "KmsKeyId", "Engine"},
    "AWS::ElastiCache::ReplicationGroup": {"ReplicationGroupId", "Engine", "Port"},
}


def _resolve(value: Any, parameters: dict) -> Any:
    """`value` with the parameters' values put into `Fn::Sub` strings and `Ref`s."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            for name, given in parameters.items():
                text = text.replace("${" + name + "}", str(given))
            return text
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {k: _resolve(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, parameters) for v in value]
    return value


def _text(value: Any) -> Any:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _leaves(old: Any, new: Any, path: str, found: list) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            _leaves(old.get(key), new.get(key), f"{path}/{key}", found)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new)):
            _leaves(a, b, f"{path}/{index}", found)
    elif old != new:
        found.append((path, old, new))


def _details(resource_type: str, old: dict, new: dict, old_parameters: dict, new_parameters: dict) -> list:
    old_props = old.get("Properties", {}) or {}
    new_props = new.get("Properties", {}) or {}
    replacing = _REPLACING.get(resource_type, set())
    details = []
    for name in list(old_props) + [k for k in new_props if k not in old_props]:
        template_changed = old_props.get(name) != new_props.get(name)
        found: list = []
        _leaves(_resolve(old_props.get(name), old_parameters), _resolve(new_props.get(name), new_parameters), f"/Properties/{name}", found)
        causes = [p for p in _sub_references(new_props.get(name)) if old_parameters.get(p) != new_parameters.get(p)]
        for path, before, after in found:
            by_parameter = not template_changed and causes
            details.append(SimpleNamespace(
                target=SimpleNamespace(
                    attribute="Properties",
                    name=name,
                    requires_recreation="Always" if ("*" in replacing or name in replacing) else "Never",
                    path=path,
                    before_value=_text(before),
                    after_value=_text(after),
                    attribute_change_type="Add" if before is None else "Remove" if after is None else "Modify",
                ),
                evaluation="Static",
                change_source="ParameterReference" if by_parameter else "DirectModification",
                causing_entity=causes[0] if by_parameter else None,
            ))
    return details


_change_set_diff = _cf.ChangeSet.diff


def _diff_with_details(self):
    changes = _change_set_diff(self)
    if not self.stack.template_dict:
        return changes
    old_resources = self.stack.template_dict.get("Resources", {}) if self.stack.template_dict else {}
    new_resources = self.template_dict.get("Resources", {})
    # A resource whose template is the same changes when a parameter it uses did (moto
    # applies this on execution, but leaves it out of the change set).
    old_parameters = dict(self.stack.stack_parameters)
    new_parameters = {**old_parameters, **(self.parameters or {})}
    changed = {p for p in new_parameters if old_parameters.get(p) != new_parameters.get(p)}
    listed = {c.logical_resource_id for c in changes}
    for logical_id, resource in new_resources.items():
        if logical_id not in listed and logical_id in old_resources and changed & set(_sub_references(resource)):
            changes.append(_cf.Change("Modify", logical_id, resource["Type"]))
    for change in changes:
        change.replacement = None
        change.details = []
        change.scope = []
        if change.action != "Modify":
            continue
        details = _details(
            change.resource_type,
            old_resources.get(change.logical_resource_id, {}),
            new_resources.get(change.logical_resource_id, {}),
            dict(self.stack.stack_parameters),
            {**self.stack.stack_parameters, **(self.parameters or {})},
        )
        change.details = details
        change.scope = ["Properties"] if details else []
        change.replacement = "True" if any(d.target.requires_recreation == "Always" for d in details) else "False"
    return changes


_cf.ChangeSet.diff = _diff_with_details



_execute_change_set = _cf.CloudFormationBackend.execute_change_set


def _execute_and_update_exports(self, change_set_name, stack_name=None):
    _execute_change_set(self, change_set_name, stack_name)
    change_set = self.change_sets.get(change_set_name) or next(
        (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
    )
    if change_set is None or change_set.change_set_type != "UPDATE":
        return
    stack = self.stacks[change_set.stack_id]
    old = {export.name for export in stack.exports}
    stack.template_dict = change_set.template_dict
    stack.output_map = stack._create_output_map()
    for name in old:
        self.exports.pop(name, None)
    for export in stack.exports:
        self.exports[export.name] = export


_cf.CloudFormationBackend.execute_change_set = _execute_and_update_exports

from moto.cloudformation.exceptions import ValidationError as _ValidationError
from moto.cloudformation.responses import CloudFormationResponse as _Response
from moto.core.responses import ActionResult as _ActionResult, EmptyResult as _EmptyResult


def _stack_named(backend, name):
    return next((s for s in backend.stacks.values() if name in (s.name, s.stack_id)), None)


def _once(original, token_param, find_done, answer):
    """A write that, resent with the token of one already done, answers as that one did."""

    def write(self):
        token = self._get_param(token_param)
        backend = self.cloudformation_backend
        done = backend.__dict__.setdefault("envc_tokens", {})
        if token and token in done:
            return answer(done[token])
        before = find_done(self, backend)
        try:
            return original(self)
        finally:
            made = find_done(self, backend)
            if token and made is not None and made is not before:
                done[token] = made

    return write


_Response.create_stack = _once(
    _Response.create_stack,
    "ClientRequestToken",
    lambda self, backend: _stack_named(backend, self._get_param("StackName")),
    lambda stack: _ActionResult({"StackId": stack.stack_id}),
)
_Response.create_change_set = _once(
    _Response.create_change_set,
    "ClientToken",
    lambda self, backend: next(
        (c for c in backend.change_sets.values() if c.change_set_name == self._get_param("ChangeSetName")),
        None,
    ),
    lambda change_set: _ActionResult({"Id": change_set.change_set_id, "StackId": change_set.stack_id}),
)
_Response.execute_change_set = _once(
    _Response.execute_change_set,
    "ClientRequestToken",
    lambda self, backend: object(),
    lambda _: _EmptyResult(),
)


def _update_termination_protection(self):
    stack = _stack_named(self.cloudformation_backend, self._get_param("StackName"))
    if stack is None:
        raise _ValidationError(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return _ActionResult({"StackId": stack.stack_id})


_Response.update_termination_protection = _update_termination_protection
_delete_stack = _Response.delete_stack


def _delete_unless_protected(self):
    stack = _stack_named(self.cloudformation_backend, self._get_param("StackName"))
    if stack is not None and _flag(stack.enable_termination_protection):
        raise _ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
        )
    return _delete_stack(self)


_Response.delete_stack = _delete_unless_protected


def _imports_value(node, name):
    if isinstance(node, dict):
        return node.get("Fn::ImportValue") == name or any(
            _imports_value(value, name) for value in node.values()
        )
    if isinstance(node, list):
        return any(_imports_value(value, name) for value in node)
    return False


def _list_imports(self):
    name = self._get_param("ExportName")
    importers = sorted(
        {
            stack.name
            for stack in self.cloudformation_backend.stacks.values()
            if not stack.status.startswith("DELETE_COMPLETE")
            and _imports_value(stack.template_dict, name)
        }
    )
    if not importers:
        raise _ValidationError(message=f"Export '{name}' is not imported by any stack.")
    return _ActionResult({"Imports": importers})


_Response.list_imports = _list_imports

import threading as _threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication as _Dispatcher

_answering = _threading.Lock()
_dispatch = _Dispatcher.__call__


def _one_at_a_time(self, environ, start_response):
    with _answering:
        return _dispatch(self, environ, start_response)


_Dispatcher.__call__ = _one_at_a_time

if __name__ == "__main__":
    from moto.server import main

    main()
