//! One run of the pipeline over the editor's buffers, and the questions the editor asks of
//! it: which setting is at a place, which environments inherit a file, what each of them
//! makes of a value and who set it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use envc_core::parse::{EnvFile, Overlay};
use envc_core::resolve::{Entry, KeyPath, ResolvedEnv, Table, Value};
use envc_core::source::{FileId, Span};
use envc_core::{PipelineRun, Stages};

pub struct Analysis {
    pub root: PathBuf,
    pub checked: PipelineRun,
    env_schema: OnceLock<serde_json::Value>,
    redactor: OnceLock<envc_core::credentials::Redactor>,
}

/// A setting written in a file: the path of its value and where its name is.
pub struct SettingAt<'a> {
    /// The environment whose file it is.
    pub env: &'a ResolvedEnv,
    pub path: KeyPath,
    pub entry: &'a Entry,
}

impl Analysis {
    /// The pipeline up to `stages` on the buffers: validation, run on every edit, without
    /// the on-disk caches; the full check with them (rendering is what they save).
    pub fn run(root: &Path, overlay: &Overlay, stages: Stages) -> Analysis {
        let disk_caches = stages != Stages::Validate;
        Analysis {
            root: root.to_path_buf(),
            checked: envc_core::run_with(root, overlay, &[], stages, disk_caches),
            env_schema: OnceLock::new(),
            redactor: OnceLock::new(),
        }
    }

    /// `text` with every credential the project's files hold masked, as all envc output is.
    pub fn mask(&self, text: &str) -> String {
        let redactor = self.redactor.get_or_init(|| {
            let mut redactor = envc_core::credentials::Redactor::default();
            redactor.learn_sources(&self.checked.sources);
            redactor
        });
        redactor.mask(text).into_owned()
    }

    /// The project's environment schema (the model's and its kinds' blocks).
    pub fn env_schema(&self) -> &serde_json::Value {
        self.env_schema
            .get_or_init(|| envc_core::published::env_schema_of(&self.checked.resolved))
    }

    pub fn text(&self, file: FileId) -> &str {
        &self.checked.sources.file(file).text
    }

    /// The file read from `path` (absolute, or relative to the root).
    pub fn file_at(&self, path: &Path) -> Option<FileId> {
        let wanted = self.root.join(path);
        self.checked
            .sources
            .files()
            .find(|(_, f)| self.root.join(&f.path) == wanted)
            .map(|(id, _)| id)
    }

    /// `path` of `file` relative to the project root, as a user reads it.
    pub fn shown_path(&self, file: FileId) -> String {
        let path = &self.checked.sources.file(file).path;
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// `env/x.kdl:LINE`.
    pub fn shown_place(&self, span: Span) -> String {
        let line = self
            .checked
            .sources
            .file(span.file)
            .line_col(span.start)
            .line;
        format!("{}:{line}", self.shown_path(span.file))
    }

    pub fn env_of_file(&self, file: FileId) -> Option<&ResolvedEnv> {
        self.checked.resolved.envs.iter().find(|e| e.file == file)
    }

    pub fn env_file(&self, name: &str) -> Option<&EnvFile> {
        self.checked.parsed.env(name)
    }

    /// `env` and every environment that inherits from it, `env` first.
    pub fn lineage(&self, env: &str) -> Vec<&ResolvedEnv> {
        let envs = &self.checked.resolved.envs;
        let own = envs.iter().filter(|e| e.name == env);
        let heirs = envs.iter().filter(|e| e.ancestors.iter().any(|a| a == env));
        own.chain(heirs).collect()
    }

    /// The environments that name `env` as their parent.
    pub fn children(&self, env: &str) -> Vec<&EnvFile> {
        let parsed = &self.checked.parsed.envs;
        parsed
            .iter()
            .filter(|e| e.extends.as_ref().is_some_and(|p| p.name == env))
            .collect()
    }

    /// The setting whose name or value is at `offset` of `file`, deepest first.
    pub fn setting_at(&self, file: FileId, offset: usize) -> Option<SettingAt<'_>> {
        let env = self.env_of_file(file)?;
        let mut path = KeyPath::default();
        let entry = deepest(&env.root, file, offset, &mut path)?;
        Some(SettingAt { env, path, entry })
    }
}

/// Whether `offset` of `file` is in `span` (or just after it). An empty span is nothing
/// written: values envc sets itself (`env`) have one at the start of the file.
fn contains(span: Span, file: FileId, offset: usize) -> bool {
    span.file == file && span.start < span.end && span.start <= offset && offset <= span.end
}

/// The deepest entry of `table` written at `offset` of `file`; `path` is left holding its
/// path. Blocks are searched whatever file introduced them: a child's file sets values
/// inside blocks its parent opened.
fn deepest<'a>(
    table: &'a Table,
    file: FileId,
    offset: usize,
    path: &mut KeyPath,
) -> Option<&'a Entry> {
    for (key, entry) in &table.entries {
        path.push(key);
        if let Value::Table(inner) = &entry.value {
            if let Some(found) = deepest(inner, file, offset, path) {
                return Some(found);
            }
        }
        let value_span = entry.value.origin().span;
        let here = contains(entry.key_span, file, offset)
            || (!matches!(entry.value, Value::Table(_)) && contains(value_span, file, offset));
        if here {
            return Some(entry);
        }
        path.pop();
    }
    None
}

/// A value of `env` at `path`, as shown in an editor: `"db.t3.small"`, `1 2 3`, `{ … }`.
pub fn shown_at<'a>(env: &'a ResolvedEnv, path: &[String]) -> Option<(String, &'a Value)> {
    let value = env.root.get(path)?;
    Some((value.shown(), value))
}

/// The entry of `env` at `path`.
pub fn entry_at<'a>(env: &'a ResolvedEnv, path: &[String]) -> Option<&'a Entry> {
    let (last, parents) = path.split_last()?;
    let mut table = &env.root;
    for step in parents {
        match &table.entries.get(step)?.value {
            Value::Table(inner) => table = inner,
            _ => return None,
        }
    }
    table.entries.get(last)
}
