//! The comparison itself: stacks and resources added, changed and deleted, the properties
//! that changed, and replacements predicted from create-only properties and followed through
//! the references that carry them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use super::values::{at, differences, shown};
use super::{
    iam, is_stateful, Action, Cause, Effect, EnvChange, PropertyChange, ResourceChange,
    StackChange, Status, Texts,
};
use crate::render::cfn::{collect_references, Reference};
use crate::render::yaml::{self, Mapping, Yaml};

/// Resource attributes outside `Properties` whose changes are shown.
const ATTRIBUTES: &[&str] = &[
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "DependsOn",
    "Condition",
];

/// Template sections besides `Resources` whose changes are named.
const SECTIONS: &[&str] = &["Parameters", "Conditions", "Mappings", "Outputs", "Rules"];

/// How many exports a reference may pass through to reach a resource.
const MAX_IMPORT_HOPS: usize = 4;

#[derive(serde::Deserialize)]
struct CreateOnlyData {
    types: HashMap<String, CreateOnly>,
}

/// The properties whose change replaces a resource of one type.
#[derive(serde::Deserialize, Default)]
struct CreateOnly {
    always: Vec<String>,
    conditional: Vec<String>,
}

static CREATE_ONLY: LazyLock<CreateOnlyData> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../../data/aws-create-only.json"))
        .expect("data/aws-create-only.json is valid")
});

fn create_only(kind: &str) -> impl Iterator<Item = (&'static str, Effect)> {
    let paths = CREATE_ONLY.types.get(kind);
    let always = paths.into_iter().flat_map(|p| &p.always);
    let conditional = paths.into_iter().flat_map(|p| &p.conditional);
    always
        .map(|p| (p.as_str(), Effect::Replace))
        .chain(conditional.map(|p| (p.as_str(), Effect::MayReplace)))
}

/// One side's stacks of an environment, read.
type Trees<'a> = BTreeMap<&'a str, Yaml<'a>>;

/// Compares every environment of `before` with the same in `after`.
pub fn compare(before: &Texts, after: &Texts) -> Vec<EnvChange> {
    let envs: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    let empty = BTreeMap::new();
    envs.into_iter()
        .filter_map(|env| {
            let old = before.get(env).unwrap_or(&empty);
            let new = after.get(env).unwrap_or(&empty);
            let status = match (before.contains_key(env), after.contains_key(env)) {
                (false, _) => Status::Added,
                (_, false) => Status::Deleted,
                _ => Status::Changed,
            };
            let stacks = compare_env(old, new);
            (!stacks.is_empty()).then(|| EnvChange {
                env: env.to_string(),
                status,
                stacks,
            })
        })
        .collect()
}

fn compare_env(before: &BTreeMap<&str, &str>, after: &BTreeMap<&str, &str>) -> Vec<StackChange> {
    let names: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    let changed: Vec<&str> = names
        .into_iter()
        .filter(|name| before.get(name) != after.get(name))
        .collect();
    let (old, new) = (read(before, &changed), read(after, &changed));
    let mut stacks: Vec<StackChange> = changed
        .iter()
        .map(|name| compare_stack(name, old.get(name), new.get(name)))
        .collect();
    cascade(&mut stacks, &new);
    for stack in &mut stacks {
        stack
            .resources
            .retain(|r| r.action != Action::Update || !r.properties.is_empty());
        stack
            .resources
            .sort_by(|a, b| b.action.cmp(&a.action).then(a.id.cmp(&b.id)));
    }
    stacks.retain(|s| !s.resources.is_empty() || !s.other_sections.is_empty());
    stacks
}

/// The stacks of `names` that `texts` has, read.
fn read<'a>(texts: &BTreeMap<&'a str, &'a str>, names: &[&'a str]) -> Trees<'a> {
    names
        .iter()
        .filter_map(|name| Some((*name, yaml::parse_again(texts.get(name)?).ok()?)))
        .collect()
}

fn resources<'v, 'a>(tree: Option<&'v Yaml<'a>>) -> Option<&'v Mapping<'a>> {
    tree?.get("Resources")?.as_mapping()
}

