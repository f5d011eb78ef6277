//! Stack graph rules: each stack has a kind (built in or the project's) or a template,
//! `needs` name stacks that exist, the graph has no cycles, and the default `region` is one.

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::{Stack, StackKind, StacksConfig};

/// Every built-in kind, for did-you-mean.
const BUILTIN_KINDS: [StackKind; 14] = [
    StackKind::Network,
    StackKind::Cluster,
    StackKind::Database,
    StackKind::Queues,
    StackKind::Service,
    StackKind::Worker,
    StackKind::Registry,
    StackKind::Dns,
    StackKind::ConfigSecret,
    StackKind::Artifacts,
    StackKind::Waf,
    StackKind::Migration,
    StackKind::Monitoring,
    StackKind::CiRole,
];
use crate::resolve::{path, SpanIndex};
use crate::source::{FileId, Span};

pub fn check_stacks(
    config: &StacksConfig,
    spans: &SpanIndex,
    file: FileId,
    project_kinds: &[&str],
    out: &mut Vec<Diagnostic>,
) {
    let span = |pointer: &str, key: bool| {
        spans
            .nearest(pointer)
            .map(|l| if key { l.key } else { l.value })
            .unwrap_or(Span::new(file, 0, 0))
    };
    for (name, stack) in &config.stack {
        check_name(name, &span, out);
        check_source(name, stack, &span, out);
        check_project_kind(name, stack, project_kinds, &span, out);
        check_selection(name, stack, &span, out);
        check_needs(name, stack, config, &span, out);
        check_required_kinds(name, stack, config, &span, out);
    }
    check_cycle(config, &span, out);
    if let Some(region) = config.region.as_deref() {
        if super::regions::partition(region).is_none() {
            let at = span("/region", false);
            out.push(super::regions::unknown(region).at(at, "unknown default region"));
        }
    }
}

/// The longest stack name: `<project>-<env>-<stack>` is the CloudFormation stack name, which
/// AWS takes up to 128 characters long, and projects take 32 and environments 40.
pub const MAX_STACK_NAME: usize = 128 - 32 - 1 - crate::parse::MAX_ENV_NAME - 1;

/// A stack's name is lowercase letters, digits and `-`, starting with a letter (CloudFormation
/// takes letters, digits and `-` from a letter; envc's names are lowercase, as project and
/// environment names are), and at most [`MAX_STACK_NAME`] characters.
fn check_name(name: &str, span: &dyn Fn(&str, bool) -> Span, out: &mut Vec<Diagnostic>) {
    let mut chars = name.chars();
    let well_formed = matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let too_long = name.chars().count() > MAX_STACK_NAME;
    if well_formed && !too_long {
        return;
    }
    let message = if well_formed {
        format!("stack name `{name}` is longer than {MAX_STACK_NAME} characters")
    } else {
        format!("`{name}` is not a valid stack name")
    };
    out.push(
        Diagnostic::error(Code::StackName, message)
            .at(span(&stack_pointer(name, ""), true), "this stack's name")
            .help(format!(
                "stack names are lowercase letters, digits and `-`, starting with a letter, at most {MAX_STACK_NAME} characters: CloudFormation names the stack `<project>-<environment>-<stack>`, in at most 128 characters"
            )),
    );
}

/// A stack has a `kind` or a `template`, not both.
fn check_source(
    name: &str,
    stack: &Stack,
    span: &dyn Fn(&str, bool) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    if stack.kind.is_some() == stack.template.is_some() {
        out.push(
            Diagnostic::error(
                Code::StackSource,
                if stack.kind.is_some() {
                    format!("stack `{name}` has both `kind` and `template`")
                } else {
                    format!("stack `{name}` has neither `kind` nor `template`")
                },
            )
            .at(span(&stack_pointer(name, ""), true), "this stack")
            .help("give a built-in `kind=\"…\"` or a project `template=\"…\"`, not both"),
        );
    }
}

/// A project kind is one of the project's, and its stack is not named like a setting of
/// the environments (its settings block would take that setting's place).
fn check_project_kind(
    name: &str,
    stack: &Stack,
    project_kinds: &[&str],
    span: &dyn Fn(&str, bool) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    let Some(kind) = stack.project_kind() else {
        return;
    };
    if !project_kinds.contains(&kind) {
        out.push(unknown_kind(
            name,
            kind,
            project_kinds,
            span(&stack_pointer(name, "/kind"), false),
        ));
    } else if crate::resolve::Shapes::shared()
        .env
        .field_names()
        .contains(&name)
    {
        out.push(
            Diagnostic::error(
                Code::UnknownKind,
                format!("stack `{name}` of kind `{kind}` is named like the environments' `{name}` setting"),
            )
            .at(span(&stack_pointer(name, ""), true), "this stack")
            .help(format!(
                "a project kind's settings block is named after its stack, and `{name}` is envc's own: name the stack differently"
            )),
        );
    }
}

