//! A template's sections: only those CloudFormation knows, each a mapping; outputs with
//! valid ids, a `Value` and an export name; numbers JSON can hold; and CloudFormation's
//! limits on one template.

use super::{CfnTemplate, Locator, Places};
use crate::diagnostic::{Code, Diagnostic};
use crate::render::yaml::{Mapping, Yaml};
use crate::source::{FileId, Span};

use super::{MAX_BODY_BYTES, MAX_LOGICAL_ID, MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES};

/// The top-level sections of a template (the CloudFormation User Guide's "Template
/// anatomy"), and whether each holds a mapping.
const SECTIONS: &[(&str, bool)] = &[
    ("AWSTemplateFormatVersion", false),
    ("Description", false),
    ("Metadata", true),
    ("Parameters", true),
    ("Rules", true),
    ("Mappings", true),
    ("Conditions", true),
    ("Transform", false),
    ("Resources", true),
    ("Outputs", true),
];

/// Every top-level key is a section CloudFormation knows, and those that hold entries are
/// mappings (a `Resourcez` or an `Outputs` list would be refused by CloudFormation, or
/// read as nothing here).
pub(super) fn check_sections(root: &Mapping, at: &Locator, out: &mut Vec<Diagnostic>) {
    for (key, value) in root.iter() {
        let Some(name) = key.as_str() else { continue };
        match SECTIONS.iter().find(|(section, _)| *section == name) {
            None => {
                let known = SECTIONS.iter().map(|(section, _)| *section);
                let help =
                    crate::did_you_mean::did_you_mean(name, known.clone()).unwrap_or_else(|| {
                        format!(
                            "a template's sections are {}",
                            known.collect::<Vec<_>>().join(", ")
                        )
                    });
                out.push(
                    Diagnostic::error(
                        Code::CfnStructure,
                        format!("the rendered template has a section `{name}` CloudFormation does not know"),
                    )
                    .at(at.at(name), "not a template section")
                    .help(help),
                );
            }
            Some((_, true)) if value.as_mapping().is_none() && *value != Yaml::Null => out.push(
                Diagnostic::error(
                    Code::CfnStructure,
                    format!("the rendered template's `{name}` is not a mapping of names"),
                )
                .at(at.at(name), "this section")
                .help(format!(
                    "write `{name}` as `Name:` entries, one per line under it"
                )),
            ),
            Some(_) => {}
        }
    }
}

/// Every output has a valid id and a `Value`, an export has a name, and export names are
/// unique; returns the export names (their places recorded).
pub(super) fn check_outputs(
    outputs: Option<&Mapping>,
    at: &Locator,
    places: &mut Places,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut exports: Vec<String> = Vec::new();
    for (name, output) in outputs.into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        if name.is_empty()
            || name.len() > MAX_LOGICAL_ID
            || !name.chars().all(|c| c.is_ascii_alphanumeric())
        {
            out.push(
                Diagnostic::error(
                    Code::CfnStructure,
                    format!("`{name}` is not a valid output id"),
                )
                .at(at.at(name), "output id")
                .help("output ids are 1 to 255 letters and digits"),
            );
        }
        if output.get("Value").is_none() {
            out.push(
                Diagnostic::error(
                    Code::CfnStructure,
                    format!("output `{name}` has no `Value`"),
                )
                .at(at.at(name), "this output")
                .help("give every output a `Value`"),
            );
        }
        if let Some(export) = output.get("Export") {
            // A name, or an intrinsic function that makes one; not nothing.
            let unnamed = match export.get("Name") {
                None | Some(Yaml::Null) => true,
                Some(Yaml::String(name)) => name.is_empty(),
                Some(_) => false,
            };
            if unnamed {
                out.push(
                    Diagnostic::error(
                        Code::CfnStructure,
                        format!("output `{name}` exports without a name"),
                    )
                    .at(at.at(name), "this output")
                    .help("give its `Export` a `Name`, like `Name: {{ export_name(\"VpcId\") }}`"),
                );
            }
        }
        let export = output
            .get("Export")
            .and_then(|e| e.get("Name"))
            .and_then(Yaml::as_str);
        if let Some(export) = export {
            if exports.iter().any(|e| e == export) {
                out.push(
                    Diagnostic::error(
                        Code::DuplicateExport,
                        format!("export `{export}` is declared twice"),
                    )
                    .at(at.at(export), "declared again")
                    .help("export names are unique per account and region"),
                );
            }
            at.place(&mut places.exports, export);
            exports.push(export.to_string());
        }
    }
    exports
}

/// CloudFormation's limits on one template.
pub(super) fn check_limits(
    template: &CfnTemplate,
    canonical: &str,
    file: FileId,
    out: &mut Vec<Diagnostic>,
) {
    let limits = [
        ("resources", template.resources.len(), MAX_RESOURCES),
        ("outputs", template.outputs.len(), MAX_OUTPUTS),
        ("parameters", template.parameters.len(), MAX_PARAMETERS),
        ("bytes", canonical.len(), MAX_BODY_BYTES),
    ];
    for (what, count, limit) in limits {
        if count > limit {
            out.push(
                Diagnostic::error(
                    Code::CfnLimit,
                    format!("the template has {count} {what}; CloudFormation allows {limit}"),
                )
                .at(Span::new(file, 0, 0), "this template")
                .help("split the stack in two"),
            );
        }
    }
}

/// No number is NaN or infinite (`.nan`, `.inf`): CloudFormation reads templates as JSON,
/// which has neither. Looked for only in text that writes one.
pub(super) fn check_numbers(text: &str, body: &Yaml, at: &Locator, out: &mut Vec<Diagnostic>) {
    const WRITTEN: &[&str] = &[".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"];
    // One pass over the text for its `.`s, not one search per spelling: this runs on every
    // rendered template.
    let bytes = text.as_bytes();
    let Some(written) = memchr::memchr_iter(b'.', bytes).find_map(|at| {
        WRITTEN
            .iter()
            .find(|w| bytes[at..].starts_with(w.as_bytes()))
    }) else {
        return;
    };
    if has_non_finite(body) {
        out.push(
            Diagnostic::error(
                Code::CfnStructure,
                "the rendered template has a number that is NaN or infinite",
            )
            .at(at.at(written), "not a number JSON can hold")
            .help("CloudFormation reads templates as JSON, which has no NaN or infinity: write a number, or a string if text was meant"),
        );
    }
}

fn has_non_finite(value: &Yaml) -> bool {
    match value {
        Yaml::Number(n) => n.as_f64().is_some_and(|f| !f.is_finite()),
        Yaml::Sequence(items) => items.iter().any(has_non_finite),
        Yaml::Mapping(map) => map.iter().any(|(_, v)| has_non_finite(v)),
        Yaml::Tagged(_, inner) => has_non_finite(inner),
        _ => false,
    }
}
