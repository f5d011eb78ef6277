//! Physical names: within AWS's length and characters after `${env}` and the pseudo
//! parameters are filled in, unique in their real scope across every stack and environment
//! of the project (an account and region, an account for IAM, the world for S3), and not
//! fixed on a resource kept after its stack in an environment that is made again.
//!
//! Which property names a resource, and its scope, are `physical_names` in
//! `data/aws-rules.json` (`scripts/aws-rules.py` writes it from the CloudFormation resource
//! provider schemas and AWS's API references).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use super::place::{Place, Placer, Spot, StackAt};
use super::template::{known_string, Rendered};
use super::{source_note, Finding};
use crate::diagnostic::{Code, Diagnostic};
use crate::pattern::Pattern;
use crate::source::Span;
use crate::validate::{NameRule, Scope, ValidEnv};

struct Rules {
    by_type: BTreeMap<&'static str, (&'static NameRule, LazyPattern)>,
}

/// A name rule's pattern, made the first time a resource of its type is named: a project
/// uses a few of the types the data knows, and compiling every pattern cost a fresh `check`
/// 12 M instructions. Most are one character class repeated, which [`Pattern`] matches
/// without a regex; the rest compile with `regex-lite`, whose `\w` is ASCII as in the Java
/// patterns AWS publishes them as (IAM's `[\w+=,.@-]` takes no `é`).
#[derive(Default)]
struct LazyPattern(std::sync::OnceLock<Option<Pattern>>);

impl LazyPattern {
    fn get(&self, rule: &NameRule) -> Option<&Pattern> {
        self.0
            .get_or_init(|| rule.pattern.as_deref().map(Pattern::new))
            .as_ref()
    }
}

/// The name rules of `data/aws-rules.json`, as [`crate::validate`] read it.
static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let by_type = crate::validate::name_rules()
        .iter()
        .map(|(kind, rule)| (kind.as_str(), (rule, LazyPattern::default())))
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

    /// The scope AWS keeps its name unique in (see [`unique_in`]).
    fn scope(&self) -> Option<(bool, &str, Option<&str>)> {
        unique_in(self.rule, self.stack.account(), self.stack.region())
    }

    /// The order of claims: by scope, type, then name as AWS compares it (a type's names are
    /// all compared with case or all without).
    fn claim_cmp(&self, other: &Named) -> Ordering {
        let name = || {
            if self.rule.case_insensitive {
                let theirs = other.name.bytes().map(|b| b.to_ascii_lowercase());
                self.name
                    .bytes()
                    .map(|b| b.to_ascii_lowercase())
                    .cmp(theirs)
            } else {
                self.name.cmp(&other.name)
            }
        };
        (self.scope().cmp(&other.scope()))
            .then_with(|| self.kind.cmp(other.kind))
            .then_with(name)
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
            let written = Spot::of(stack.stack, scalar(value).unwrap_or(&name));
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

/// Starts of names AWS refuses beyond a type's pattern: a load balancer's name may not begin
/// with `internal-` (ELBv2 `CreateLoadBalancer`, `Name`), which project `internal` gives all.
const REFUSED_STARTS: &[(&str, &str)] =
    &[("AWS::ElasticLoadBalancingV2::LoadBalancer", "internal-")];

fn refused_start(kind: &str, name: &str) -> Option<&'static str> {
    REFUSED_STARTS
        .iter()
        .find(|(of, start)| {
            *of == kind
                && name
                    .get(..start.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(start))
        })
        .map(|(_, start)| *start)
}

fn check_form(
    item: &Named,
    pattern: Option<&Pattern>,
    placer: &mut Placer,
    out: &mut Vec<Finding>,
) {
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
        _ => refused_start(item.kind, &item.name)
            .map(|start| format!("begins with `{start}`, which AWS refuses for this type")),
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

/// The scope AWS keeps a name of `rule` unique in, in an environment of `account` and
/// `region`, ordered as its description is (an account before its regions, every account
/// last): whether it is every account, the account and the region. `None` when AWS does not
/// keep it unique by name alone.
fn unique_in<'e>(
    rule: &NameRule,
    account: &'e str,
    region: &'e str,
) -> Option<(bool, &'e str, Option<&'e str>)> {
    match rule.scope {
        Scope::Region => Some((false, account, Some(region))),
        Scope::Account => Some((false, account, None)),
        Scope::Global => Some((true, "", None)),
        Scope::None => None,
    }
}

/// A hash of the claim a resource of type `kind` named `name` makes in `env`: equal for
/// claims [`check_unique`] finds the same. `None` for a name AWS does not keep unique.
pub(super) fn claim_hash(env: &ValidEnv, kind: &str, name: &str) -> Option<u64> {
    let (kind, (rule, _)) = RULES.by_type.get_key_value(kind)?;
    let region = env.model.region.as_deref().unwrap_or_default();
    let scope = unique_in(rule, &env.model.account, region)?;
    let mut hasher = std::hash::DefaultHasher::new();
    (scope, kind).hash(&mut hasher);
    if rule.case_insensitive {
        name.bytes()
            .for_each(|b| hasher.write_u8(b.to_ascii_lowercase()));
    } else {
        hasher.write(name.as_bytes());
    }
    Some(hasher.finish())
}

/// Names two resources claim in the scope AWS keeps them unique in: one finding per name,
/// at the second, naming the first.
pub(super) fn check_unique(named: &[Named], placer: &mut Placer, out: &mut Vec<Finding>) {
    // The claims sorted in place, not gathered in a map: a project's thousands of names cost
    // four bytes each here. The sort is stable, so claimants keep the order they were found in.
    let mut order: Vec<u32> = (0..named.len() as u32)
        .filter(|&i| named[i as usize].scope().is_some())
        .collect();
    order.sort_by(|&a, &b| named[a as usize].claim_cmp(&named[b as usize]));
    let claims = order.chunk_by(|&a, &b| named[a as usize].claim_cmp(&named[b as usize]).is_eq());
    for claimants in claims {
        let [first, _, ..] = claimants else {
            continue;
        };
        let first = &named[*first as usize];
        let scope = match first.scope() {
            Some((true, _, _)) | None => "every AWS account".to_string(),
            Some((false, account, Some(region))) => format!("account {account}, {region}"),
            Some((false, account, None)) => format!("account {account}"),
        };
        let claims: Vec<(&Named, Place)> = claimants
            .iter()
            .map(|&i| (&named[i as usize], named[i as usize].place(placer)))
            .collect();
        out.push(Finding {
            envs: claims
                .iter()
                .map(|(c, _)| c.stack.env.name.clone())
                .collect(),
            diagnostic: taken(&scope, first.kind, &claims),
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
