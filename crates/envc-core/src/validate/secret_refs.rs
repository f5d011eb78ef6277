//! Secret references as ECS reads them: a `from` written as an ARN is a Secrets Manager
//! secret's, and a name that containers read by partial ARN does not end like the suffix
//! Secrets Manager adds to every secret's ARN (a hyphen and six characters), which makes it
//! read the partial ARN as a complete one and find nothing. The config secret a project's
//! `config-secret` stack makes is read by the complete ARN that stack exports, so its name
//! may end so (the reference project's `balancer-dev-config` does).

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{SecretRef, WorkerRuntime};
use crate::resolve::path;

use super::{EnvSpans, ValidEnv};

/// The secret references of `envs`; `creates_config_secret` when the project has a
/// `config-secret` stack.
pub fn check_secret_references(
    envs: &[&ValidEnv],
    creates_config_secret: bool,
    out: &mut Vec<Diagnostic>,
) {
    for env in envs {
        let model = &env.model;
        let at = EnvSpans {
            env: &env.name,
            file: env.file,
            spans: &env.spans,
        };
        let own_config = model
            .config_secret
            .as_deref()
            .filter(|_| creates_config_secret);
        let services = model
            .service
            .iter()
            .map(|(name, s)| (path::pointer(&["service", name]), &s.secret, true));
        let workers = model.worker.iter().map(|(name, w)| {
            let in_container = w.runtime == WorkerRuntime::Fargate;
            (path::pointer(&["worker", name]), &w.secret, in_container)
        });
        for (base, secrets, in_container) in services.chain(workers) {
            for (variable, reference) in secrets {
                let node = format!("{base}{}", path::pointer(&["secret", variable]));
                let found = match source_problem(reference, variable) {
                    Some(diagnostic) => Some((node, diagnostic)),
                    None => problem(reference, in_container, own_config, variable)
                        .map(|diagnostic| (format!("{node}/from"), diagnostic)),
                };
                if let Some((pointer, diagnostic)) = found {
                    let diagnostic = diagnostic
                        .at(at.value(&pointer), "the secret")
                        .note(format!("in environment `{}`", env.name))
                        .concerns_heir(&env.name);
                    out.push(at.note_inherited(&pointer, diagnostic));
                }
            }
        }
    }
}

/// A variable with no name, or one that names no secret or two: ECS takes a name and one
/// `valueFrom`.
fn source_problem(reference: &SecretRef, variable: &str) -> Option<Diagnostic> {
    let message = match (&reference.from, &reference.ssm) {
        _ if variable.trim().is_empty() => "a secret's variable has no name".to_string(),
        (None, None) => format!("`{variable}` names no secret to read"),
        (Some(_), Some(_)) => {
            format!("`{variable}` names both a Secrets Manager secret and an SSM parameter")
        }
        _ => return None,
    };
    Some(Diagnostic::error(Code::AwsRule, message).help(
        "a container variable reads one secret: `secret \"NAME\" from=\"<secret name or ARN>\"` (with `key=` for \
         a key of its JSON) or `secret \"NAME\" ssm=\"/<parameter>\"`",
    ))
}

/// What is wrong with how `reference` names its secret, if anything.
fn problem(
    reference: &SecretRef,
    in_container: bool,
    own_config: Option<&str>,
    variable: &str,
) -> Option<Diagnostic> {
    let from = reference.from.as_deref()?;
    if from.starts_with("arn:") {
        if is_secret_arn(from) {
            return None;
        }
        let help = match from.split_once(":parameter/") {
            Some((_, parameter)) if from.contains(":ssm:") => {
                format!("an SSM parameter is read with `ssm=\"/{parameter}\"` instead of `from=`")
            }
            _ => {
                "write the secret's ARN as Secrets Manager shows it \
                  (`arn:aws:secretsmanager:us-east-1:123456789012:secret:name-AbCdEf`), or its name"
                    .to_string()
            }
        };
        return Some(
            Diagnostic::error(
                Code::AwsRule,
                format!(
                    "`{variable}` reads `{from}`, which is not the ARN of a Secrets Manager secret"
                ),
            )
            .help(help),
        );
    }
    let suffix = suffix_like(from)?;
    if !in_container || own_config == Some(from) {
        return None;
    }
    Some(
        Diagnostic::error(
            Code::AwsRule,
            format!(
                "`{variable}` reads secret `{from}` by a partial ARN, which Secrets Manager takes for a complete one: \
                 the name ends like the suffix it adds to every secret's ARN (`{suffix}`)"
            ),
        )
        .help(format!(
            "write the secret's complete ARN, as `aws secretsmanager describe-secret --secret-id {from}` shows it \
             (`from=\"arn:aws:secretsmanager:<region>:<account>:secret:{from}-AbCdEf\"`), or name the secret so it \
             does not end in a hyphen and six letters or digits"
        )),
    )
}

/// The last seven characters of `name` when they are a hyphen and six letters or digits.
fn suffix_like(name: &str) -> Option<&str> {
    let at = name.len().checked_sub(7)?;
    let suffix = name.get(at..)?;
    let (hyphen, rest) = suffix.split_at(1);
    (hyphen == "-" && rest.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(suffix)
}

/// `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`, the name as Secrets
/// Manager takes it.
fn is_secret_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(7, ':').collect();
    let [_, partition, service, region, account, kind, name] = parts[..] else {
        return false;
    };
    matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && service == "secretsmanager"
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && kind == "secret"
        && !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_ending_like_a_suffix_is_found() {
        assert_eq!(suffix_like("balancer-dev-config"), Some("-config"));
        assert_eq!(suffix_like("wallet/api-key-AbC12f"), Some("-AbC12f"));
        assert_eq!(suffix_like("balancer-dev/config"), None);
        assert_eq!(suffix_like("app-config1x"), None);
        assert_eq!(suffix_like("-abcdef"), Some("-abcdef"));
        assert_eq!(suffix_like("abcdef"), None);
    }

    #[test]
    fn secret_arns_are_told_from_other_arns() {
        assert!(is_secret_arn(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:wallet/api-key-AbCdEf"
        ));
        assert!(is_secret_arn(
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x"
        ));
        assert!(!is_secret_arn(
            "arn:aws:ssm:us-east-1:123456789012:parameter/x"
        ));
        assert!(!is_secret_arn(
            "arn:aws:secretsmanager:us-east-1:1234:secret:x"
        ));
        assert!(!is_secret_arn(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
        ));
        assert!(!is_secret_arn("arn:aws:secretsmanager:us-east-1"));
    }
}
