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

Usage: python moto_server.py -H 127.0.0.1 -p PORT   (the arguments of `moto_server`)
"""

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.elasticache.models import elasticache_backends


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


if __name__ == "__main__":
    from moto.server import main

    main()
