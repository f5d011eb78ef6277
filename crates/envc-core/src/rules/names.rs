//! Physical names: within AWS's length and characters after `${env}` and the pseudo
//! parameters are filled in, unique in their real scope across every stack and environment
//! of the project (an account and region, an account for IAM, the world for S3), and not
//! fixed on a resource kept after its stack in an environment that is made again.
//!
//! Which property names a resource, and its scope, are `physical_names` in
//! `data/aws-rules.json` (`scripts/aws-rules.py` writes it from the CloudFormation resource
//! provider schemas and AWS's API references).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex_lite::Regex;

use super::place::{Place, Placer, Spot, StackAt};
use super::template::{known_string, Rendered};
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// Where AWS wants a name unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// An account and region.
    Region,
    /// Every region of an account.
    Account,
    /// Every account.
    Global,
    /// Not by name alone (an ECS service is unique in its cluster).
    None,
}

/// How AWS names one resource type.
#[derive(Debug, serde::Deserialize)]
pub struct NameRule {
    /// The property under `Properties` that holds the name (a dotted path).
    pub property: String,
    pub scope: Scope,
    /// Whether AWS compares names without case (IAM, RDS).
    pub case_insensitive: bool,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub source: String,
}

#[derive(serde::Deserialize)]
struct Data {
    physical_names: BTreeMap<String, NameRule>,
}

struct Rules {
    by_type: BTreeMap<String, (NameRule, LazyPattern)>,
}

/// A name rule's pattern, compiled the first time a resource of its type is named: a project
/// uses a few of the types the data knows, and compiling every pattern cost a fresh `check`
/// 12 M instructions. They compile with `regex-lite`, whose `\w` is ASCII as in the Java
/// patterns AWS publishes them as (IAM's `[\w+=,.@-]` takes no `é`), and which builds the
/// 15 patterns the root project uses in a fraction of the 5.6 M instructions `regex` took.
#[derive(Default)]
struct LazyPattern(std::sync::OnceLock<Option<Regex>>);

impl LazyPattern {
    fn get(&self, rule: &NameRule) -> Option<&Regex> {
        self.0
            .get_or_init(|| {
                rule.pattern.as_deref().map(|p| {
                    Regex::new(p).expect("data/aws-rules.json has patterns Rust's regex reads")
                })
            })
            .as_ref()
    }
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let data: Data = serde_json::from_str(include_str!("../../../../data/aws-rules.json"))
        .expect("data/aws-rules.json is valid");
    let by_type = data
        .physical_names
        .into_iter()
        .map(|(kind, rule)| (kind, (rule, LazyPattern::default())))
        .collect();
    Rules { by_type }
});

/// One resource with a name known before deploy: what the uniqueness of names across
/// environments compares, kept without the tree it was read from.
pub(super) struct Named<'a> {
    stack: StackAt<'a>,
    id: String,
    kind: &'static str,
    rule: &'static NameRule,
    name: String,
    /// Where the scalar the name was made from is in the rendered text.
    written: Spot,
    /// Where it is shown, found when a finding needs it: most names have none, and placing
    /// one in a rendered file adds that file's text to the sources.
    place: std::cell::OnceCell<Place>,
}

impl<'a> Named<'a> {
    /// A named resource found on an earlier run (see [`super::cache`]); `None` for a type
    /// this envc has no name rule for.
    pub(super) fn restore(
        stack: StackAt<'a>,
        id: String,
        kind: &str,
        name: String,
        written: Spot,
    ) -> Option<Self> {
        let (kind, (rule, _)) = RULES.by_type.get_key_value(kind)?;
        Some(Named {
            stack,
            id,
            kind,
            rule,
            name,
            written,
            place: std::cell::OnceCell::new(),
        })
    }

    /// Whether `kind` is a type a name rule reads (what [`Named::restore`] takes).
    pub(super) fn knows(kind: &str) -> bool {
        RULES.by_type.contains_key(kind)
    }

    /// Its stack, id, type, name and where the name is written: what [`super::cache`] keeps.
    pub(super) fn parts(&self) -> (StackAt<'a>, &str, &str, &str, Spot) {
        (self.stack, &self.id, self.kind, &self.name, self.written)
    }

