//! Rendered CloudFormation: parsed (short-form tags like `!Ref` included), checked, and
//! written back in one canonical form so golden diffs show only real changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, SourceMap, Span};

use super::yaml::{KeptTree, Mapping, ParseError, ReadTree, Yaml};

mod credentials;
mod sections;

use sections::{check_limits, check_numbers, check_outputs, check_sections};

/// CloudFormation quotas that a template must fit.
pub const MAX_BODY_BYTES: usize = 1_000_000;
/// Bodies above this size must be uploaded to S3 and passed as `TemplateURL`.
pub const MAX_INLINE_BODY_BYTES: usize = 51_200;
pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_PARAMETERS: usize = 200;
pub const MAX_LOGICAL_ID: usize = 255;

const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Byte ranges of names in a rendered template.
#[derive(Debug, Clone, Default)]
pub struct Places {
    pub exports: std::collections::HashMap<String, (usize, usize)>,
    pub imports: std::collections::HashMap<String, (usize, usize)>,
}

/// A parsed, checked template.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CfnTemplate {
    /// (logical id, type) of every resource, in template order.
    pub resources: Vec<(String, String)>,
    /// Names of its parameters (`ImageTag` where its containers run the environment's
    /// image).
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Names of its outputs (`TaskDefinitionArn` where it has a task to run).
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Export names of its outputs.
    pub exports: Vec<String>,
    /// Names it imports with `Fn::ImportValue` (literal names only).
    pub imports: Vec<String>,
    /// Where each export and each import name is in the rendered text (byte ranges), from
    /// the YAML tree; not kept in the cache, whose stacks are rendered again to report a
    /// problem.
    #[serde(skip, default)]
    pub places: Places,
}

/// Parses `text` (already in `sources` as `file`) and checks it; returns the template, its
/// canonical text, and its tree kept for the stages after render.
pub fn parse_and_check(
    text: &Arc<String>,
    file: FileId,
    sources: &SourceMap,
    project_written: bool,
    out: &mut Vec<Diagnostic>,
) -> Option<(CfnTemplate, String, KeptTree)> {
    let at = Locator {
        text,
        file,
        sources,
    };
    let read = ReadTree::read(text.clone(), |text| parse(text, file, out))?;
    let body = read.tree();
    let before = out.len();
    let Some(root) = body.as_mapping() else {
        out.push(
            Diagnostic::error(Code::CfnStructure, "the rendered template is not a mapping")
                .at(Span::new(file, 0, 0), "here")
                .help("a CloudFormation template is a mapping with `Resources`"),
        );
        return None;
    };
    check_sections(root, &at, out);
    check_numbers(text, body, &at, out);
    let section = |name: &str| root.get(name).and_then(Yaml::as_mapping);
    let (resources, outputs) = (section("Resources"), section("Outputs"));
    let known = Known {
        resources: names(resources),
        parameters: names(section("Parameters")),
        conditions: names(section("Conditions")),
    };
    check_resources(root, resources, &known, &at, out);
    // envc's own templates write no literal, only settings (whose credentials validation
    // refused); a template of the project's own may.
    if project_written {
        credentials::check_credentials(resources, outputs, &at, out);
    }
    let mut places = Places::default();
    let imports = check_references(body, &known, &at, &mut places, out);
    let exports = check_outputs(outputs, &at, &mut places, out);
    let template = CfnTemplate {
        resources: resources
            .into_iter()
            .flatten()
            .map(|(id, r)| {
                let kind = r.get("Type").and_then(Yaml::as_str).unwrap_or_default();
                (
                    id.as_str().unwrap_or_default().to_string(),
                    kind.to_string(),
                )
            })
            .collect(),
        parameters: known.parameters.iter().map(|p| p.to_string()).collect(),
        outputs: names(outputs).iter().map(|o| o.to_string()).collect(),
        exports,
        imports,
        places,
    };
    let (kept, canonical) = KeptTree::write(read);
    check_limits(&template, &canonical, file, out);
    if out.len() > before {
        return None;
    }
    Some((template, canonical, kept))
}

/// Where a node of the tree is in the rendered text. Problems are placed where the YAML tree
/// says the node is: the fast reader's scalars and keys are slices of `text`. Only a string
/// the reader had to rewrite (escapes) or a tree from serde_yaml_ng (YAML outside the fast
/// reader's subset) falls back to the first place the text appears.
struct Locator<'a> {
    text: &'a str,
    file: FileId,
    sources: &'a SourceMap,
}

