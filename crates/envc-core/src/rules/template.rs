//! A rendered stack read back into a tree, and what its values refer to: resources of the
//! same template, and resources of other stacks of the environment through their exports.

use super::place::StackAt;
use crate::render::yaml::{self, Yaml};
use crate::render::RenderedStack;
use crate::validate::ValidEnv;

/// How many exports a reference may pass through to reach a resource.
const MAX_IMPORT_HOPS: usize = 4;

/// One rendered stack of an environment, read back.
pub(crate) struct Rendered<'a> {
    pub env: &'a ValidEnv,
    pub stack: &'a RenderedStack,
    pub tree: StackTree<'a>,
    /// Where the stacks of its environment are in the list the rules read (see
    /// [`index_environments`]), so that an import is followed without reading every stack.
    pub env_stacks: std::ops::Range<usize>,
}

/// A stack's tree: the one render kept, or its text read back when render's is gone.
pub(crate) enum StackTree<'a> {
    Kept(&'a Yaml<'a>),
    Read(Yaml<'a>),
}

impl<'a> std::ops::Deref for StackTree<'a> {
    type Target = Yaml<'a>;

    fn deref(&self) -> &Yaml<'a> {
        match self {
            StackTree::Kept(tree) => tree,
            StackTree::Read(tree) => tree,
        }
    }
}

/// One resource of a template.
#[derive(Clone, Copy)]
pub(crate) struct Resource<'r, 'a> {
    pub id: &'r str,
    pub kind: &'r str,
    pub node: &'r Yaml<'a>,
}

/// A resource and the stack it is in.
#[derive(Clone, Copy)]
pub(crate) struct Target<'r, 'a> {
    pub stack: &'r Rendered<'a>,
    pub resource: Resource<'r, 'a>,
}

impl<'a> Rendered<'a> {
    /// The stack's tree: render's, else its text read back (text that does not read is
    /// reported by render, not here).
    pub fn read(env: &'a ValidEnv, stack: &'a RenderedStack) -> Option<Self> {
        let tree = match &stack.tree {
            Some(kept) => {
                // Every test run holds render's tree to a reading of the text.
                debug_assert_eq!(
                    yaml::parse_again(&stack.body).ok().as_ref(),
                    Some(kept.tree())
                );
                StackTree::Kept(kept.tree())
            }
            None => StackTree::Read(yaml::parse_again(&stack.body).ok()?),
        };
        Some(Rendered {
            env,
            stack,
            tree,
            env_stacks: 0..0,
        })
    }

    /// The stack and its environment, without the tree.
    pub fn at(&self) -> StackAt<'a> {
        StackAt {
            env: self.env,
            stack: self.stack,
        }
    }

    pub fn account(&self) -> &str {
        &self.env.model.account
    }

    pub fn region(&self) -> &str {
        self.env.model.region.as_deref().unwrap_or_default()
    }

    pub fn resources(&self) -> impl Iterator<Item = Resource<'_, 'a>> {
        self.tree
            .get("Resources")
            .and_then(Yaml::as_mapping)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(id, node)| {
                Some(Resource {
                    id: id.as_str()?,
                    kind: node.get("Type")?.as_str()?,
                    node,
                })
            })
    }

    pub fn resource(&self, id: &str) -> Option<Resource<'_, 'a>> {
        self.resources().find(|r| r.id == id)
    }

    /// The `Value` of the output this stack exports as `name`.
    fn exported(&self, name: &str) -> Option<&Yaml<'a>> {
        let outputs = self.tree.get("Outputs")?.as_mapping()?;
        outputs.iter().map(|(_, o)| o).find_map(|output| {
            let export = output.get("Export")?.get("Name")?.as_str()?;
            (export == name).then(|| output.get("Value")).flatten()
        })
    }
}

impl<'r, 'a> Resource<'r, 'a> {
    /// The property at a dotted path under `Properties` (`Budget.BudgetName`).
    pub fn property(&self, path: &str) -> Option<&'r Yaml<'a>> {
        let mut node = self.node.get("Properties")?;
        for part in path.split('.') {
            node = node.get(part)?;
        }
        Some(node)
    }

    pub fn deletion_policy(&self) -> Option<&'r str> {
        self.node.get("DeletionPolicy")?.as_str()
    }
}

/// An intrinsic function as written in short (`!Ref x`) or long (`Ref: x`) form: its name
/// without `!` or `Fn::`, and its argument.
pub(crate) fn intrinsic<'v, 'a>(value: &'v Yaml<'a>) -> Option<(&'v str, &'v Yaml<'a>)> {
    match value {
        Yaml::Tagged(tag, inner) => Some((tag.strip_prefix('!')?, inner)),
        Yaml::Mapping(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next()?;
            let key = key.as_str()?;
            Some((key.strip_prefix("Fn::").unwrap_or(key), inner))
        }
        _ => None,
    }
}

