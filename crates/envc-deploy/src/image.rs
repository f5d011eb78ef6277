//! Shipping an image: the stacks whose containers run an image by its tag (the
//! environment's repository, or an `image` of their own named by a tag) take the tag as their
//! `ImageTag` parameter. `deploy --image-tag TAG` selects them and sets it; a plain deploy
//! keeps the tag each runs.

use aws_sdk_cloudformation::types::Parameter;
use aws_sdk_cloudformation::Client;

use super::stack::describe;
use super::DeployTarget;
use envc_core::diagnostic::{Code, Diagnostic};
use envc_core::render::RenderedStack;

/// The parameter of the stacks whose containers run an image by its tag.
pub const IMAGE_TAG: &str = "ImageTag";

/// Whether `stack`'s containers run an image at its `ImageTag`.
pub fn uses_image_tag(stack: &RenderedStack) -> bool {
    stack.template.parameters.iter().any(|p| p == IMAGE_TAG)
}

/// A tag as ECR takes one: a letter, digit or `_`, then up to 127 of those, `.` and `-`.
pub fn is_image_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl DeployTarget {
    /// `deploy --image-tag TAG`: only the stacks whose containers run an image by its tag,
    /// each with its `ImageTag` set to `tag`; nothing else changes.
    pub fn ship_image(&mut self, tag: &str) -> Result<(), Diagnostic> {
        if !is_image_tag(tag) {
            return Err(Diagnostic::error(
                Code::BadFormat,
                format!("`{tag}` is not an image tag"),
            )
            .help("an image tag is 1 to 128 letters, digits, `_`, `.` and `-`, starting with a letter, digit or `_`, like \"v1.4.2\" or \"3f78685\""));
        }
        let using: Vec<String> = self
            .stacks
            .iter()
            .filter(|s| uses_image_tag(s))
            .map(|s| s.stack.clone())
            .collect();
        if using.is_empty() {
            return Err(Diagnostic::error(
                Code::UnknownStack,
                format!("no stack of `{}` runs an image by its tag", self.env),
            )
            .help("`--image-tag` sets the image of services, Fargate workers and the migration task that run the environment's repository, or an `image` of their own named by a tag (not pinned by digest)"));
        }
        self.image_tag = Some(tag.to_string());
        self.select(&using)
    }
}

/// A new stack's `ImageTag`: the one `--image-tag` gave, or the template's default.
pub fn new_stack_parameters(
    target: &DeployTarget,
    stack: &RenderedStack,
) -> Option<Vec<Parameter>> {
    let tag = target
        .image_tag
        .as_ref()
        .filter(|_| uses_image_tag(stack))?;
    Some(vec![Parameter::builder()
        .parameter_key(IMAGE_TAG)
        .parameter_value(tag)
        .build()])
}

/// An existing stack's `ImageTag`: the one `--image-tag` gave, or the one it runs
/// (`UsePreviousValue`), so a plain deploy never rolls an image back to the committed tag.
/// A stack deployed before it had the parameter gets the template's default.
pub async fn update_parameters(
    cf: &Client,
    target: &DeployTarget,
    stack: &RenderedStack,
) -> Result<Option<Vec<Parameter>>, Diagnostic> {
    if !uses_image_tag(stack) {
        return Ok(None);
    }
    let parameter = Parameter::builder().parameter_key(IMAGE_TAG);
    if let Some(tag) = &target.image_tag {
        return Ok(Some(vec![parameter.parameter_value(tag).build()]));
    }
    let deployed = describe(cf, &stack.stack_name).await?;
    let has_tag = deployed.is_some_and(|d| d.parameters.iter().any(|(k, _)| k == IMAGE_TAG));
    Ok(has_tag.then(|| vec![parameter.use_previous_value(true).build()]))
}

#[cfg(test)]
mod tests {
    use super::is_image_tag;

    #[test]
    fn tags_are_what_ecr_takes() {
        for tag in [
            "v2",
            "1.41.8-abc123def",
            "_build",
            "latest",
            &"a".repeat(128),
        ] {
            assert!(is_image_tag(tag), "{tag}");
        }
        for tag in ["", "-v3", ".hidden", "a/b", "a:b", &"a".repeat(129)] {
            assert!(!is_image_tag(tag), "{tag}");
        }
    }
}