impl Locator<'_> {
    fn at(&self, node: &str) -> Span {
        span_in(self.text, self.file, node).unwrap_or_else(|| locate(self.sources, self.file, node))
    }

    /// Records where `name` is, for the checks between stacks.
    fn place(&self, places: &mut std::collections::HashMap<String, (usize, usize)>, name: &str) {
        if let Some(span) = span_in(self.text, self.file, name) {
            places
                .entry(name.to_string())
                .or_insert((span.start, span.end));
        }
    }
}

/// The names a template defines, which its references must name.
struct Known<'v> {
    resources: BTreeSet<&'v str>,
    parameters: BTreeSet<&'v str>,
    conditions: BTreeSet<&'v str>,
}

/// The rendered text as YAML, or a located syntax error.
fn parse<'t>(text: &'t str, file: FileId, out: &mut Vec<Diagnostic>) -> Option<Yaml<'t>> {
    match super::yaml::parse(text) {
        Ok(body) => Some(body),
        Err(ParseError::KeyNotScalar) => {
            // An explicit key (`? `) is the usual way to write one; else the template's start.
            let span = explicit_key(text)
                .map(|at| Span::new(file, at, at + 1))
                .unwrap_or(Span::new(file, 0, 0));
            out.push(
                Diagnostic::error(
                    Code::CfnStructure,
                    "the rendered template has a key that is a list or a mapping",
                )
                .at(span, "a key that is not a string")
                .help("CloudFormation templates are JSON objects, whose keys are strings: write the key as a name or a quoted string"),
            );
            None
        }
        Err(ParseError::KeyTooLong) => {
            out.push(
                Diagnostic::error(
                    Code::CfnStructure,
                    format!(
                        "the rendered template has a key longer than {} characters",
                        super::yaml::MAX_KEY_LEN
                    ),
                )
                .at(Span::new(file, 0, 0), "in this template")
                .help("CloudFormation's names (logical ids, properties, tag keys) are far shorter: look for a value written as a key"),
            );
            None
        }
        Err(ParseError::TooDeep(at)) => {
            out.push(
                Diagnostic::error(
                    Code::RenderedYaml,
                    format!(
                        "the rendered template nests lists or mappings more than {} deep",
                        super::yaml::MAX_FLOW_NESTING
                    ),
                )
                .at(Span::new(file, at, at + 1), "one too deep")
                .help("no CloudFormation template nests so deep: look for a loop or a repeat (`\"[\" * n`) that writes brackets"),
            );
            None
        }
        Err(ParseError::Merge(error)) => {
            let span = text
                .find("<<:")
                .map(|at| Span::new(file, at, at + 2))
                .unwrap_or(Span::new(file, 0, 0));
            out.push(
                Diagnostic::error(
                    Code::RenderedYaml,
                    format!("the rendered template's merge key cannot be merged: {error}"),
                )
                .at(span, "this merge key")
                .help("a merge key takes a mapping or a list of mappings, like `<<: *defaults`"),
            );
            None
        }
        Err(ParseError::Syntax(error)) => {
            // A second document has no location in the error: it starts at its `---`.
            let second_document = || {
                let at = text.match_indices("\n---").next()?.0 + 1;
                Some(Span::new(file, at, at + 3))
            };
            let span = error
                .location()
                .map(|l| Span::new(file, l.index(), (l.index() + 1).min(text.len())))
                .or_else(second_document)
                .unwrap_or(Span::new(file, 0, 0));
            out.push(
                Diagnostic::error(
                    Code::RenderedYaml,
                    format!("the rendered template is not valid YAML: {error}"),
                )
                .at(span, "here")
                .help(
                    "a template probably inserted a value without `| tojson`, or broke indentation",
                ),
            );
            None
        }
    }
}

/// Where the first explicit key indicator (`? ` at the start of a line's content) is.
fn explicit_key(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_start_matches([' ', '-']);
        if content.starts_with("? ") || content.trim_end() == "?" {
            return Some(offset + line.len() - content.len());
        }
        offset += line.len();
    }
    None
}

