//! Hover: on a setting, what the reference says of it and its merged value in every
//! environment that has this file in its chain, with who set it; on a `${ref}`, what it
//! resolves to in each of them.

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use super::analysis::{shown_at, SettingAt};
use super::{Document, Snapshot};
use envc_core::docs::SchemaAt;
use envc_core::resolve::ResolvedEnv;
use envc_core::source::FileId;

pub fn hover(snapshot: &Snapshot, params: &HoverParams) -> Option<Hover> {
    let place = &params.text_document_position_params;
    let document = snapshot.document(&place.text_document.uri)?;
    let offset = snapshot.offset(&document, place.position);
    let (text, start, end) = match reference_at(document.text, offset) {
        Some((path, start, end)) => (reference_hover(snapshot, &document, path)?, start, end),
        None => {
            let setting = snapshot.analysis.setting_at(document.file, offset)?;
            let span = setting.entry.key_span;
            let (start, end) = if span.file == document.file {
                (span.start, span.end)
            } else {
                (offset, offset)
            };
            (setting_hover(snapshot, document.file, &setting), start, end)
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: snapshot.analysis.mask(&text),
        }),
        range: Some(snapshot.range(document.text, start, end)),
    })
}

/// The `${path}` around `offset` on its line: the path and the span of the reference.
pub fn reference_at(text: &str, offset: usize) -> Option<(&str, usize, usize)> {
    let line_start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    let mut from = 0;
    while let Some(found) = line[from..].find("${") {
        let start = from + found;
        let Some(close) = line[start..].find('}') else {
            break;
        };
        let end = start + close + 1;
        let escaped = start > 0 && line.as_bytes()[start - 1] == b'$';
        if !escaped && line_start + start <= offset && offset <= line_start + end {
            return Some((
                &line[start + 2..end - 1],
                line_start + start,
                line_start + end,
            ));
        }
        from = end;
    }
    None
}

/// `staging: "db.t3.small" (env/staging.kdl:9)`, one per environment of `lineage`.
fn values_line(
    snapshot: &Snapshot,
    hovered: FileId,
    lineage: &[&ResolvedEnv],
    path: &[String],
) -> String {
    let analysis = &snapshot.analysis;
    lineage
        .iter()
        .filter(|env| !env.is_abstract)
        .map(|env| {
            let Some((shown, value)) = shown_at(env, path) else {
                return format!("{}: not set", env.name);
            };
            let origin = value.origin();
            let by = if origin.span.file == hovered {
                "here".to_string()
            } else if *origin.env == *env.name {
                analysis.shown_place(origin.span)
            } else {
                format!("from {}", origin.env)
            };
            format!("{}: {shown} ({by})", env.name)
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn setting_hover(snapshot: &Snapshot, hovered: FileId, setting: &SettingAt) -> String {
    let path = &setting.path;
    let mut text = format!("**`{path}`**");
    let steps: Vec<&str> = setting.path.iter().map(String::as_str).collect();
    if let Some(property) = override_property(snapshot, setting) {
        text.push_str(&property);
    } else if let Some(schema) = SchemaAt::root(snapshot.analysis.env_schema()).path(&steps) {
        text.push_str(&reference_text(&schema));
    }
    let lineage = snapshot.analysis.lineage(&setting.env.name);
    text.push_str("\n\n");
    text.push_str(&values_line(snapshot, hovered, &lineage, &setting.path));
    text
}

/// For a property in an `override` block (`override.database.Instance.MaxAllocatedStorage`):
/// ` · integer · a property of `AWS::RDS::DBInstance``, from the resource as the latest full
/// check rendered it for the hovered environment, and its type's CloudFormation schema.
fn override_property(snapshot: &Snapshot, setting: &SettingAt) -> Option<String> {
    let [first, stack, id, property, ..] = &setting.path[..] else {
        return None;
    };
    if first != "override" {
        return None;
    }
    let key = (setting.env.name.clone(), stack.clone(), id.clone());
    let kind = snapshot.resource_types.get(&key)?;
    let json_type =
        envc_core::render::overrides::property_type(kind, property).unwrap_or("unknown");
    Some(format!(
        " · {json_type} · a property of `{kind}` (`{id}` of stack `{stack}`), as CloudFormation names it"
    ))
}

/// ` · string · default `x` · allowed …` and the description.
pub fn reference_text(schema: &SchemaAt) -> String {
    let mut text = format!(" · {}", schema.type_name());
    if let Some(default) = schema.default() {
        text.push_str(&format!(" · default `{default}`"));
    }
    let allowed = schema.allowed();
    if allowed != "—" {
        text.push_str(&format!(" · {allowed}"));
    }
    if let Some(description) = schema.description() {
        text.push_str(&format!("\n\n{description}"));
    }
    text
}

fn reference_hover(snapshot: &Snapshot, document: &Document, path: &str) -> Option<String> {
    let analysis = &snapshot.analysis;
    let env = analysis.env_of_file(document.file)?;
    let lineage = analysis.lineage(&env.name);
    let values = lineage
        .iter()
        .filter(|env| !env.is_abstract)
        .map(
            |env| match env.root.find(path).and_then(|p| shown_at(env, &p)) {
                Some((shown, _)) => format!("{}: {shown}", env.name),
                None => format!("{}: no such value", env.name),
            },
        )
        .collect::<Vec<_>>()
        .join(" · ");
    Some(format!("**`${{{path}}}`**\n\n{values}"))
}
