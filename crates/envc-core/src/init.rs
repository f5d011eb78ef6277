//! Scaffolding: `envc init` makes a new project from a starter, one per reference system
//! (their files are the example projects', so the starters stay as checked as the examples),
//! and `envc new-kind` adds a project kind. Both write only new files, never over a file
//! that exists, all of them or none, and a project `init` makes passes `check`.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceMap;

/// A starter: the files of a new project, as (path, text).
pub struct Starter {
    pub name: &'static str,
    pub about: &'static str,
    files: &'static [(&'static str, &'static str)],
}

macro_rules! starter_files {
    ($dir:literal: $($path:literal <- $from:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../", $dir, $from))),)*]
    };
}

pub const STARTERS: &[Starter] = &[
    Starter {
        name: "graphql-api",
        about: "reference system 1: a Fargate API and queue worker, RDS PostgreSQL, DNS, WAF, alarms and a CI role",
        files: starter_files!("": "stacks.kdl" <- "stacks.kdl", "env/base.kdl" <- "env/base.kdl", "env/dev.kdl" <- "env/dev.kdl", "env/prod.kdl" <- "env/prod.kdl"),
    },
    Starter {
        name: "fargate-lambda-aurora",
        about: "reference system 2: Fargate services, Lambda SQS workers and Aurora Serverless v2",
        files: starter_files!("examples/fargate-lambda-aurora/": "stacks.kdl" <- "stacks.kdl", "env/base.kdl" <- "env/base.kdl", "env/dev.kdl" <- "env/dev.kdl", "env/prod.kdl" <- "env/prod.kdl"),
    },
    Starter {
        name: "existing-vpc-aurora",
        about: "reference system 3: an API in an existing VPC, zone and certificate, with Aurora scaling to zero",
        files: starter_files!("examples/existing-vpc-aurora/": "stacks.kdl" <- "stacks.kdl", "env/base.kdl" <- "env/base.kdl", "env/dev.kdl" <- "env/dev.kdl", "env/prod.kdl" <- "env/prd.kdl"),
    },
    Starter {
        name: "wallet-service",
        about: "reference system 4: Fargate with RDS, VPC endpoints instead of NAT, alarms and a migration task",
        files: starter_files!("examples/wallet-service/": "stacks.kdl" <- "stacks.kdl", "env/base.kdl" <- "env/base.kdl", "env/dev.kdl" <- "env/dev.kdl", "env/prod.kdl" <- "env/prod.kdl"),
    },
];

const GITIGNORE: &str = "# envc's caches (`envc --no-cache` runs without them)\n.envc/\n";

/// The pull-request workflow (`docs/github-workflow.yml`): `check` with annotations and one
/// comment of what the change does in AWS.
const WORKFLOW: (&str, &str) = (
    ".github/workflows/envc.yml",
    include_str!("../../../docs/github-workflow.yml"),
);

/// The files of a new project in `dir` from `starter`, named `project`, as paths relative
/// to `dir` and their texts. Refuses a folder that already holds a project.
pub fn starter_files(
    dir: &Path,
    starter: &Starter,
    project: &str,
) -> Result<Vec<(PathBuf, String)>, Diagnostic> {
    check_project_name(project)?;
    for taken in ["stacks.kdl", "env"] {
        if std::fs::symlink_metadata(dir.join(taken)).is_ok() {
            return Err(Diagnostic::error(
                Code::Io,
                format!("`{}` already has a `{taken}`", dir.display()),
            )
            .help("run `envc init` in an empty folder, or `-C NEW-FOLDER`"));
        }
    }
    let mut files: Vec<(PathBuf, String)> = starter
        .files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), adapt(path, text, project)))
        .collect();
    if std::fs::symlink_metadata(dir.join(".gitignore")).is_err() {
        files.push((PathBuf::from(".gitignore"), GITIGNORE.to_string()));
    }
    if std::fs::symlink_metadata(dir.join(WORKFLOW.0)).is_err() {
        files.push((PathBuf::from(WORKFLOW.0), WORKFLOW.1.to_string()));
    }
    Ok(files)
}

