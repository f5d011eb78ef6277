//! Emptying the buckets a stack's deletion takes with it: CloudFormation cannot delete a
//! bucket that holds objects (`BucketNotEmpty`), and a bucket that keeps receiving access
//! logs is never empty. Before `destroy` deletes a stack, every bucket its deployed template
//! deletes (a `DeletionPolicy` of `Delete`, or none) is emptied, every version and delete
//! marker; retained buckets are left as they are.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::clients::{aws_failure, error_message, Clients};
use super::stack;
use envc_core::diagnostic::Diagnostic;
use envc_core::render::yaml::{self, Yaml};

/// Objects one DeleteObjects request takes.
const BATCH: usize = 1_000;

/// Empties the buckets `stack_name`'s deletion deletes; how many objects went.
pub async fn empty_deleted_buckets(
    clients: &Clients,
    stack_name: &str,
) -> Result<usize, Diagnostic> {
    let cf = &clients.cloudformation;
    let template = stack::deployed_template(cf, stack_name).await?;
    let ids = deleted_buckets(&template);
    let mut removed = 0;
    for id in ids {
        let described = cf
            .describe_stack_resource()
            .stack_name(stack_name)
            .logical_resource_id(&id)
            .send()
            .await;
        let bucket = match described {
            Ok(found) => found
                .stack_resource_detail()
                .and_then(|d| d.physical_resource_id())
                .map(str::to_string),
            Err(_) => None,
        };
        if let Some(bucket) = bucket {
            removed += empty(clients, &bucket).await?;
        }
    }
    Ok(removed)
}

/// The logical ids of the buckets `template` deletes with its stack.
fn deleted_buckets(template: &str) -> Vec<String> {
    let Ok(tree) = yaml::parse_again(template) else {
        return Vec::new();
    };
    let Some(resources) = tree.get("Resources").and_then(Yaml::as_mapping) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Yaml::as_str) == Some("AWS::S3::Bucket"))
        .filter(|(_, r)| {
            matches!(
                r.get("DeletionPolicy").and_then(Yaml::as_str),
                None | Some("Delete")
            )
        })
        .filter_map(|(id, _)| id.as_str().map(str::to_string))
        .collect()
}

/// Deletes every object version and delete marker of `bucket`, page by page.
async fn empty(clients: &Clients, bucket: &str) -> Result<usize, Diagnostic> {
    let s3 = &clients.s3;
    let mut removed = 0;
    loop {
        let listed = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(BATCH as i32)
            .send()
            .await;
        let listed = match listed {
            Ok(listed) => listed,
            Err(error) => {
                let message = error_message(&error);
                if message.contains("NoSuchBucket") {
                    return Ok(removed);
                }
                return Err(aws_failure(
                    &format!("cannot list the objects of bucket `{bucket}`"),
                    message,
                ));
            }
        };
        let mut objects = Vec::new();
        let versions = listed.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = listed
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            let Some(key) = key else { continue };
            let object = ObjectIdentifier::builder()
                .key(key)
                .set_version_id(version.map(str::to_string))
                .build();
            objects.extend(object.ok());
        }
        if objects.is_empty() {
            return Ok(removed);
        }
        let count = objects.len();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| aws_failure(&format!("cannot empty bucket `{bucket}`"), e.to_string()))?;
        let deleted = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| {
                aws_failure(
                    &format!("cannot empty bucket `{bucket}`"),
                    error_message(&e),
                )
            })?;
        // An object that would not go would be listed again: stop at the first refusal.
        if let Some(refused) = deleted.errors().first() {
            let message = format!(
                "{}: {} ({})",
                refused.code().unwrap_or("error"),
                refused.message().unwrap_or_default(),
                refused.key().unwrap_or_default()
            );
            return Err(aws_failure(
                &format!("cannot empty bucket `{bucket}`"),
                message,
            ));
        }
        removed += count;
    }
}

#[cfg(test)]
mod tests {
    use super::deleted_buckets;

    #[test]
    fn only_buckets_deleted_with_their_stack_are_emptied() {
        let template = "Resources:\n  Logs:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Delete\n  Kept:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n  Plain:\n    Type: AWS::S3::Bucket\n  Queue:\n    Type: AWS::SQS::Queue\n";
        assert_eq!(deleted_buckets(template), ["Logs", "Plain"]);
    }
}