    fn place(&self, placer: &mut Placer) -> Place {
        *self
            .place
            .get_or_init(|| placer.place(self.stack, self.written, &self.name))
    }
}

/// Checks each named resource of `stacks` on its own (its form, a fixed name kept after its
/// stack) and adds it to `named`, for [`check_unique`] once every environment is read.
pub(super) fn check_each<'a>(
    stacks: &[Rendered<'a>],
    placer: &mut Placer,
    out: &mut Vec<Finding>,
    named: &mut Vec<Named<'a>>,
) {
    for stack in stacks {
        for resource in stack.resources() {
            let Some((kind, (rule, pattern))) = RULES.by_type.get_key_value(resource.kind) else {
                continue;
            };
            let Some(value) = resource.property(&rule.property) else {
                continue;
            };
            let Some(name) = known_string(stack, value) else {
                continue;
            };
            let written = Spot::of(&stack.stack.body, scalar(value).unwrap_or(&name));
            let item = Named {
                stack: stack.at(),
                id: resource.id.to_string(),
                kind,
                rule,
                name,
                written,
                place: std::cell::OnceCell::new(),
            };
            check_form(&item, pattern.get(rule), placer, out);
            check_retained(&item, resource.deletion_policy(), placer, out);
            named.push(item);
        }
    }
}

/// The text of a scalar, or of the string a `!Sub` fills in.
fn scalar<'v>(value: &'v crate::render::yaml::Yaml) -> Option<&'v str> {
    value.as_str().or_else(|| {
        let (_, argument) = super::template::intrinsic(value)?;
        argument.as_str()
    })
}

fn describe(item: &Named) -> String {
    format!(
        "`{}` (`{}`, stack `{}` of `{}`)",
        item.id, item.kind, item.stack.stack.stack, item.stack.env.name
    )
}

/// Help for a name to change: the setting, or the names envc derives.
fn how_to_rename(place: Place) -> &'static str {
    if place.setting {
        "change the name set here"
    } else {
        "the template writes this name: name it from a setting, or leave the property out \
         so CloudFormation generates a unique one"
    }
}

fn check_form(item: &Named, pattern: Option<&Regex>, placer: &mut Placer, out: &mut Vec<Finding>) {
    let rule = item.rule;
    let length = item.name.chars().count();
    let problem = match (rule.max_length, pattern) {
        (Some(max), _) if length > max => Some(format!(
            "is {length} characters long; AWS allows at most {max}"
        )),
        (_, Some(pattern)) if !pattern.is_match(&item.name) => Some(format!(
            "has characters or a form AWS refuses (it must match `{}`)",
            pattern.as_str()
        )),
        _ => None,
    };
    let Some(problem) = problem else {
        return;
    };
    let place = item.place(placer);
    let diagnostic = Diagnostic::error(
        Code::NameLimit,
        format!("the name `{}` of {} {problem}", item.name, describe(item)),
    )
    .at(place.span, "this name")
    .help(format!(
        "CloudFormation would fail creating the stack: {}",
        how_to_rename(place)
    ))
    .note(source_note(&rule.source));
    out.push(Finding {
        envs: vec![item.stack.env.name.clone()],
        diagnostic: place.note_inherited(&item.stack.env.name, diagnostic),
    });
}

/// A resource kept after its stack under a fixed name, in an environment that is destroyed
/// and made again: the second deploy finds the name taken.
fn check_retained(
    item: &Named,
    deletion_policy: Option<&str>,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
    let env = item.stack.env;
    let kept = matches!(deletion_policy, Some("Retain" | "RetainExceptOnCreate"));
    if !kept || env.model.protected || item.rule.scope == Scope::None {
        return;
    }
    let place = item.place(placer);
    let diagnostic = Diagnostic::error(
        Code::RetainedName,
        format!(
            "{} is kept when its stack is deleted, under the fixed name `{}`",
            describe(item),
            item.name
        ),
    )
    .at(place.span, "a fixed name")
    .help(format!(
        "`{}` is not protected, so it is destroyed and made again: the next deploy would fail \
         with \"already exists\". Delete it with its stack in environments that are not \
         protected (`DeletionPolicy: Delete`), or {}",
        env.name,
        if place.setting {
            "leave the name unset so CloudFormation generates one"
        } else {
            "leave the name out so CloudFormation generates one"
        }
    ))
    .note("AWS documents DeletionPolicy at https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html");
    out.push(Finding {
        envs: vec![env.name.clone()],
        diagnostic: place.note_inherited(&env.name, diagnostic),
    });
}