/// Each of a stack's `needs` is another stack.
fn check_needs(
    name: &str,
    stack: &Stack,
    config: &StacksConfig,
    span: &dyn Fn(&str, bool) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    for (i, need) in stack.needs.iter().enumerate() {
        if stack.needs[..i].contains(need) {
            out.push(
                Diagnostic::error(
                    Code::NeedsTwice,
                    format!("stack `{name}` needs `{need}` twice"),
                )
                .at(
                    span(&stack_pointer(name, &format!("/needs/{i}")), false),
                    "again",
                )
                .help("name each stack it needs once"),
            );
        } else if need == name {
            out.push(
                Diagnostic::error(Code::StackCycle, format!("stack `{name}` needs itself"))
                    .at(
                        span(&stack_pointer(name, &format!("/needs/{i}")), false),
                        "here",
                    )
                    .help("remove it from its own `needs`"),
            );
        } else if !config.stack.contains_key(need) {
            let (help, suggestion) =
                suggestion(need, config.stack.keys().map(String::as_str), || {
                    format!(
                        "stacks are: {}",
                        config.stack.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                });
            out.push(
                Diagnostic::error(
                    Code::UnknownStack,
                    format!("stack `{name}` needs `{need}`, which is not a stack"),
                )
                .at(
                    span(&stack_pointer(name, &format!("/needs/{i}")), false),
                    "no such stack",
                )
                .help(help)
                .suggest(suggestion),
            );
        }
    }
}

/// The kinds of stack a built-in kind's template imports outputs of, with what it takes.
fn required_kinds(kind: StackKind) -> &'static [(StackKind, &'static str)] {
    match kind {
        StackKind::Service => &[
            (StackKind::Network, "its subnets and security group"),
            (StackKind::Cluster, "the ECS cluster its tasks run in"),
        ],
        StackKind::Worker => &[
            (StackKind::Network, "its subnets and security group"),
            (StackKind::Queues, "the queue it consumes"),
        ],
        StackKind::Database => &[(StackKind::Network, "its subnets and security group")],
        _ => &[],
    }
}

/// A built-in kind's stack has, in the project, a stack of each kind its template reads.
fn check_required_kinds(
    name: &str,
    stack: &Stack,
    config: &StacksConfig,
    span: &dyn Fn(&str, bool) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    let Some(kind) = stack.builtin() else {
        return;
    };
    for (required, what) in required_kinds(kind) {
        if config
            .stack
            .values()
            .any(|s| s.builtin() == Some(*required))
        {
            continue;
        }
        let (kind, required) = (kind.as_str(), required.as_str());
        out.push(
            Diagnostic::error(
                Code::RequiredStack,
                format!("stack `{name}` is a `{kind}`, which imports {what} from a `{required}` stack, and the project has none"),
            )
            .at(span(&stack_pointer(name, "/kind"), false), "reads a stack of another kind")
            .help(format!(
                "add `stack \"{required}\" kind=\"{required}\"` to stacks.kdl, and `needs \"{required}\"` to `{name}`"
            )),
        );
    }
}

/// The stacks' `needs` form no cycle (one diagnostic, at each `needs` of the cycle).
fn check_cycle(
    config: &StacksConfig,
    span: &dyn Fn(&str, bool) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    let Some(cycle) = find_cycle(config) else {
        return;
    };
    let first = &cycle[0];
    let position = config.stack[first]
        .needs
        .iter()
        .position(|n| *n == cycle[1 % cycle.len()])
        .unwrap_or(0);
    let mut diagnostic = Diagnostic::error(
        Code::StackCycle,
        format!(
            "stack `needs` form a cycle: {} → {first}",
            cycle.join(" → ")
        ),
    )
    .at(
        span(&stack_pointer(first, &format!("/needs/{position}")), false),
        format!("`{first}` needs `{}`", cycle[1 % cycle.len()]),
    )
    .help("stacks deploy in dependency order, so one of these must not need the other");
    for (i, name) in cycle.iter().enumerate().skip(1) {
        let next = &cycle[(i + 1) % cycle.len()];
        if let Some(p) = config.stack[name].needs.iter().position(|n| n == next) {
            diagnostic = diagnostic.also(
                span(&stack_pointer(name, &format!("/needs/{p}")), false),
                format!("`{name}` needs `{next}`"),
            );
        }
    }
    out.push(diagnostic);
}

