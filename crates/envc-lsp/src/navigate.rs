//! Navigation: from `extends "x"` (or `zone-owner "x"`) to that environment's file, from a
//! `${ref}` to where its value is set, from a setting to the places that override it in the
//! environments that inherit it; and the references of an environment.

use lsp_types::{GotoDefinitionParams, GotoDefinitionResponse, Location, ReferenceParams};

use super::analysis::entry_at;
use super::hover::reference_at;
use super::{Document, Snapshot};
use envc_core::source::Span;

pub fn definition(
    snapshot: &Snapshot,
    params: &GotoDefinitionParams,
) -> Option<GotoDefinitionResponse> {
    let place = &params.text_document_position_params;
    let document = snapshot.document(&place.text_document.uri)?;
    let offset = snapshot.offset(&document, place.position);
    let analysis = &snapshot.analysis;
    if let Some(name) = env_named_at(snapshot, &document, offset) {
        let file = analysis.env_file(&name)?.file;
        return Some(GotoDefinitionResponse::Scalar(
            snapshot.location(Span::new(file, 0, 0)),
        ));
    }
    let env = analysis.env_of_file(document.file)?;
    if let Some((path, _, _)) = reference_at(document.text, offset) {
        let found = analysis
            .lineage(&env.name)
            .into_iter()
            .find_map(|e| entry_at(e, &e.root.find(path)?))?;
        return Some(GotoDefinitionResponse::Scalar(
            snapshot.location(found.value.origin().span),
        ));
    }
    let setting = analysis.setting_at(document.file, offset)?;
    let overrides: Vec<Location> = analysis
        .lineage(&env.name)
        .into_iter()
        .skip(1)
        .filter_map(|heir| {
            let entry = entry_at(heir, &setting.path)?;
            let span = entry.value.origin().span;
            (span.file == heir.file).then(|| {
                let key = entry.key_span;
                snapshot.location(if key.file == heir.file { key } else { span })
            })
        })
        .collect();
    (!overrides.is_empty()).then_some(GotoDefinitionResponse::Array(overrides))
}

/// The environment named where `offset` is: the parent in `extends`, or a `zone-owner`.
fn env_named_at(snapshot: &Snapshot, document: &Document, offset: usize) -> Option<String> {
    let analysis = &snapshot.analysis;
    let own = analysis
        .checked
        .parsed
        .envs
        .iter()
        .find(|e| e.file == document.file)?;
    if let Some(parent) = own.extends.as_ref() {
        if parent.span.start <= offset && offset <= parent.span.end {
            return Some(parent.name.clone());
        }
    }
    let setting = analysis.setting_at(document.file, offset)?;
    if setting.path.last().map(String::as_str) != Some("zone-owner") {
        return None;
    }
    match &setting.entry.value {
        envc_core::resolve::Value::Scalar(s) => s.value.as_str().map(str::to_string),
        _ => None,
    }
}

/// Where an environment is named: the `extends` of its children and the `zone-owner`s
/// naming it (and its file, when the client asks for the declaration).
pub fn references(snapshot: &Snapshot, params: &ReferenceParams) -> Option<Vec<Location>> {
    let place = &params.text_document_position;
    let document = snapshot.document(&place.text_document.uri)?;
    let offset = snapshot.offset(&document, place.position);
    let analysis = &snapshot.analysis;
    let name = match env_named_at(snapshot, &document, offset) {
        Some(name) => name,
        None => analysis.env_of_file(document.file)?.name.clone(),
    };
    let mut spans: Vec<Span> = analysis
        .children(&name)
        .iter()
        .filter_map(|child| child.extends.as_ref().map(|p| p.span))
        .collect();
    let zone_owner = ["dns".to_string(), "zone-owner".to_string()];
    for env in &analysis.checked.resolved.envs {
        if let Some(entry) = entry_at(env, &zone_owner) {
            let origin = entry.value.origin();
            let names_it = matches!(&entry.value, envc_core::resolve::Value::Scalar(s) if s.value.as_str() == Some(&name));
            if names_it && !spans.contains(&origin.span) {
                spans.push(origin.span);
            }
        }
    }
    if params.context.include_declaration {
        if let Some(file) = analysis.env_file(&name) {
            spans.insert(0, Span::new(file.file, 0, 0));
        }
    }
    Some(spans.into_iter().map(|s| snapshot.location(s)).collect())
}
