//! The envc directives of an environment file, `extends "<parent>"` and `abstract #true`,
//! split off its settings. Each takes exactly its one value and no annotation: a merge
//! annotation means nothing on them, so one is refused rather than ignored.

use super::ast::{Argument, EnvFile, MergeMode, NameRef, Node, Scalar};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Splits the envc directives (`extends`, `abstract`) off an environment's nodes.
pub(super) fn env_file(
    name: String,
    file: FileId,
    nodes: Vec<Node>,
    diagnostics: &mut Vec<Diagnostic>,
) -> EnvFile {
    let mut env = EnvFile {
        name,
        file,
        extends: None,
        is_abstract: false,
        nodes: Vec::with_capacity(nodes.len()),
    };
    let mut seen_extends: Option<Span> = None;
    for node in nodes {
        if matches!(node.name.as_str(), "extends" | "abstract") {
            refuse_annotation(&node, diagnostics);
        }
        match node.name.as_str() {
            "extends" => {
                if let Some(first) = seen_extends {
                    diagnostics.push(
                        Diagnostic::error(Code::DuplicateNode, "`extends` is given twice")
                            .at(node.name_span, "given again here")
                            .also(first, "first given here")
                            .help("an environment extends exactly one parent"),
                    );
                    continue;
                }
                seen_extends = Some(node.name_span);
                match single_string(&node) {
                    Some(arg) => {
                        env.extends = Some(NameRef {
                            name: arg.value.as_str().unwrap_or_default().to_string(),
                            span: arg.span,
                        })
                    }
                    None => {
                        diagnostics.push(
                            Diagnostic::error(Code::Arity, "`extends` takes one environment name")
                                .at(node.span, "expected `extends \"<parent>\"`")
                                .help("an environment extends exactly one parent, e.g. `extends \"staging\"`"),
                        );
                        // Read on from the first name, so what the environment would inherit
                        // is not reported missing as well.
                        if let Some(Argument {
                            value: Scalar::String(name),
                            span,
                        }) = node.args.first()
                        {
                            env.extends = Some(NameRef {
                                name: name.clone(),
                                span: *span,
                            });
                        }
                    }
                }
            }
            "abstract" => match node.args.as_slice() {
                [Argument {
                    value: Scalar::Bool(b),
                    ..
                }] if !node.has_body() => env.is_abstract = *b,
                _ => diagnostics.push(
                    Diagnostic::error(Code::Arity, "`abstract` takes `#true` or `#false`")
                        .at(node.span, "expected `abstract #true`")
                        .help(
                            "write `abstract #true` to mark an environment that only others extend",
                        ),
                ),
            },
            _ => env.nodes.push(node),
        }
    }
    env
}

/// A known merge annotation on a directive (an unknown one is reported where it is read).
fn refuse_annotation(node: &Node, diagnostics: &mut Vec<Diagnostic>) {
    let (Some(span), false) = (node.mode_span, node.mode == MergeMode::Merge) else {
        return;
    };
    let name = &node.name;
    diagnostics.push(
        Diagnostic::error(
            Code::MisplacedAnnotation,
            format!("`{name}` takes no annotation"),
        )
        .at(span, format!("this does nothing on `{name}`"))
        .help(format!(
            "remove the annotation: `{name}` is set once per environment file and never merged; `(replace)`, `(remove)` and `(append)` go before the settings an environment changes"
        )),
    );
}

fn single_string(node: &Node) -> Option<&Argument> {
    match node.args.as_slice() {
        [arg] if arg.value.as_str().is_some() && !node.has_body() => Some(arg),
        _ => None,
    }
}