fn compare_stack(name: &str, before: Option<&Yaml>, after: Option<&Yaml>) -> StackChange {
    let status = match (before, after) {
        (None, _) => Status::Added,
        (_, None) => Status::Deleted,
        _ => Status::Changed,
    };
    let (old, new) = (resources(before), resources(after));
    let mut ids: Vec<&str> = old
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(Yaml::as_str)
        .collect();
    for id in new
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(Yaml::as_str)
    {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let resources = ids
        .into_iter()
        .filter_map(|id| {
            compare_resource(id, old.and_then(|m| m.get(id)), new.and_then(|m| m.get(id)))
        })
        .collect();
    let other_sections = SECTIONS
        .iter()
        .filter(|s| before.and_then(|t| t.get(s)) != after.and_then(|t| t.get(s)))
        .filter(|_| status == Status::Changed)
        .map(|s| s.to_string())
        .collect();
    StackChange {
        stack: name.to_string(),
        status,
        resources,
        other_sections,
    }
}

fn kind_of<'v>(node: Option<&'v Yaml>) -> &'v str {
    node.and_then(|n| n.get("Type"))
        .and_then(Yaml::as_str)
        .unwrap_or_default()
}

fn compare_resource(
    id: &str,
    before: Option<&Yaml>,
    after: Option<&Yaml>,
) -> Option<ResourceChange> {
    if before == after {
        return None;
    }
    let kind = kind_of(after.or(before)).to_string();
    let mut change = ResourceChange {
        id: id.to_string(),
        stateful: is_stateful(&kind),
        kind,
        action: Action::Update,
        properties: Vec::new(),
        cause: None,
        widened: iam::widened(before, after),
    };
    match (before, after) {
        (None, _) => change.action = Action::Add,
        (_, None) => change.action = Action::Delete,
        (Some(_), Some(_)) if kind_of(before) != kind_of(after) => {
            change.action = Action::Replace;
            change.cause = Some(Cause::Type);
        }
        (Some(old), Some(new)) => {
            change.properties = property_changes(&change.kind, old, new);
            let strongest = change.properties.iter().map(|p| p.effect).max();
            if let Some(effect @ (Effect::Replace | Effect::MayReplace)) = strongest {
                let path = change.properties.iter().find(|p| p.effect == effect);
                change.action = replace_action(effect);
                change.cause = path.map(|p| Cause::Property {
                    path: p.path.clone(),
                });
            }
        }
    }
    // A resource kept on deletion or replacement (`Retain`) keeps its data: it is left in
    // the account, no longer the stack's.
    let retained =
        |policy: &str| before.and_then(|b| b.get(policy)).and_then(Yaml::as_str) == Some("Retain");
    let kept = match change.action {
        Action::Delete => retained("DeletionPolicy"),
        Action::Replace | Action::MayReplace => retained("UpdateReplacePolicy"),
        _ => false,
    };
    if kept {
        change.stateful = false;
    }
    Some(change)
}

fn replace_action(effect: Effect) -> Action {
    match effect {
        Effect::Replace => Action::Replace,
        Effect::MayReplace => Action::MayReplace,
        Effect::InPlace => Action::Update,
    }
}

/// The changed properties and attributes of a resource present on both sides.
fn property_changes(kind: &str, old: &Yaml, new: &Yaml) -> Vec<PropertyChange> {
    let mut found = Vec::new();
    differences("", old.get("Properties"), new.get("Properties"), &mut found);
    let mut changes: Vec<PropertyChange> = found
        .into_iter()
        .map(|(path, before, after)| PropertyChange {
            effect: effect_of(kind, &path),
            before: before.map(|v| shown(&path, v)),
            after: after.map(|v| shown(&path, v)),
            path,
        })
        .collect();
    for attribute in ATTRIBUTES {
        let (before, after) = (old.get(attribute), new.get(attribute));
        if before != after {
            changes.push(PropertyChange {
                path: attribute.to_string(),
                before: before.map(|v| shown(attribute, v)),
                after: after.map(|v| shown(attribute, v)),
                effect: Effect::InPlace,
            });
        }
    }
    changes
}

/// What changing the property at `path` (like `Tags[0].Value`) does to a resource of `kind`.
fn effect_of(kind: &str, path: &str) -> Effect {
    let plain: String = path.split('[').next().unwrap_or(path).to_string();
    create_only(kind)
        .filter(|(p, _)| {
            plain == *p
                || plain.starts_with(&format!("{p}."))
                || p.starts_with(&format!("{plain}."))
        })
        .map(|(_, effect)| effect)
        .max()
        .unwrap_or(Effect::InPlace)
}