/// Writes a project kind `name`'s template and schema into `dir/kinds/`: both, or neither.
pub fn new_kind(dir: &Path, name: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(
            Diagnostic::error(Code::Usage, format!("`{name}` is not a valid kind name"))
                .help("kind names are lowercase letters, digits and `-`, starting with a letter"),
        );
    }
    if !dir.join("stacks.kdl").is_file() {
        return Err(Diagnostic::error(
            Code::NoProject,
            format!("`{}` is not an envc project, so a kind has no project to join", dir.display()),
        )
        .help("run `envc new-kind` in a project's folder (the one with `stacks.kdl`), or point at it with `-C DIR`"));
    }
    let builtin = serde_json::from_value::<crate::model::StackKind>(serde_json::Value::String(
        name.to_string(),
    ));
    if builtin.is_ok() {
        return Err(Diagnostic::error(
            Code::KindDefinition,
            format!("`{name}` is a built-in kind"),
        )
        .help(format!(
            "name the project's kind differently; to change the built-in, copy its template into `templates/{name}.yaml.j2` and edit it there"
        )));
    }
    // A kind's settings block is named after its stack, which `new-kind` suggests naming
    // after the kind: a name every environment has already (`tags`, `extends`) could not be.
    let reserved = ["extends", "abstract", "override", "env"];
    let model = crate::resolve::Shapes::shared().env.field_names();
    if reserved.contains(&name) || model.contains(&name) {
        return Err(Diagnostic::error(
            Code::KindDefinition,
            format!("`{name}` is a name every environment has already"),
        )
        .help("a kind's settings block takes its stack's name, and environments use this one for a setting or directive of their own: name the kind differently"));
    }
    let kinds = Path::new("kinds");
    let files = [
        (
            kinds.join(format!("{name}.schema.json")),
            KIND_SCHEMA.replace("KIND", name),
        ),
        (
            kinds.join(format!("{name}.yaml.j2")),
            KIND_TEMPLATE.replace("KIND", name),
        ),
    ];
    crate::files::Gate::new(dir)?.create_all(&files)
}

const KIND_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "KIND",
  "description": "What a KIND stack deploys (say it here: `envc docs` prints it).",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "retention-days": {
      "description": "Days its messages are kept, like `4`.",
      "type": "integer",
      "minimum": 1,
      "maximum": 14,
      "default": 4
    }
  }
}
"#;

const KIND_TEMPLATE: &str = r#"{% import "_macros.j2" as m %}
{# A KIND stack. `settings` is the environment's block named after the stack (its
   `kinds/KIND.schema.json` settings, defaults filled in, names in snake_case);
   `docs/templates.md` lists everything else a template sees. #}
{{ m.header("KIND " ~ stack.name) }}
Resources:
  Queue:
    Type: AWS::SQS::Queue
{{ m.queue_policies() }}
    Properties:
      QueueName: {{ (resource_prefix ~ "-" ~ stack.name) | tojson }}
      MessageRetentionPeriod: {{ settings.retention_days * 86400 }}
      SqsManagedSseEnabled: true
Outputs:
{{ m.export("QueueUrl", "!Ref Queue") }}
"#;

fn check_project_name(project: &str) -> Result<(), Diagnostic> {
    let valid = project.len() <= 32
        && project
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
        && project
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(Diagnostic::error(Code::Io, format!("`{project}` is not a valid project name"))
            .help("project names are up to 32 lowercase letters, digits and `-`, starting with a letter (`--name`)"))
    }
}

