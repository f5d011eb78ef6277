//! Imports between the stacks of one environment: each names an export of a stack the
//! importer needs (so it deploys first), and exports are unique. An import from another
//! environment of the project (a shared hosted zone) is left to validation's rules about
//! that environment and to deploy, which finds whether the export exists.

use std::collections::HashMap;

use super::RenderedStack;
use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::did_you_mean;
use crate::model::StacksConfig;
use crate::source::{FileId, SourceMap, Span};

/// Every import of this environment names an export of a stack the importer needs
/// (directly or through others); exports are unique. An import of a stack in `unrendered`
/// (whose template failed, and said why) is not reported again.
pub(super) fn check_imports(
    config: &StacksConfig,
    env: &str,
    declared: &[String],
    (rendered, unrendered): (&[(Option<FileId>, &RenderedStack)], &[&str]),
    sources: &SourceMap,
    out: &mut Vec<Diagnostic>,
) {
    let mut exporters: HashMap<&str, &str> = HashMap::new();
    for (file, stack) in rendered {
        for export in &stack.template.exports {
            if let Some(other) = exporters.insert(export, &stack.stack) {
                out.push(
                    Diagnostic::error(Code::DuplicateExport, format!("`{export}` is exported by both `{other}` and `{}`", stack.stack))
                        .at(find(sources, *file, &stack.template.places.exports, export), "exported again")
                        .help("export names are unique per account and region; name the output differently"),
                );
            }
        }
    }
    let prefix = format!("{}-{env}-", config.project);
    // `<project>-<env>-<stack>-<output>`, and an output's name has no `-`.
    let of_unrendered = |import: &str| {
        import
            .strip_prefix(&prefix)
            .and_then(|rest| rest.rsplit_once('-'))
            .is_some_and(|(stack, _)| unrendered.contains(&stack))
    };
    // `<project>-<other env>-…`: each `-` of the rest may end the name of an environment,
    // looked up in `declared` (sorted), not by reading every environment for every import.
    let project = format!("{}-", config.project);
    let other_env = |import: &str| {
        !import.starts_with(&prefix)
            && import.strip_prefix(&project).is_some_and(|rest| {
                rest.match_indices('-').any(|(at, _)| {
                    declared
                        .binary_search_by(|name| name.as_str().cmp(&rest[..at]))
                        .is_ok()
                })
            })
    };
    for (file, stack) in rendered {
        let closure = config.needs_closure(&stack.stack);
        for import in &stack.template.imports {
            // Searched for only when there is something to point at.
            let span = || find(sources, *file, &stack.template.places.imports, import);
            match exporters.get(import.as_str()) {
                None if other_env(import) || of_unrendered(import) => {}
                None => {
                    let known: Vec<&str> = exporters.keys().copied().collect();
                    out.push(
                        Diagnostic::error(Code::DanglingImport, format!("stack `{}` imports `{import}`, which no stack of `{env}` exports", stack.stack))
                            .at(span(), "nothing exports this")
                            .help(did_you_mean(import, known.iter().copied()).unwrap_or_else(|| {
                                if import.starts_with(&prefix) {
                                    "add the output (with `Export: Name: {{ export_name(…) }}`) to the stack that owns the value".to_string()
                                } else {
                                    format!("imports of this environment start with `{prefix}`")
                                }
                            })),
                    );
                }
                // CloudFormation makes a stack's exports when the stack is made: its own
                // import of one finds nothing, and the create fails.
                Some(exporter) if *exporter == stack.stack => out.push(
                    Diagnostic::error(Code::DanglingImport, format!("stack `{}` imports `{import}`, which it exports itself", stack.stack))
                        .at(span(), "imported here")
                        .help("a stack's exports exist only once it is made: refer to the value inside the stack (`!Ref`, `!GetAtt`) instead of importing it"),
                ),
                Some(exporter) if !closure.contains(exporter) => out.push(
                    Diagnostic::error(Code::DanglingImport, format!("stack `{}` imports from `{exporter}` but does not need it", stack.stack))
                        .at(span(), "imported here")
                        .help(format!("add `{exporter}` to the `needs` of stack `{}` in stacks.kdl, so it deploys first", stack.stack)),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Where `name` (an export or import of a stack) is in its rendered text: the place its
/// YAML tree recorded in `places`, or the first occurrence in a text read without one.
fn find(
    sources: &SourceMap,
    file: Option<FileId>,
    places: &HashMap<String, (usize, usize)>,
    name: &str,
) -> Span {
    let Some(file) = file else {
        return Span::new(FileId(0), 0, 0);
    };
    if let Some((start, end)) = places.get(name) {
        return Span::new(file, *start, *end);
    }
    let text = &sources.file(file).text;
    text.find(name)
        .map(|at| Span::new(file, at, at + name.len()))
        .unwrap_or(Span::new(file, 0, 0))
}
