//! The kdl crate's nodes as envc's [`Node`]s: spans counted from the start of the file, merge
//! annotations read, and what KDL allows but envc does not (value annotations, integers past
//! 64 bits, a property given twice) reported.

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::source::{FileId, Span};

use super::ast::{Argument, MergeMode, Node, Property, Scalar};

/// The kdl crate's nodes of one top-level chunk of a file as envc's.
pub(super) struct Converter<'a> {
    pub file: FileId,
    pub text: &'a str,
    /// Where the chunk starts in `text`: the kdl crate's spans count from there.
    pub offset: usize,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl Converter<'_> {
    fn span(&self, span: miette::SourceSpan) -> Span {
        Span::from_miette(self.file, span).shifted(self.offset)
    }

    pub fn document(&mut self, document: &kdl::KdlDocument) -> Vec<Node> {
        document.nodes().iter().map(|n| self.node(n)).collect()
    }

    fn node(&mut self, node: &kdl::KdlNode) -> Node {
        let (mode, mode_span) = self.merge_mode(node);
        let (args, props) = self.entries(node);
        let children = node
            .children()
            .map(|doc| doc.nodes().iter().map(|n| self.node(n)).collect());
        let node_span = self.span(node.span());
        Node {
            name: node.name().value().to_string(),
            name_span: self.span(node.name().span()),
            mode,
            mode_span,
            args,
            props,
            children,
            span: node_span,
        }
    }

    /// The merge mode a node's annotation (`(replace)`) asks for, and where it is written.
    fn merge_mode(&mut self, node: &kdl::KdlNode) -> (MergeMode, Option<Span>) {
        let mut mode = MergeMode::Merge;
        let mut mode_span = None;
        if let Some(ty) = node.ty() {
            let span = self.span(ty.span());
            mode_span = Some(span);
            match MergeMode::from_annotation(ty.value()) {
                Some(m) => mode = m,
                None => self.diagnostics.push({
                    let (help, suggestion) =
                        suggestion(ty.value(), MergeMode::ANNOTATIONS.iter().copied(), || {
                            "envc knows `(replace)`, `(remove)` and `(append)`".to_string()
                        });
                    Diagnostic::error(
                        Code::UnknownAnnotation,
                        format!("unknown annotation `({})`", ty.value()),
                    )
                    .at(span, "not an envc annotation")
                    .help(help)
                    .suggest(suggestion)
                }),
            }
        }
        (mode, mode_span)
    }

    /// A node's arguments and properties, in order; a property given again is reported and
    /// left out.
    fn entries(&mut self, node: &kdl::KdlNode) -> (Vec<Argument>, Vec<Property>) {
        let mut args = Vec::new();
        let mut props: Vec<Property> = Vec::new();
        for entry in node.entries() {
            let value = scalar(entry.value());
            let span = self.span(entry.span());
            self.check_entry(entry, span);
            match entry.name() {
                None => args.push(Argument { value, span }),
                Some(name) => {
                    let name_span = self.span(name.span());
                    let value_span = self.value_span(entry, span, name_span);
                    if let Some(first) = props.iter().find(|p| p.name == name.value()) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                Code::DuplicateProperty,
                                format!("property `{}` is given twice", name.value()),
                            )
                            .at(name_span, "given again here")
                            .also(first.name_span, "first given here")
                            .help("keep one of them"),
                        );
                        continue;
                    }
                    props.push(Property {
                        name: name.value().to_string(),
                        name_span,
                        value,
                        value_span,
                    });
                }
            }
        }
        (args, props)
    }

    /// Reports a value annotation (envc has none) and an integer that does not fit in 64 bits.
    fn check_entry(&mut self, entry: &kdl::KdlEntry, span: Span) {
        if let Some(ty) = entry.ty() {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::UnknownAnnotation,
                    format!(
                        "envc does not use value annotations like `({})`",
                        ty.value()
                    ),
                )
                .at(self.span(ty.span()), "remove this annotation")
                .help("merge annotations go before the node name: `(replace)network { … }`"),
            );
        }
        if let kdl::KdlValue::Integer(i) = entry.value() {
            if i64::try_from(*i).is_err() {
                self.diagnostics.push(
                    Diagnostic::error(Code::Number, "this number is too large")
                        .at(span, "it does not fit in 64 bits")
                        .help("write a number within the setting's range"),
                );
            }
        }
    }

    /// The span of the value in `name=value`: the value as written ends the entry.
    fn value_span(&self, entry: &kdl::KdlEntry, entry_span: Span, name: Span) -> Span {
        let written = entry.format().map_or(0, |f| f.value_repr.len());
        let start = if written > 0 && entry_span.end >= name.end + written {
            entry_span.end - written
        } else {
            // Without the written form: after the `=` and any spaces.
            let rest = self.text.get(name.end..entry_span.end).unwrap_or("");
            rest.find('=')
                .map(|eq| {
                    let value = rest[eq + 1..].trim_start();
                    entry_span.end - value.len()
                })
                .unwrap_or(name.end)
        };
        Span::new(self.file, start, entry_span.end)
    }
}

fn scalar(value: &kdl::KdlValue) -> Scalar {
    match value {
        kdl::KdlValue::String(s) => Scalar::String(s.clone()),
        kdl::KdlValue::Integer(i) => i64::try_from(*i)
            .map(Scalar::Integer)
            .unwrap_or(Scalar::Float(*i as f64)),
        kdl::KdlValue::Float(f) => Scalar::Float(*f),
        kdl::KdlValue::Bool(b) => Scalar::Bool(*b),
        kdl::KdlValue::Null => Scalar::Null,
    }
}