/// A starter file for a project named `project`: `stacks.kdl` gets its name.
fn adapt(path: &str, text: &str, project: &str) -> String {
    if path != "stacks.kdl" {
        return text.to_string();
    }
    text.lines()
        .map(|line| {
            if line.starts_with("project \"") {
                format!("project \"{project}\"")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The file of a new environment `name` that is `from` with names of its own (`envc env
/// new`): its stacks, resources and domain follow `${env}`, and its VPC (where `from` makes
/// one) gets `cidr`.
pub fn env_file(name: &str, from: &str, cidr: Option<&str>) -> (PathBuf, String) {
    let mut text = format!(
        "// `{from}` with names of its own: made by `envc env new {name} --from {from}`.\n\
         // Settings written here override `{from}`'s.\n\
         extends \"{from}\"\n"
    );
    if let Some(cidr) = cidr {
        text.push_str(&format!(
            "\n// A VPC range of its own: no other environment of the project uses it.\nnetwork {{\n    cidr \"{cidr}\"\n}}\n"
        ));
    }
    (Path::new("env").join(format!("{name}.kdl")), text)
}

/// Writes `env/NAME.kdl`, an environment extending `from`, and its golden files: all of
/// them or none, and only when the new environment checks clean.
pub fn new_env(root: &Path, name: &str, from: &str) -> Result<Vec<PathBuf>, crate::Refusal> {
    refuse_new_env(root, name, from).map_err(|problem| crate::Refusal {
        sources: SourceMap::default(),
        diagnostics: vec![problem],
        exit: 2,
    })?;
    let cidr = free_cidr(root, from);
    let (path, text) = env_file(name, from, cidr.as_deref());
    let overlay: crate::parse::Overlay = [(path.clone(), text.clone())].into_iter().collect();
    let only = [name.to_string()];
    let rendered = crate::run_with(root, &overlay, &only, crate::Stages::Render, false);
    if rendered.has_errors() || !rendered.rendered.iter().any(|e| e.name == name) {
        let mut diagnostics = rendered.diagnostics;
        if diagnostics.is_empty() {
            diagnostics.push(rendered_not(name, &rendered.resolved));
        }
        return Err(crate::Refusal {
            sources: rendered.sources,
            diagnostics,
            exit: 1,
        });
    }
    let mut files = vec![(path, text)];
    for stack in rendered.rendered.iter().flat_map(|env| &env.stacks) {
        files.push((stack.golden_path(), stack.body.clone()));
    }
    Ok(crate::files::Gate::new(root).and_then(|gate| gate.create_all(&files))?)
}

/// Why `env new NAME --from FROM` cannot start: a name no environment may take, one that
/// is taken, or a `from` that is no environment file.
fn refuse_new_env(root: &Path, name: &str, from: &str) -> Result<(), Diagnostic> {
    if !crate::parse::is_env_name(name) {
        return Err(Diagnostic::error(
            Code::Usage,
            format!("`{name}` cannot name an environment"),
        )
        .help(format!("environment names are lowercase letters, digits and single `-` between them, starting with a letter, at most {} characters", crate::parse::MAX_ENV_NAME)));
    }
    let file = Path::new("env").join(format!("{name}.kdl"));
    if std::fs::symlink_metadata(root.join(&file)).is_ok() {
        return Err(Diagnostic::error(
            Code::Usage,
            format!("`{name}` exists already (`{}`)", file.display()),
        )
        .help("choose a name no environment has; `envc env new` makes only new environments"));
    }
    let from_file = root.join("env").join(format!("{from}.kdl"));
    if !crate::parse::is_env_name(from) || !from_file.is_file() {
        let known = crate::parse::env_names_on_disk(root);
        return Err(crate::unknown_env(from, known.iter().map(String::as_str)));
    }
    Ok(())
}

/// A VPC range for a new environment extending `from`: the size of `from`'s, overlapping no
/// environment's of the project. `None` where `from` makes no VPC of its own.
fn free_cidr(root: &Path, from: &str) -> Option<String> {
    let validated = crate::run(root, &[], crate::Stages::Validate).validated;
    let cidr_of = |e: &crate::validate::ValidEnv| {
        crate::model::Cidr::parse(e.model.network.cidr.as_deref()?).ok()
    };
    let own = validated
        .envs
        .iter()
        .find(|e| e.name == from)
        .and_then(cidr_of)?;
    let taken: Vec<crate::model::Cidr> = validated.envs.iter().filter_map(cidr_of).collect();
    own.first_free(&taken).map(|c| c.to_string())
}

fn rendered_not(name: &str, resolved: &crate::resolve::ResolvedProject) -> Diagnostic {
    Diagnostic::error(
        Code::AbstractEnv,
        format!("`{name}` would render nothing: the environment it extends is abstract or has no stacks"),
    )
    .help(format!("extend an environment that deploys (one of: {})", resolved.envs.iter().filter(|e| !e.is_abstract).map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")))
}

/// `envc init`: a new project in `dir` from `starter`, named `project`, with its schemas and
/// golden files, so it passes `check`. Everything is made in memory first (kinds already in
/// `dir` included); then all files are written, or, on any problem, none.
pub fn create_project(
    dir: &Path,
    starter: &Starter,
    project: &str,
) -> Result<Vec<PathBuf>, crate::Refusal> {
    let mut files = starter_files(dir, starter, project)?;
    let overlay: crate::parse::Overlay = files.iter().cloned().collect();
    let rendered = crate::run_with(dir, &overlay, &[], crate::Stages::Render, false);
    if rendered.has_errors() {
        return Err(crate::Refusal {
            sources: rendered.sources,
            diagnostics: rendered.diagnostics,
            exit: 1,
        });
    }
    for schema in crate::validate::published_schemas(
        &rendered.resolved,
        crate::model::generated_schema_files(),
    ) {
        files.push((
            Path::new("schema").join(schema.file_name),
            schema.text.into_owned(),
        ));
    }
    for stack in rendered.rendered.iter().flat_map(|env| &env.stacks) {
        files.push((stack.golden_path(), stack.body.clone()));
    }
    files.push(crate::golden::revision_file());
    let made_dir = std::fs::symlink_metadata(dir).is_err();
    if made_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            Diagnostic::error(Code::Io, format!("cannot create `{}`: {e}", dir.display()))
        })?;
    }
    let written = crate::files::Gate::new(dir).and_then(|gate| gate.create_all(&files));
    if written.is_err() && made_dir {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(written?)
}