/// Follows replacements through references until nothing more changes: a create-only
/// property that refers to a replaced resource replaces its resource too, and any other
/// property that does changes in place (the new resource's id or attribute).
fn cascade(stacks: &mut [StackChange], trees: &Trees) {
    let exports = exports(trees);
    for _ in 0..=stacks.iter().map(|s| s.resources.len()).sum::<usize>() {
        let replaced: HashMap<(String, String), Action> = stacks
            .iter()
            .flat_map(|s| s.resources.iter().map(move |r| (s, r)))
            .filter(|(_, r)| matches!(r.action, Action::Replace | Action::MayReplace))
            .map(|(s, r)| ((s.stack.clone(), r.id.clone()), r.action))
            .collect();
        let mut grew = false;
        for (stack_name, tree) in trees {
            let Some(resources) = resources(Some(tree)) else {
                continue;
            };
            for (id, node) in resources.iter().filter_map(|(k, v)| Some((k.as_str()?, v))) {
                grew |= follow(stacks, stack_name, id, node, &replaced, trees, &exports);
            }
        }
        if !grew {
            break;
        }
    }
}

/// Marks `id` of `stack` as replaced (or changed) where one of its properties refers to a
/// replaced resource; whether anything was marked.
fn follow(
    stacks: &mut [StackChange],
    stack: &str,
    id: &str,
    node: &Yaml,
    replaced: &HashMap<(String, String), Action>,
    trees: &Trees,
    exports: &HashMap<String, (&str, &Yaml)>,
) -> bool {
    let kind = kind_of(Some(node));
    let Some(properties) = node.get("Properties") else {
        return false;
    };
    let itself = (stack.to_string(), id.to_string());
    let replaced_targets = |value: &Yaml| -> Vec<((String, String), Action)> {
        targets(stack, value, trees, exports)
            .into_iter()
            .filter(|target| *target != itself)
            .filter_map(|target| Some((target.clone(), *replaced.get(&target)?)))
            .collect()
    };
    let strongest = strongest_replacement(kind, properties, &replaced_targets);
    let touched = touched_properties(stack, properties, &replaced_targets);
    if touched.is_empty() {
        return false;
    }
    let Some(resource) = resource_change(stacks, stack, id, kind) else {
        return false;
    };
    if matches!(resource.action, Action::Add | Action::Delete) {
        return false;
    }
    let mut grew = false;
    for (key, value, whose) in touched {
        if !resource.properties.iter().any(|p| p.path == key) {
            resource.properties.push(PropertyChange {
                path: key,
                after: Some(format!("{value} (the new {whose})")),
                before: Some(value),
                effect: Effect::InPlace,
            });
            grew = true;
        }
    }
    if let Some((action, cause)) = strongest.filter(|(a, _)| *a > resource.action) {
        resource.action = action;
        resource.cause = Some(cause);
        grew = true;
    }
    grew
}

/// The replaced resources a value refers to (as (stack, logical id)), with how each is
/// replaced.
type ReplacedTargets<'f> = dyn Fn(&Yaml) -> Vec<((String, String), Action)> + 'f;

/// The strongest replacement a resource of `kind` gets from its create-only properties that
/// refer to replaced resources, with the first property that causes it.
fn strongest_replacement(
    kind: &str,
    properties: &Yaml,
    replaced_targets: &ReplacedTargets,
) -> Option<(Action, Cause)> {
    let mut strongest: Option<(Action, Cause)> = None;
    for (path, effect) in create_only(kind) {
        let Some(value) = at(Some(properties), path) else {
            continue;
        };
        for ((target_stack, target_id), target_action) in replaced_targets(value) {
            let action = match (effect, target_action) {
                (Effect::Replace, Action::Replace) => Action::Replace,
                _ => Action::MayReplace,
            };
            if strongest.as_ref().is_none_or(|(a, _)| action > *a) {
                let cause = Cause::Refers {
                    path: path.to_string(),
                    stack: target_stack,
                    id: target_id,
                };
                strongest = Some((action, cause));
            }
        }
    }
    strongest
}