/// `Resources` exist; each has a valid logical id and `Type`, and its `DependsOn` and
/// `Condition` name what the template defines.
fn check_resources(
    root: &Mapping,
    resources: Option<&Mapping>,
    known: &Known,
    at: &Locator,
    out: &mut Vec<Diagnostic>,
) {
    match resources {
        None => out.push(
            Diagnostic::error(
                Code::CfnStructure,
                "the rendered template has no `Resources`",
            )
            .at(Span::new(at.file, 0, 0), "here")
            .help("every CloudFormation template needs at least one resource"),
        ),
        Some(r) if r.is_empty() => out.push(
            Diagnostic::error(
                Code::CfnStructure,
                "the rendered template has an empty `Resources`",
            )
            .at(
                root.keys()
                    .filter_map(Yaml::as_str)
                    .find(|k| *k == "Resources")
                    .map_or(Span::new(at.file, 0, 0), |k| at.at(k)),
                "no resources",
            )
            .help("every CloudFormation template needs at least one resource"),
        ),
        Some(_) => {}
    }
    for (name, resource) in resources.into_iter().flatten() {
        match name.as_str() {
            Some(name) => check_resource(name, resource, known, at, out),
            // `null:` or `123:` reads as no name at all: shown as written.
            None => {
                let written = super::yaml::to_canonical_yaml(name);
                let written = written.trim_end();
                out.push(
                    Diagnostic::error(
                        Code::CfnStructure,
                        format!("`{written}` is not a valid logical id: it reads as a value, not a name"),
                    )
                    .at(at.at(&format!("{written}:")), "logical id")
                    .help("logical ids are 1 to 255 letters and digits"),
                );
            }
        }
    }
}

/// A resource has a valid logical id and `Type`, and its `DependsOn` and `Condition` name
/// what the template defines.
fn check_resource(
    name: &str,
    resource: &Yaml,
    known: &Known,
    at: &Locator,
    out: &mut Vec<Diagnostic>,
) {
    if name.len() > MAX_LOGICAL_ID
        || !name.chars().all(|c| c.is_ascii_alphanumeric())
        || name.is_empty()
    {
        out.push(
            Diagnostic::error(
                Code::CfnStructure,
                format!("`{name}` is not a valid logical id"),
            )
            .at(at.at(name), "logical id")
            .help("logical ids are 1 to 255 letters and digits"),
        );
    }
    match resource.get("Type").and_then(Yaml::as_str) {
        Some(t) if is_resource_type(t) => {}
        _ => out.push(
            Diagnostic::error(
                Code::CfnStructure,
                format!("resource `{name}` has no valid `Type`"),
            )
            .at(at.at(name), "this resource")
            .help("give it a type like `AWS::S3::Bucket`"),
        ),
    }
    if let Some(depends) = resource.get("DependsOn") {
        let targets: Vec<&str> = match depends {
            Yaml::String(s) => vec![s.as_ref()],
            Yaml::Sequence(items) => items.iter().filter_map(Yaml::as_str).collect(),
            _ => Vec::new(),
        };
        for target in targets {
            if !known.resources.contains(target) {
                out.push(dangling(
                    "DependsOn",
                    target,
                    at.at(target),
                    &known.resources,
                ));
            }
        }
    }
    if let Some(condition) = resource.get("Condition").and_then(Yaml::as_str) {
        if !known.conditions.contains(condition) {
            out.push(
                Diagnostic::error(
                    Code::DanglingRef,
                    format!("resource `{name}` uses condition `{condition}`, which is not defined"),
                )
                .at(at.at(condition), "unknown condition")
                .help("define it under `Conditions`"),
            );
        }
    }
}

