//! `deploy-role`: an IAM role ARN, `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, of the
//! environment's own account and partition, with a name and path IAM accepts. Each way it is
//! not is its own diagnostic at the ARN, so none reaches STS.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::Environment;

use super::{regions, EnvSpans};

const POINTER: &str = "/deploy-role";
/// IAM's limits: a role name of 1 to 64 characters, a path of up to 512.
const NAME_MAX: usize = 64;
const PATH_MAX: usize = 512;

/// A problem with the ARN: its message, the label at the ARN, the help, and a fix.
struct Problem {
    message: String,
    label: &'static str,
    help: String,
    suggestion: Option<String>,
}

fn problem(message: String, label: &'static str, help: String) -> Problem {
    Problem {
        message,
        label,
        help,
        suggestion: None,
    }
}

pub fn check_deploy_role(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let Some(arn) = env.deploy_role.as_deref() else {
        return;
    };
    for found in problems(arn, env) {
        let diagnostic = Diagnostic::error(Code::DeployRole, found.message)
            .at(at.value(POINTER), found.label)
            .help(found.help)
            .suggest(found.suggestion.as_deref());
        out.push(at.note_inherited(POINTER, diagnostic));
    }
}

/// Everything wrong with `arn` as the role of `env`, in the order the ARN reads.
fn problems(arn: &str, env: &Environment) -> Vec<Problem> {
    let region = env.region.as_deref().unwrap_or_default();
    let partition = regions::partition(region).unwrap_or("aws");
    let example = format!("arn:{partition}:iam::{}:role/envc-deploy", env.account);
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, arn_partition, service, arn_region, account, resource] = parts.as_slice() else {
        return vec![not_a_role_arn(arn, &example)];
    };
    let Some(role) = resource.strip_prefix("role/") else {
        return vec![not_a_role_arn(arn, &example)];
    };
    if *prefix != "arn" || *service != "iam" || !arn_region.is_empty() {
        return vec![not_a_role_arn(arn, &example)];
    }
    let mut found = Vec::new();
    let rest = &arn[prefix.len() + arn_partition.len() + 2..];
    found.extend(
        partition_problem(arn_partition, region).map(|(p, expected)| Problem {
            suggestion: Some(format!("arn:{expected}:{rest}")),
            ..p
        }),
    );
    found.extend(account_problem(account, &env.account, &example));
    found.extend(role_problems(role));
    found
}

fn not_a_role_arn(arn: &str, example: &str) -> Problem {
    problem(
        format!("`{arn}` is not the ARN of an IAM role"),
        "not a role ARN",
        format!("a role's ARN reads `arn:PARTITION:iam::ACCOUNT:role/NAME`, like `{example}`"),
    )
}

/// The ARN's partition: an AWS one, and (when the region is known) the region's.
fn partition_problem(given: &str, region: &str) -> Option<(Problem, &'static str)> {
    let expected = regions::partition(region);
    if regions::partitions().any(|p| p == given) {
        let expected = expected.filter(|e| *e != given)?;
        return Some((
            problem(
                format!("`deploy-role` is a role in partition `{given}`, but the environment's region {region} is in `{expected}`"),
                "another partition's role",
                format!("an account lives in one partition: begin the ARN with `arn:{expected}:`"),
            ),
            expected,
        ));
    }
    let known: Vec<String> = regions::partitions().map(|p| format!("`{p}`")).collect();
    let expected = expected.unwrap_or("aws");
    Some((
        problem(
            format!("`{given}` in `deploy-role` is not an AWS partition"),
            "unknown partition",
            format!(
                "partitions are {}; the environment's region {region} is in `{expected}`",
                known.join(", ")
            ),
        ),
        expected,
    ))
}