/// A cycle of two or more stacks, starting at its alphabetically first member.
fn find_cycle(config: &StacksConfig) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        name: &str,
        config: &StacksConfig,
        marks: &mut std::collections::HashMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(name).copied().unwrap_or(Mark::New) {
            Mark::Done => return None,
            Mark::Open => {
                let start = path.iter().position(|p| p == name)?;
                return Some(path[start..].to_vec());
            }
            Mark::New => {}
        }
        marks.insert(name.to_string(), Mark::Open);
        path.push(name.to_string());
        for need in config
            .stack
            .get(name)
            .map(|s| s.needs.as_slice())
            .unwrap_or(&[])
        {
            if need != name && config.stack.contains_key(need) {
                if let Some(cycle) = visit(need, config, marks, path) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        marks.insert(name.to_string(), Mark::Done);
        None
    }
    let mut marks = std::collections::HashMap::new();
    let mut names: Vec<&String> = config.stack.keys().collect();
    names.sort();
    for name in names {
        let mut path = Vec::new();
        if let Some(mut cycle) = visit(name, config, &mut marks, &mut path) {
            let min = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| n.as_str())
                .map(|(i, _)| i)
                .unwrap_or(0);
            cycle.rotate_left(min);
            return Some(cycle);
        }
    }
    None
}

/// A kind that is neither built in nor the project's, with the nearest known one.
fn unknown_kind(name: &str, kind: &str, project_kinds: &[&str], at: Span) -> Diagnostic {
    let builtins: Vec<String> = BUILTIN_KINDS.iter().map(|k| k.name()).collect();
    let known = builtins
        .iter()
        .map(String::as_str)
        .chain(project_kinds.iter().copied());
    let well_formed = kind.starts_with(|c: char| c.is_ascii_lowercase())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let (help, suggestion) = suggestion(kind, known, || {
        let make = if well_formed {
            format!("`envc new-kind {kind}` makes one")
        } else {
            "a kind's name is lowercase letters, digits and `-`, starting with a letter".to_string()
        };
        let builtins = builtins.join(", ");
        format!("kinds are the built-in {builtins} and the project's under `kinds/` ({make})")
    });
    Diagnostic::error(
        Code::UnknownKind,
        format!("stack `{name}` has kind `{kind}`, which is not a kind"),
    )
    .at(at, "no such kind")
    .help(help)
    .suggest(suggestion)
}

/// A `service` stack names the service it deploys, a `worker` stack its worker; without
/// one it would render nothing, and nothing would say so. No other built-in kind reads
/// either.
fn check_selection(
    name: &str,
    stack: &crate::model::Stack,
    span: &dyn Fn(&str, bool) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    use crate::model::StackKind;
    let wanted = match stack.builtin() {
        Some(StackKind::Service) => Some(("service", stack.service.is_some())),
        Some(StackKind::Worker) => Some(("worker", stack.worker.is_some())),
        _ => None,
    };
    if let Some((field, false)) = wanted {
        out.push(
            Diagnostic::error(
                Code::Selection,
                format!("stack `{name}` is a `{field}` stack but names no {field}"),
            )
            .at(span(&stack_pointer(name, ""), true), format!("needs `{field}=\"…\"`"))
            .help(format!(
                "name the environments' {field} it deploys: `stack \"{name}\" kind=\"{field}\" {field}=\"{name}\"`"
            )),
        );
    }
    let misplaced = [
        ("service", stack.service.is_some(), StackKind::Service),
        ("worker", stack.worker.is_some(), StackKind::Worker),
    ];
    // A project template sees `stack.service` and `stack.worker`; a built-in kind of
    // another kind does not read them.
    for (field, given, kind) in misplaced {
        if given && stack.kind.is_some() && stack.builtin() != Some(kind) {
            out.push(
                Diagnostic::error(
                    Code::Selection,
                    format!(
                        "`{field}=` only applies to a `{field}` stack, and `{name}` is not one"
                    ),
                )
                .at(
                    span(&stack_pointer(name, &format!("/{field}")), false),
                    "has no effect here",
                )
                .help(format!(
                    "remove `{field}=`, or make the stack `kind=\"{field}\"`"
                )),
            );
        }
    }
}

/// The pointer of stack `name` of `stacks.kdl` (escaped: the name is the user's), then `rest`.
fn stack_pointer(name: &str, rest: &str) -> String {
    format!("{}{rest}", path::pointer(&["stack", name]))
}