/// Names two resources claim in the scope AWS keeps them unique in: one finding per name,
/// at the second, naming the first.
pub(super) fn check_unique(named: &[Named], placer: &mut Placer, out: &mut Vec<Finding>) {
    // Keyed by the scope (ordered as its description is: an account before its regions, and
    // every account last), the type and the name as AWS compares it.
    type Claim<'n> = ((bool, &'n str, Option<&'n str>), &'n str, Cow<'n, str>);
    let mut claims: BTreeMap<Claim, Vec<&Named>> = BTreeMap::new();
    for item in named {
        let (account, region) = (item.stack.account(), item.stack.region());
        let scope = match item.rule.scope {
            Scope::Region => (false, account, Some(region)),
            Scope::Account => (false, account, None),
            Scope::Global => (true, "", None),
            Scope::None => continue,
        };
        let name = if item.rule.case_insensitive {
            Cow::Owned(item.name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(item.name.as_str())
        };
        claims
            .entry((scope, item.kind, name))
            .or_default()
            .push(item);
    }
    for (((global, account, region), kind, _), claimants) in claims {
        if claimants.len() < 2 {
            continue;
        }
        let scope = match (global, region) {
            (true, _) => "every AWS account".to_string(),
            (false, Some(region)) => format!("account {account}, {region}"),
            (false, None) => format!("account {account}"),
        };
        let claims: Vec<(&Named, Place)> =
            claimants.iter().map(|c| (*c, c.place(placer))).collect();
        out.push(Finding {
            envs: claimants.iter().map(|c| c.stack.env.name.clone()).collect(),
            diagnostic: taken(&scope, kind, &claims),
        });
    }
}

/// The finding of a name `all` claim (at least two, each with its place), at the second.
fn taken(scope: &str, kind: &str, all: &[(&Named, Place)]) -> Diagnostic {
    let ((first, first_place), (second, second_place)) = (all[0], all[1]);
    let who = |item: &Named| {
        format!(
            "`{}` of `{}` (stack `{}`)",
            item.id, item.stack.env.name, item.stack.stack.stack
        )
    };
    let more = match all.len() - 2 {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let mut diagnostic = Diagnostic::error(
        Code::NameTaken,
        format!(
            "{} and {}{more} are both `{kind}` `{}` in {scope}",
            who(first),
            who(second),
            second.name
        ),
    );
    let label = |span: Span| {
        let sharing: Vec<String> = all
            .iter()
            .filter(|(_, place)| place.span == span)
            .map(|(o, _)| format!("`{}`", o.stack.env.name))
            .collect();
        if sharing.len() > 1 {
            format!("the name of {}", sharing.join(", "))
        } else if span == first_place.span {
            format!("first taken by {}", sharing[0])
        } else {
            format!("taken again by {}", sharing[0])
        }
    };
    diagnostic = diagnostic.at(second_place.span, label(second_place.span));
    let mut labelled = vec![second_place.span];
    for (_, place) in all {
        if !labelled.contains(&place.span) {
            labelled.push(place.span);
            diagnostic = diagnostic.also(place.span, label(place.span));
        }
    }
    diagnostic
        .help(format!(
            "AWS keeps these names unique in {scope}, so the second stack to deploy fails with \
             \"already exists\": {}",
            if second_place.setting {
                "give each its own name (a name set in a shared file can use `${env}`)"
            } else {
                "name them from a setting that differs, or leave the name out so CloudFormation \
                 generates one"
            }
        ))
        .note(source_note(&second.rule.source))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_name_pattern_of_the_data_compiles() {
        for (kind, (rule, pattern)) in &super::RULES.by_type {
            assert_eq!(
                pattern.get(rule).is_some(),
                rule.pattern.is_some(),
                "{kind}"
            );
        }
    }
}
