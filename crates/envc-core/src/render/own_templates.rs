//! A project's own templates change what renders: each is rendered by a stack, replaces a
//! built-in of its name or is imported by another template, and each block it fills is one
//! the built-in it extends has. A misspelt file name or block name was silently dropped.

use super::{builtin, Renderer};
use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::StacksConfig;
use crate::source::{SourceMap, Span};

impl Renderer {
    /// The project templates that change nothing, and the blocks that fill nothing.
    pub fn unused_templates(
        &self,
        stacks: &StacksConfig,
        sources: &mut SourceMap,
    ) -> Vec<Diagnostic> {
        let rendered: Vec<String> = stacks
            .stack
            .values()
            .filter_map(|s| s.template_name())
            .collect();
        let builtin_names = || builtin::TEMPLATES.iter().map(|(name, _)| *name);
        let mut names: Vec<&String> = self.origins.keys().collect();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let origin = &self.origins[name];
            if origin.builtin || name.starts_with("kinds/") {
                continue;
            }
            let quoted = |text: &str| {
                text.contains(&format!("\"{name}\"")) || text.contains(&format!("'{name}'"))
            };
            let imported = self
                .origins
                .iter()
                .any(|(other, o)| other != name && quoted(&o.text));
            let replaces = builtin_names().any(|b| b == name.as_str());
            if !replaces && !imported && !rendered.contains(name) {
                let file = sources.add_once(&origin.display, &origin.text);
                let candidates = builtin_names().chain(rendered.iter().map(String::as_str));
                let (help, _) = suggestion(name, candidates, || {
                    "name it after the built-in it replaces (`service.yaml.j2`), or give a stack `template` it".to_string()
                });
                out.push(
                    Diagnostic::error(
                        Code::UnusedTemplate,
                        format!(
                            "template `{}` is rendered by no stack and replaces no built-in",
                            origin.display
                        ),
                    )
                    .at(Span::new(file, 0, 0), "renders nowhere")
                    .help(help),
                );
            }
            out.extend(self.unknown_blocks(name, sources));
        }
        out
    }

    /// The blocks template `name` fills that the built-in it extends does not have.
    fn unknown_blocks(&self, name: &str, sources: &mut SourceMap) -> Vec<Diagnostic> {
        let origin = &self.origins[name];
        let Some(base) = extended_builtin(&origin.text) else {
            return Vec::new();
        };
        let Some((_, base_text)) = builtin::TEMPLATES.iter().find(|(b, _)| *b == base) else {
            return Vec::new();
        };
        let offered = blocks(base_text);
        let mut out = Vec::new();
        for (block, at) in blocks(&origin.text) {
            if offered.iter().any(|(b, _)| *b == block) {
                continue;
            }
            let file = sources.add_once(&origin.display, &origin.text);
            let (help, _) = suggestion(block, offered.iter().map(|(b, _)| *b), || {
                format!("`{base}` has no blocks to fill")
            });
            out.push(
                Diagnostic::error(
                    Code::UnusedTemplate,
                    format!(
                        "block `{block}` of `{}` fills nothing: `builtin/{base}` has no such block",
                        origin.display
                    ),
                )
                .at(Span::new(file, at, at + block.len()), "no such block")
                .help(help),
            );
        }
        out
    }
}

/// The built-in a template extends (`{% extends "builtin/service.yaml.j2" %}`), by name.
fn extended_builtin(text: &str) -> Option<&str> {
    let after = &text[text.find("extends")? + "extends".len()..];
    let quoted = after.trim_start().strip_prefix(['"', '\''])?;
    let name = &quoted[..quoted.find(['"', '\''])?];
    name.strip_prefix(builtin::PREFIX)
}

/// Each `{% block NAME %}` of `text` (with `-` whitespace control too): the name and where
/// it starts.
fn blocks(text: &str) -> Vec<(&str, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{%") {
        let start = from + open + 2;
        let rest = text[start..].trim_start_matches(['-', '+']).trim_start();
        let at = text.len() - rest.len();
        if let Some(after) = rest.strip_prefix("block") {
            let name_part = after.trim_start();
            let name_at = text.len() - name_part.len();
            let end = name_part
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name_part.len());
            if end > 0 && after.len() > name_part.len() {
                found.push((&name_part[..end], name_at));
            }
        }
        from = at.max(start);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_the_builtin_extended_are_read() {
        let text = "{% extends \"builtin/service.yaml.j2\" %}\n{%- block sidecars %}x{% endblock %}{% block task_role_statements -%}{% endblock %}";
        assert_eq!(extended_builtin(text), Some("service.yaml.j2"));
        let names: Vec<&str> = blocks(text).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["sidecars", "task_role_statements"]);
        assert_eq!(extended_builtin("{% extends \"base.j2\" %}"), None);
    }
}
