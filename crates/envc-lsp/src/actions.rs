//! Code actions: the did-you-mean of a diagnostic as a fix, and "move this value to the
//! parent" when every child of the parent sets the same value.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse,
    TextEdit, WorkspaceEdit,
};

use super::analysis::{shown_at, Analysis};
use super::{Document, Snapshot};
use envc_core::docs::SchemaAt;
use envc_core::parse::Node;
use envc_core::source::{FileId, Span};

pub fn code_actions(snapshot: &Snapshot, params: &CodeActionParams) -> Option<CodeActionResponse> {
    let document = snapshot.document(&params.text_document.uri)?;
    let start = snapshot.offset(&document, params.range.start);
    let end = snapshot.offset(&document, params.range.end);
    let mut actions = suggestion_fixes(snapshot, &document, start, end);
    actions.extend(move_to_parent(snapshot, &document, start));
    Some(actions)
}

// `WorkspaceEdit` keys its changes by `Uri`, whose cached parts clippy takes for mutable.
#[allow(clippy::mutable_key_type)]
fn workspace_edit(changes: Vec<(Span, String)>, snapshot: &Snapshot) -> WorkspaceEdit {
    let mut by_file: HashMap<lsp_types::Uri, Vec<TextEdit>> = HashMap::new();
    for (span, text) in changes {
        let location = snapshot.location(span);
        by_file
            .entry(location.uri)
            .or_default()
            .push(TextEdit::new(location.range, text));
    }
    WorkspaceEdit {
        changes: Some(by_file),
        ..WorkspaceEdit::default()
    }
}

/// Each problem in the range with a likely meaning: write that instead.
fn suggestion_fixes(
    snapshot: &Snapshot,
    document: &Document,
    start: usize,
    end: usize,
) -> Vec<CodeActionOrCommand> {
    let analysis = &snapshot.analysis;
    analysis
        .checked
        .diagnostics
        .iter()
        .filter_map(|diagnostic| {
            let suggestion = diagnostic.suggestion.as_ref()?;
            let span = diagnostic.primary.as_ref()?.span;
            let touches = span.file == document.file && span.start <= end && start <= span.end;
            if !touches {
                return None;
            }
            let written = analysis.checked.sources.text(span);
            let replacement = written_like(written, suggestion);
            let title = format!("Change to `{}`", analysis.mask(suggestion));
            let edit = workspace_edit(vec![(span, replacement)], snapshot);
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                edit: Some(edit),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}

/// `name` written the way `written` was: quoted, as a `${ref}`, or bare.
fn written_like(written: &str, name: &str) -> String {
    if written.starts_with("${") {
        format!("${{{name}}}")
    } else if written.starts_with('"') {
        format!("{name:?}")
    } else {
        name.to_string()
    }
}

/// The node whose name is at `name_span`, searched through `nodes` and their children, with
/// its depth.
fn node_named_at(nodes: &[Node], name_span: Span, depth: usize) -> Option<(&Node, usize)> {
    nodes.iter().find_map(|node| {
        if node.name_span == name_span {
            return Some((node, depth));
        }
        node.children
            .as_deref()
            .and_then(|children| node_named_at(children, name_span, depth + 1))
    })
}

/// Whether `parent`'s children all write the setting at `path` themselves, as a node, with
/// one value: each child's node.
fn same_in_every_child<'a>(
    analysis: &'a Analysis,
    parent: &str,
    path: &[String],
) -> Option<Vec<&'a Node>> {
    let children = analysis.children(parent);
    let mut shown_values = Vec::new();
    let mut nodes = Vec::new();
    for child in &children {
        let env = analysis.checked.resolved.env(&child.name)?;
        let entry = super::analysis::entry_at(env, path)?;
        if entry.value.origin().span.file != child.file {
            return None;
        }
        let (node, _) = node_named_at(&child.nodes, entry.key_span, 0)?;
        if node.children.is_some() {
            return None;
        }
        shown_values.push(shown_at(env, path)?.0);
        nodes.push(node);
    }
    shown_values.dedup();
    (shown_values.len() == 1).then_some(nodes)
}