/// Each top-level property that refers to a replaced resource, once for each it refers
/// to: its key, its value as shown, and whose new id or attribute it takes (`id`, or
/// `stack.id` in another stack).
fn touched_properties(
    stack: &str,
    properties: &Yaml,
    replaced_targets: &ReplacedTargets,
) -> Vec<(String, String, String)> {
    let mut touched = Vec::new();
    for (key, value) in properties.as_mapping().into_iter().flat_map(|m| m.iter()) {
        let Some(key) = key.as_str() else { continue };
        for ((target_stack, target_id), _) in replaced_targets(value) {
            let whose = if target_stack == stack {
                target_id
            } else {
                format!("{target_stack}.{target_id}")
            };
            touched.push((key.to_string(), shown(key, value), whose));
        }
    }
    touched
}

/// The change of `id` in `stack`, added as an update where the resource had none.
fn resource_change<'s>(
    stacks: &'s mut [StackChange],
    stack: &str,
    id: &str,
    kind: &str,
) -> Option<&'s mut ResourceChange> {
    let stack_change = stacks.iter_mut().find(|s| s.stack == stack)?;
    let resource = match stack_change.resources.iter().position(|r| r.id == id) {
        Some(at) => &mut stack_change.resources[at],
        None => {
            stack_change.resources.push(ResourceChange {
                id: id.to_string(),
                kind: kind.to_string(),
                action: Action::Update,
                stateful: is_stateful(kind),
                properties: Vec::new(),
                cause: None,
                widened: Vec::new(),
            });
            stack_change.resources.last_mut().expect("just pushed")
        }
    };
    Some(resource)
}

/// The resources `value` refers to, as (stack, logical id), through imports of other stacks'
/// exports.
fn targets(
    stack: &str,
    value: &Yaml,
    trees: &Trees,
    exports: &HashMap<String, (&str, &Yaml)>,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![(stack.to_string(), value, 0)];
    while let Some((here, value, hops)) = pending.pop() {
        let mut references = Vec::new();
        collect_references(value, &mut references);
        for reference in references {
            let id = match reference {
                Reference::Ref(id) | Reference::GetAtt(id) => id,
                Reference::Sub(name) => name.split('.').next().unwrap_or(name),
                Reference::Import(name) => {
                    if let (Some((other, output)), true) =
                        (exports.get(name), hops < MAX_IMPORT_HOPS)
                    {
                        pending.push((other.to_string(), output, hops + 1));
                    }
                    continue;
                }
                Reference::Tag(_) => continue,
            };
            let exists = trees
                .get(here.as_str())
                .and_then(|t| resources(Some(t)))
                .is_some_and(|r| r.contains_key(id));
            if exists {
                found.push((here.clone(), id.to_string()));
            }
        }
    }
    found
}

/// Every export of the read stacks: its name, the stack, and the output's value.
fn exports<'v, 'a>(trees: &'v Trees<'a>) -> HashMap<String, (&'v str, &'v Yaml<'a>)> {
    let mut found = HashMap::new();
    for (stack, tree) in trees {
        let Some(outputs) = tree.get("Outputs").and_then(Yaml::as_mapping) else {
            continue;
        };
        for (_, output) in outputs.iter() {
            let name = output
                .get("Export")
                .and_then(|e| e.get("Name"))
                .and_then(Yaml::as_str);
            if let (Some(name), Some(value)) = (name, output.get("Value")) {
                found.insert(name.to_string(), (*stack, value));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::yaml::parse_again;

    /// A log group kept on deletion (`DeletionPolicy: Retain`) loses no data when its stack
    /// drops it; one without the policy does.
    #[test]
    fn a_retained_resource_keeps_its_data() {
        let kept = parse_again("Type: AWS::Logs::LogGroup\nDeletionPolicy: Retain\n").unwrap();
        let deleted = compare_resource("Logs", Some(&kept), None).unwrap();
        assert_eq!(deleted.action, Action::Delete);
        assert!(!deleted.stateful);
        let plain = parse_again("Type: AWS::Logs::LogGroup\n").unwrap();
        let deleted = compare_resource("Logs", Some(&plain), None).unwrap();
        assert!(deleted.stateful);
    }
}