fn account_problem(given: &str, expected: &str, example: &str) -> Option<Problem> {
    if given.len() != 12 || !given.bytes().all(|b| b.is_ascii_digit()) {
        return Some(problem(
            format!("`{given}` in `deploy-role` is not an account id (12 digits)"),
            "not an account id",
            format!("the role of this environment is in its account {expected}: `{example}`"),
        ));
    }
    (given != expected).then(|| {
        problem(
            format!("`deploy-role` is a role of account {given}, but the environment is in account {expected}"),
            "another account's role",
            format!("name a role of account {expected} (`{example}`), or correct `account`"),
        )
    })
}

/// The role's path (`/`, or `/a/b/`) and name, as IAM takes them.
fn role_problems(role: &str) -> Vec<Problem> {
    let (path, name) = match role.rfind('/') {
        Some(end) => (&role[..=end], &role[end + 1..]),
        None => ("", role),
    };
    let name_chars = "letters, digits and `_+=,.@-`";
    let mut found = Vec::new();
    let path_length = path.chars().count() + 1;
    if path_length > PATH_MAX {
        found.push(problem(
            format!(
                "the role's path is {path_length} characters long; IAM takes at most {PATH_MAX}"
            ),
            "path too long",
            "shorten the path between `role/` and the role's name".to_string(),
        ));
    }
    if let Some(c) = path.chars().find(|c| !('!'..='~').contains(c)) {
        found.push(problem(
            format!("the role's path `/{path}` holds {c:?}, which IAM does not take in a path"),
            "not a role path",
            "a path is printable ASCII without spaces between slashes, like `/deploy/`".to_string(),
        ));
    }
    let length = name.chars().count();
    if length == 0 {
        found.push(problem(
            "`deploy-role` names no role after its path".to_string(),
            "no role name",
            format!("end the ARN with the role's name: 1 to {NAME_MAX} {name_chars}"),
        ));
    } else if length > NAME_MAX {
        found.push(problem(
            format!("the role's name is {length} characters long; IAM takes at most {NAME_MAX}"),
            "name too long",
            format!("a role's name is 1 to {NAME_MAX} {name_chars}"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !"_+=,.@-".contains(*c))
    {
        found.push(problem(
            format!("the role's name `{name}` holds {c:?}, which IAM does not take in a name"),
            "not a role name",
            format!("a role's name is {name_chars}"),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_each_partition_in_its_own_regions_pass() {
        for (partition, region) in [
            ("aws", "mx-central-1"),
            ("aws-cn", "cn-northwest-1"),
            ("aws-us-gov", "us-gov-east-1"),
        ] {
            assert!(
                partition_problem(partition, region).is_none(),
                "{partition}"
            );
        }
        assert!(account_problem("123456789012", "123456789012", "").is_none());
        for role in [
            "envc-deploy",
            "ci/envc-deploy",
            "a+b=c,d.e@f_g-h",
            &"r".repeat(64),
        ] {
            assert!(role_problems(role).is_empty(), "{role}");
        }
    }

    #[test]
    fn a_partition_is_refused_in_another_partitions_region_and_unknown_ones_everywhere() {
        let (_, expected) = partition_problem("aws-cn", "us-east-1").unwrap();
        assert_eq!(expected, "aws");
        let (unknown, expected) = partition_problem("aws-gov", "us-gov-west-1").unwrap();
        assert_eq!(expected, "aws-us-gov");
        assert_eq!(unknown.label, "unknown partition");
        // An unknown region is reported as itself; the partition is not compared with it.
        assert!(partition_problem("aws-cn", "us-east1").is_none());
    }

    #[test]
    fn names_and_paths_take_iams_limits() {
        assert_eq!(role_problems(&"r".repeat(65))[0].label, "name too long");
        assert_eq!(role_problems(&"r".repeat(300))[0].label, "name too long");
        assert_eq!(role_problems("deploy/")[0].label, "no role name");
        assert_eq!(role_problems("envc deploy")[0].label, "not a role name");
        let path = format!("{}name", "p/".repeat(256));
        assert_eq!(role_problems(&path)[0].label, "path too long");
        assert!(role_problems(&format!("{}name", "p/".repeat(255))).is_empty());
    }
}