/// Every `Ref`, `GetAtt` and `Sub` names what the template defines; returns the names it
/// imports (their places recorded).
fn check_references(
    body: &Yaml,
    known: &Known,
    at: &Locator,
    places: &mut Places,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let mut references = Vec::new();
    collect_references(body, &mut references);
    let defined = |name: &str| {
        known.resources.contains(name)
            || known.parameters.contains(name)
            || PSEUDO_PARAMETERS.contains(&name)
    };
    let mut imports = Vec::new();
    for reference in references {
        match reference {
            Reference::Ref(target) if !defined(target) => {
                out.push(dangling("Ref", target, at.at(target), &known.resources));
            }
            Reference::GetAtt(target) if !known.resources.contains(target) => {
                out.push(dangling("GetAtt", target, at.at(target), &known.resources));
            }
            Reference::Sub(target) => {
                let base = target.split('.').next().unwrap_or_default();
                if !defined(base) && !PSEUDO_PARAMETERS.contains(&target) {
                    out.push(dangling("Sub", target, at.at(target), &known.resources));
                }
            }
            Reference::Import(name) => {
                at.place(&mut places.imports, name);
                imports.push(name.to_string());
            }
            Reference::Tag(tag) => {
                let (help, suggestion) = crate::did_you_mean::suggestion(
                    tag,
                    FUNCTION_TAGS.iter().copied(),
                    || {
                        "the short forms of CloudFormation's functions are `!Ref`, `!GetAtt`, `!Sub`, `!Join`, `!If`, …".to_string()
                    },
                );
                out.push(
                    Diagnostic::error(
                        Code::CfnStructure,
                        format!("`{tag}` is not a CloudFormation function"),
                    )
                    .at(at.at(tag), "CloudFormation refuses this tag")
                    .help(help)
                    .suggest(suggestion),
                );
            }
            Reference::Ref(_) | Reference::GetAtt(_) => {}
        }
    }
    imports
}

/// The string keys of a template section.
fn names<'v>(section: Option<&'v Mapping>) -> BTreeSet<&'v str> {
    section
        .map(|s| s.keys().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

fn is_resource_type(t: &str) -> bool {
    let parts: Vec<&str> = t.split("::").collect();
    (parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())))
        || (t.starts_with("Custom::") && t.len() > 8)
}

fn dangling(function: &str, target: &str, span: Span, resources: &BTreeSet<&str>) -> Diagnostic {
    let help = crate::did_you_mean::did_you_mean(target, resources.iter().copied())
        .unwrap_or_else(|| "refer to a resource or parameter this template defines".to_string());
    Diagnostic::error(
        Code::DanglingRef,
        format!("`{function}` to `{target}`, which this template does not define"),
    )
    .at(span, "dangling reference")
    .help(help)
}

/// Where `part`, a slice of `text` (a scalar or key the YAML tree borrowed from it), lies.
/// `None` for a string that is not such a slice.
fn span_in(text: &str, file: FileId, part: &str) -> Option<Span> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    (start + part.len() <= text.len()).then(|| Span::new(file, start, start + part.len()))
}

/// The first place `needle` appears in the rendered text, or an empty span at its start.
fn locate(sources: &SourceMap, file: FileId, needle: &str) -> Span {
    let text = &sources.file(file).text;
    match text.find(needle) {
        Some(at) => Span::new(file, at, at + needle.len()),
        None => Span::new(file, 0, 0),
    }
}