/// The resource `value` names (`!Ref X`, `!GetAtt X.Arn`, `!Sub "${X}"`, or an import of an
/// output that names one), when it names one.
pub(crate) fn target<'r, 'a>(
    stacks: &'r [Rendered<'a>],
    here: &'r Rendered<'a>,
    value: &'r Yaml<'a>,
) -> Option<Target<'r, 'a>> {
    let mut here = here;
    let mut value = value;
    for _ in 0..=MAX_IMPORT_HOPS {
        let (function, argument) = intrinsic(value)?;
        let id = match function {
            "Ref" => argument.as_str()?,
            "GetAtt" => match argument {
                Yaml::String(text) => text.split('.').next()?,
                Yaml::Sequence(items) => items.first()?.as_str()?,
                _ => return None,
            },
            "Sub" => {
                let text = argument.as_str()?;
                let inner = text.strip_prefix("${")?.strip_suffix('}')?;
                inner.split('.').next()?
            }
            "ImportValue" => {
                (here, value) = exporter(stacks, here, argument.as_str()?)?;
                continue;
            }
            _ => return None,
        };
        let resource = here.resource(id)?;
        return Some(Target {
            stack: here,
            resource,
        });
    }
    None
}

/// Notes in each stack where its environment's stacks are in `stacks`, whose stacks of one
/// environment are next to each other.
pub(crate) fn index_environments(stacks: &mut [Rendered]) {
    let mut start = 0;
    while start < stacks.len() {
        let env = &stacks[start].env.name;
        let end = start
            + stacks[start..]
                .iter()
                .take_while(|s| &s.env.name == env)
                .count();
        for stack in &mut stacks[start..end] {
            stack.env_stacks = start..end;
        }
        start = end;
    }
}

/// The stack of `here`'s environment that exports `name`, and the value it exports.
fn exporter<'r, 'a>(
    stacks: &'r [Rendered<'a>],
    here: &Rendered,
    name: &str,
) -> Option<(&'r Rendered<'a>, &'r Yaml<'a>)> {
    let same_env = |s: &&Rendered| s.env.name == here.env.name;
    // Its environment's stacks, where the index says and it holds; all of them otherwise.
    let indexed = stacks
        .get(here.env_stacks.clone())
        .filter(|found| !found.is_empty() && found.iter().all(|s| same_env(&s)));
    indexed
        .unwrap_or(stacks)
        .iter()
        .filter(same_env)
        .find_map(|s| Some((s, s.exported(name)?)))
}

/// The items of a list value: a sequence, a `!Split` of an imported `!Join` of one, or the
/// sequence an import's output joins. `None` where the list is made at deploy time.
pub(crate) fn list_items<'r, 'a>(
    stacks: &'r [Rendered<'a>],
    here: &'r Rendered<'a>,
    value: &'r Yaml<'a>,
) -> Option<(&'r Rendered<'a>, &'r [Yaml<'a>])> {
    let mut here = here;
    let mut value = value;
    for _ in 0..=MAX_IMPORT_HOPS {
        match value {
            Yaml::Sequence(items) => return Some((here, items)),
            _ => {
                let (function, argument) = intrinsic(value)?;
                match (function, argument) {
                    ("Split" | "Join", Yaml::Sequence(parts)) if parts.len() == 2 => {
                        value = &parts[1];
                    }
                    ("ImportValue", Yaml::String(name)) => {
                        (here, value) = exporter(stacks, here, name)?;
                    }
                    _ => return None,
                }
            }
        }
    }
    None
}

/// A string value with the pseudo parameters AWS fills in at deploy time filled in here
/// (`!Sub "${AWS::StackName}-jobs"`); `None` for a value made from anything else.
pub(crate) fn known_string(here: &Rendered, value: &Yaml) -> Option<String> {
    if let Some(text) = value.as_str() {
        return Some(text.to_string());
    }
    let (function, argument) = intrinsic(value)?;
    if function != "Sub" {
        return None;
    }
    let text = argument.as_str()?;
    let partition = match here.region() {
        r if r.starts_with("cn-") => "aws-cn",
        r if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    };
    let filled = text
        .replace("${AWS::AccountId}", here.account())
        .replace("${AWS::Region}", here.region())
        .replace("${AWS::StackName}", &here.stack.stack_name)
        .replace("${AWS::Partition}", partition)
        .replace("${AWS::URLSuffix}", "amazonaws.com");
    let open = filled
        .match_indices("${")
        .any(|(at, _)| !filled[at..].starts_with("${!"));
    (!open).then(|| filled.replace("${!", "${"))
}