fn move_to_parent(
    snapshot: &Snapshot,
    document: &Document,
    offset: usize,
) -> Vec<CodeActionOrCommand> {
    let analysis = &snapshot.analysis;
    let found = (|| {
        let setting = analysis.setting_at(document.file, offset)?;
        let own = analysis.env_file(&setting.env.name)?;
        let parent = own.extends.as_ref()?.name.clone();
        let parent_file = analysis.env_file(&parent)?;
        let nodes = same_in_every_child(analysis, &parent, &setting.path)?;
        let moved = analysis.checked.sources.text(nodes[0].span).to_string();
        let mut changes: Vec<(Span, String)> = nodes
            .iter()
            .map(|node| (whole_lines(analysis, node.span), String::new()))
            .collect();
        changes.push(insertion(
            analysis,
            parent_file.file,
            &parent_file.nodes,
            &setting.path,
            &moved,
        )?);
        Some((parent, changes))
    })();
    let Some((parent, changes)) = found else {
        return Vec::new();
    };
    vec![CodeActionOrCommand::CodeAction(CodeAction {
        title: format!("Move this value to `{parent}` (every environment extending it sets it)"),
        kind: Some(CodeActionKind::REFACTOR_REWRITE),
        edit: Some(workspace_edit(changes, snapshot)),
        ..CodeAction::default()
    })]
}

/// `span` widened to its whole lines, line break included, when nothing else is on them.
fn whole_lines(analysis: &Analysis, span: Span) -> Span {
    let text = analysis.text(span.file);
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i + 1);
    let alone = text[line_start..span.start].trim().is_empty()
        && text[span.end..line_end].trim().is_empty();
    if alone {
        Span::new(span.file, line_start, line_end)
    } else {
        span
    }
}

/// The steps of `path` as nodes: a keyed block's key goes with its name.
fn node_steps(analysis: &Analysis, path: &[String]) -> Option<Vec<(String, Option<String>)>> {
    let mut at = SchemaAt::root(analysis.env_schema());
    let mut steps = Vec::new();
    let mut rest = path.iter();
    while let Some(name) = rest.next() {
        at = at.child(name)?;
        if at.is_keyed() {
            let key = rest.next()?;
            at = at.child(key)?;
            steps.push((name.clone(), Some(key.clone())));
        } else {
            steps.push((name.clone(), None));
        }
    }
    Some(steps)
}

/// Where and what to write in the parent's file: the node in place of the parent's own, or
/// inside the deepest block of the path the parent has, with the blocks it lacks.
fn insertion(
    analysis: &Analysis,
    file: FileId,
    nodes: &[Node],
    path: &[String],
    moved: &str,
) -> Option<(Span, String)> {
    let steps = node_steps(analysis, path)?;
    let (leaf, blocks) = steps.split_last()?;
    let mut level = nodes;
    let mut container: Option<&Node> = None;
    let mut depth = 0;
    for (name, key) in blocks {
        let Some(found) = find_node(level, name, key.as_deref()) else {
            break;
        };
        container = Some(found);
        level = found.children.as_deref().unwrap_or(&[]);
        depth += 1;
    }
    if depth == blocks.len() {
        if let Some(existing) = find_node(level, &leaf.0, leaf.1.as_deref()) {
            return Some((existing.span, moved.to_string()));
        }
    }
    let indent = |d: usize| "    ".repeat(d);
    let mut text = String::new();
    for (i, (name, key)) in blocks[depth..].iter().enumerate() {
        let key = key.as_ref().map(|k| format!(" {k:?}")).unwrap_or_default();
        text.push_str(&format!("{}{name}{key} {{\n", indent(depth + i)));
    }
    text.push_str(&format!("{}{moved}\n", indent(blocks.len())));
    for i in (depth..blocks.len()).rev() {
        text.push_str(&format!("{}}}\n", indent(i)));
    }
    let source = analysis.text(file);
    let at = match container {
        Some(block) => {
            let close = block.span.start + source[block.span.start..block.span.end].rfind('}')?;
            source[..close].rfind('\n').map_or(0, |i| i + 1)
        }
        None => {
            if !source.ends_with('\n') && !source.is_empty() {
                text.insert(0, '\n');
            }
            source.len()
        }
    };
    Some((Span::new(file, at, at), text))
}

fn find_node<'a>(nodes: &'a [Node], name: &str, key: Option<&str>) -> Option<&'a Node> {
    nodes.iter().find(|n| {
        n.name == name
            && key.is_none_or(|k| n.args.first().and_then(|a| a.value.as_str()) == Some(k))
    })
}