/// What a value refers to: a resource or parameter of its template, or another stack's export.
pub(crate) enum Reference<'v> {
    Ref(&'v str),
    GetAtt(&'v str),
    Sub(&'v str),
    Import(&'v str),
    /// A tag that is no function's short form (`!Rfe`), as written.
    Tag(&'v str),
}

/// The short forms of CloudFormation's functions (with the `AWS::LanguageExtensions`
/// transform's), the only tags a template may hold.
const FUNCTION_TAGS: &[&str] = &[
    "!And",
    "!Base64",
    "!Cidr",
    "!Condition",
    "!Equals",
    "!FindInMap",
    "!GetAZs",
    "!GetAtt",
    "!If",
    "!ImportValue",
    "!Join",
    "!Length",
    "!Not",
    "!Or",
    "!Ref",
    "!Select",
    "!Split",
    "!Sub",
    "!ToJsonString",
    "!Transform",
];

/// The intrinsic function a node is, in short (`!Ref x`) or long (`Ref: x`) form.
fn intrinsic<'v>(value: &'v Yaml) -> Option<(&'v str, &'v Yaml<'v>)> {
    match value {
        Yaml::Tagged(tag, argument) => {
            let name = match tag.trim_start_matches('!') {
                "Ref" => "Ref",
                "Condition" => "Condition",
                "GetAtt" => "Fn::GetAtt",
                "Sub" => "Fn::Sub",
                "ImportValue" => "Fn::ImportValue",
                // Other functions are walked for references but not checked by name.
                _ => "Fn::Other",
            };
            if name == "Fn::Other" && !FUNCTION_TAGS.contains(&tag.as_ref()) {
                return Some(("Tag", value));
            }
            Some((name, argument))
        }
        Yaml::Mapping(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key.starts_with("Fn::")).then_some((key, inner))
        }
        _ => None,
    }
}

/// Every reference in `value` (`Sub` names as written, `X.Attr` included).
pub(crate) fn collect_references<'v>(value: &'v Yaml, out: &mut Vec<Reference<'v>>) {
    if let Some((function, argument)) = intrinsic(value) {
        match function {
            "Ref" => {
                if let Some(target) = argument.as_str() {
                    out.push(Reference::Ref(target));
                }
            }
            "Fn::GetAtt" => {
                let target = match argument {
                    Yaml::String(s) => s.split('.').next(),
                    Yaml::Sequence(items) => items.first().and_then(Yaml::as_str),
                    _ => None,
                };
                if let Some(target) = target {
                    out.push(Reference::GetAtt(target));
                }
            }
            "Fn::Sub" => {
                let (text, variables) = match argument {
                    Yaml::String(s) => (Some(s.as_ref()), None),
                    Yaml::Sequence(items) => (
                        items.first().and_then(Yaml::as_str),
                        items.get(1).and_then(Yaml::as_mapping),
                    ),
                    _ => (None, None),
                };
                if let Some(text) = text {
                    for name in sub_variables(text) {
                        let bound = variables.is_some_and(|v| v.contains_key(name));
                        if !bound {
                            out.push(Reference::Sub(name));
                        }
                    }
                }
                if let Some(variables) = variables {
                    for (_, v) in variables {
                        collect_references(v, out);
                    }
                }
                return;
            }
            "Fn::ImportValue" => {
                if let Some(name) = argument.as_str() {
                    out.push(Reference::Import(name));
                }
            }
            "Tag" => {
                if let Yaml::Tagged(tag, inner) = value {
                    out.push(Reference::Tag(tag));
                    collect_references(inner, out);
                }
                return;
            }
            _ => {}
        }
        collect_references(argument, out);
        return;
    }
    match value {
        Yaml::Mapping(map) => {
            for (_, v) in map {
                collect_references(v, out);
            }
        }
        Yaml::Sequence(items) => {
            for v in items {
                collect_references(v, out);
            }
        }
        Yaml::Tagged(_, argument) => collect_references(argument, out),
        _ => {}
    }
}

/// `${Name}` and `${Name.Attr}` in a `Fn::Sub` string; `${!Literal}` is not a variable.
fn sub_variables(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') && !name.is_empty() {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Option<CfnTemplate>, Vec<Diagnostic>) {
        let mut sources = SourceMap::default();
        let file = sources.add("t.yaml", text.to_string());
        let mut out = Vec::new();
        let text = sources.file(file).text.clone();
        let result = parse_and_check(&text, file, &sources, true, &mut out).map(|(t, ..)| t);
        (result, out)
    }

    #[test]
    fn accepts_short_and_long_forms() {
        let (template, problems) = check(
            "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n  Policy:\n    Type: AWS::S3::BucketPolicy\n    DependsOn: Bucket\n    Properties:\n      Bucket: !Ref Bucket\n      Other: {\"Fn::GetAtt\": [Bucket, Arn]}\n      Text: !Sub \"${Bucket}-${AWS::Region}-${!Literal}\"\n      Vpc: !ImportValue demo-dev-network-VpcId\nOutputs:\n  Name:\n    Value: !Ref Bucket\n    Export:\n      Name: demo-dev-s3-Name\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let template = template.unwrap();
        assert_eq!(template.exports, vec!["demo-dev-s3-Name"]);
        assert_eq!(template.imports, vec!["demo-dev-network-VpcId"]);
    }

    #[test]
    fn finds_dangling_references() {
        let (_, problems) = check(
            "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: !Ref Buckett\n      B: !GetAtt Missing.Arn\n      C: !Sub \"${Nope}\"\n    DependsOn: [Gone]\n",
        );
        let codes: Vec<Code> = problems.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::DanglingRef; 4], "{problems:#?}");
        assert_eq!(
            problems
                .iter()
                .filter(|d| d.help.as_deref() == Some("did you mean `Bucket`?"))
                .count(),
            1
        );
    }

    #[test]
    fn structure_problems() {
        let (_, problems) = check("Resources:\n  X:\n    Properties: {}\n");
        assert_eq!(problems[0].code, Code::CfnStructure);
        let (_, problems) = check("Outputs: {}\n");
        assert_eq!(problems[0].code, Code::CfnStructure);
    }
}
