//! The command line: arguments, and printing what the library returns.

mod check;
pub mod deploy;
mod deploy_many;
mod drift;
mod output;
mod plan;
mod render;
pub mod report;
mod review;
mod secret;
mod task;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use envc_core::diagnostic::Diagnostic;
use envc_core::source::SourceMap;
use output::{err, errln, out, outln};
use report::Format;
pub use secret::SecretCommand;

#[derive(Debug, Parser)]
#[command(
    name = "envc",
    version,
    about = "Short, reviewable environment files to deployed AWS infrastructure"
)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', global = true, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Validate and render everything afresh, without reading or writing `.envc/cache/`
    /// (the same as `ENVC_NO_CACHE=1`).
    #[arg(long, global = true, env = "ENVC_NO_CACHE", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_cache: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check environments: syntax, inheritance, schema and rules. Exit 0 clean, 1 problems,
    /// 2 usage or I/O error.
    Check {
        /// Environments to check (all when none).
        envs: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Fail (exit 1) on warnings too: advice like AWS's six-times visibility rule.
        #[arg(long)]
        deny_warnings: bool,
        /// The commit whose golden files a change that replaces or deletes what holds data is
        /// measured from (default: the merge base with the main branch, where there is one).
        #[arg(long, value_name = "REF")]
        base: Option<String>,
    },
    /// Show a merged value and the files that set and overrode it.
    Explain {
        env: String,
        /// Dotted path, like `service.api.scaling.max`; quote a key holding a dot:
        /// `tags."cost.center"`.
        path: String,
    },
    /// Write the JSON Schemas to `schema/`, or with `--check` fail if they are stale.
    Schema {
        #[arg(long)]
        check: bool,
    },
    /// Make a new project here (or in `-C DIR`) from a starter, one per reference system;
    /// it passes `check` as written.
    Init {
        /// The starter: graphql-api, fargate-lambda-aurora, existing-vpc-aurora, wallet-service.
        #[arg(long, default_value = "graphql-api")]
        starter: String,
        /// The project name (the start of every stack name); defaults to the folder's name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Add a project kind: `kinds/NAME.yaml.j2` and `kinds/NAME.schema.json` to start from.
    NewKind { name: String },
    /// Write the reference documents (`docs/settings.md`, `docs/templates.md`), or with
    /// `--check` fail if they are stale.
    Docs {
        #[arg(long)]
        check: bool,
    },
    /// Lay out `.kdl` files the one way envc writes KDL (comments kept), or with `--check`
    /// fail on any that differ. Exit 0 formatted, 1 not (or not KDL), 2 a file could not be read.
    Fmt {
        #[arg(long)]
        check: bool,
        /// Files, or folders searched for `.kdl` files (the project's `stacks.kdl` and
        /// `env/` when none); relative to `-C DIR`.
        paths: Vec<PathBuf>,
    },
    /// Serve the Language Server Protocol on stdin and stdout, for editors: problems as you
    /// type, hover with each environment's merged value, completion, navigation, fixes and
    /// formatting. The project is the editor's folder (or `-C DIR`).
    Lsp,
    /// Print an environment's CloudFormation, or with `--write` update the golden files.
    Render {
        /// The environment (all of them with `--write` when none).
        env: Option<String>,
        /// Only this stack.
        #[arg(long)]
        stack: Option<String>,
        /// Write `golden/<env>/<stack>.yaml` (and delete left-overs) instead of printing.
        #[arg(long)]
        write: bool,
    },
    /// Show how a fresh render differs from the golden files (or, with `--live`, from what
    /// is deployed, with the change set CloudFormation would make). With `--base`, another
    /// format, or no environment: what the change since a commit does in AWS, for every
    /// environment it touches (resources added, changed, replaced and deleted, widened IAM
    /// permissions, the monthly cost), as one pull-request comment with `--format markdown`.
    /// Exit 0 same, 1 different, 2 usage, 3 AWS could not be asked (`--live`).
    Diff {
        /// Environments (all when none; one with `--live`).
        envs: Vec<String>,
        #[arg(long, conflicts_with_all = ["base", "format"])]
        live: bool,
        /// The commit whose golden files the change is measured from (default: the merge
        /// base with the main branch).
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        #[arg(long, value_enum)]
        format: Option<ReviewFormat>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// The monthly cost of each environment (or ENV), per stack and resource, estimated
    /// offline from the rendered templates and the price snapshot shipped with envc. With
    /// `--base`, the change from the golden files at that commit.
    Cost {
        env: Option<String>,
        #[arg(long, value_enum, default_value_t = ReviewFormat::Human)]
        format: ReviewFormat,
        /// A commit to compare with, like `HEAD~1` or `origin/main`.
        #[arg(long, value_name = "REF")]
        base: Option<String>,
    },
    /// Deploy environments through CloudFormation change sets, in dependency waves: one
    /// (`envc deploy staging2`), several with one plan and one question (`envc deploy dev
    /// staging`), every one (`--all`), or those a pattern matches (`'pr-*'`). Exit 0 deployed,
    /// 1 failed or refused, 2 usage, 130 interrupted.
    Deploy(deploy::DeployArgs),
    /// Run a stack's task once (the migration) where the services run, stream its log lines,
    /// and exit with its container's exit code. Exit 1 when it could not run, 2 for no such
    /// task, 130 on Ctrl-C.
    Run {
        /// The stack whose task runs, like `migration` (one that outputs `TaskDefinitionArn`).
        task: String,
        env: String,
        /// On Ctrl-C, stop the task too (without it, the task goes on and envc says how to
        /// stop it).
        #[arg(long)]
        stop: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Environments: `envc env new NAME --from ENV`.
    Env {
        #[command(subcommand)]
        command: EnvCommand,
    },
    /// The environment's configuration secret, key by key: values from standard input or a
    /// file, never an argument, never shown.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// What was changed in AWS behind CloudFormation's back: CloudFormation's drift detection
    /// on each deployed stack, then each modified or deleted resource, property by property,
    /// expected → actual. Exit 0 no drift, 1 drift, 2 usage, 3 AWS could not be asked.
    Drift {
        env: String,
        /// Only these stacks (repeatable).
        #[arg(long = "stack", value_name = "STACK")]
        stacks: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Each stack's status, last update and outputs. Exit 0 all complete, 1 any failed or
    /// missing, 2 usage (an unknown environment), 3 AWS could not be asked, 4 any in progress.
    Status {
        env: String,
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        format: StatusFormat,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Delete an environment's stacks, last wave first. Exit 0 destroyed, 1 refused, failed
    /// or cancelled, 2 usage, 130 interrupted.
    Destroy {
        env: String,
        /// Do not ask (unprotected environments).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Required to destroy a protected environment.
        #[arg(long)]
        force: bool,
        /// The environment's name, typed, for a protected environment without a terminal.
        #[arg(long, value_name = "ENV")]
        confirm: Option<String>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Draw an environment's stack dependency graph.
    Graph {
        env: String,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// A new environment NAME that is ENV with names of its own (`env/NAME.kdl` extending
    /// it, and its golden files): for a short-lived environment per pull request. Writes
    /// nothing unless it checks clean. Exit 0 written, 1 it has problems, 2 it exists.
    New {
        name: String,
        /// The environment it extends.
        #[arg(long, value_name = "ENV")]
        from: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct AwsArgs {
    /// Named profile from the AWS config files.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region, instead of the environment's.
    #[arg(long)]
    pub region: Option<String>,
    /// Endpoint of a local emulator, like http://127.0.0.1:5000.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    fn options(&self) -> envc_deploy::AwsOptions {
        envc_deploy::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    Human,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

impl Cli {
    fn color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Forgets the credentials learned by earlier runs in this process (each run learns those of
/// its project): for a process that runs many commands, like a fuzz target.
pub fn forget_credentials() {
    output::forget();
}

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let color = cli.color();
    if cli.no_cache {
        // Read by the library's caches; set before any other thread starts.
        std::env::set_var("ENVC_NO_CACHE", "1");
    }
    match &cli.command {
        Command::Check {
            envs,
            format,
            deny_warnings,
            base,
        } => check::run_check(&cli, envs, *format, *deny_warnings, base.as_deref(), color),
        Command::Explain { env, path } => check::run_explain(&cli, env, path, color),
        Command::Render { env, stack, write } => {
            render::run_render(&cli, env.as_deref(), stack.as_deref(), *write, color)
        }
        Command::Diff {
            envs,
            live,
            base,
            format,
            aws,
        } => diff(&cli, envs, *live, base.as_deref(), *format, aws, color),
        Command::Cost { env, format, base } => {
            review::run_cost(&cli, env.as_deref(), *format, base.as_deref(), color)
        }
        Command::Deploy(args) => deploy::run_deploy(&cli, args, color),
        Command::Status { env, format, aws } => deploy::run_status(&cli, env, *format, aws, color),
        Command::Drift {
            env,
            stacks,
            format,
            aws,
        } => drift::run_drift(&cli, env, stacks, *format, aws, color),
        Command::Env {
            command: EnvCommand::New { name, from },
        } => new_env(&cli.dir, name, from, color),
        Command::Secret { command } => secret::run(&cli, command, color),
        Command::Run {
            task,
            env,
            stop,
            aws,
        } => task::run_task(&cli, task, env, *stop, aws, color),
        Command::Destroy {
            env,
            yes,
            force,
            confirm,
            aws,
        } => deploy::run_destroy(&cli, env, *yes, *force, confirm.as_deref(), aws, color),
        Command::Graph { env, format } => render::run_graph(&cli, env, *format, color),
        Command::Lsp => lsp(&cli.dir),
        Command::Fmt { check, paths } => fmt(&cli.dir, paths, *check, color),
        Command::Init { starter, name } => init(&cli.dir, starter, name.as_deref(), color),
        Command::NewKind { name } => new_kind(&cli.dir, name, color),
        Command::Docs { check } if *check => {
            report_stale(envc_core::published::stale_docs(&cli.dir), "docs")
        }
        Command::Docs { .. } => report_written(envc_core::published::write_docs(&cli.dir), color),
        Command::Schema { check } if *check => {
            report_stale(envc_core::published::stale_schemas(&cli.dir), "schema")
        }
        Command::Schema { .. } => {
            report_written(envc_core::published::write_schemas(&cli.dir), color)
        }
    }
}

/// `envc diff`: against the live stacks (`--live`, one environment), as a plain diff (one
/// environment, no `--base` or `--format`), or as a review of the change.
fn diff(
    cli: &Cli,
    envs: &[String],
    live: bool,
    base: Option<&str>,
    format: Option<ReviewFormat>,
    aws: &AwsArgs,
    color: bool,
) -> i32 {
    if live {
        return match envs {
            [env] => deploy::run_live_diff(cli, env, aws, color),
            _ => {
                let problem = Diagnostic::error(
                    envc_core::diagnostic::Code::Usage,
                    format!("`diff --live` takes one environment, not {}", envs.len()),
                )
                .help("name the environment whose deployed stacks to compare, like `envc diff --live staging`");
                print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
                2
            }
        };
    }
    match (base, format) {
        (None, None | Some(ReviewFormat::Human)) if envs.len() == 1 => {
            render::run_diff(cli, &envs[0], color)
        }
        _ => review::run_review(
            cli,
            envs,
            base,
            format.unwrap_or(ReviewFormat::Human),
            color,
        ),
    }
}

/// `envc env new`: an environment that extends `from`.
fn new_env(dir: &std::path::Path, name: &str, from: &str, color: bool) -> i32 {
    let code = report_written(envc_core::init::new_env(dir, name, from), color);
    if code == 0 {
        outln!("envc: `{name}` extends `{from}`; deploy it with `envc deploy {name}`, remove it with `envc destroy {name}` and its files");
    }
    code
}

/// `envc new-kind`: a project kind's schema and template.
fn new_kind(dir: &std::path::Path, name: &str, color: bool) -> i32 {
    let written = envc_core::init::new_kind(dir, name).map_err(envc_core::Refusal::from);
    let code = report_written(written, color);
    if code == 0 {
        outln!("use it in stacks.kdl: stack \"{name}\" kind=\"{name}\", and give environments a `{name} {{ … }}` block");
    }
    code
}

/// `envc lsp`: the language server on stdin and stdout, until the editor ends it.
fn lsp(dir: &std::path::Path) -> i32 {
    match envc_lsp::serve_stdio(dir) {
        Ok(envc_lsp::Ended::AfterShutdown) => 0,
        Ok(envc_lsp::Ended::WithoutShutdown) => 1,
        Err(problem) => {
            errln!("envc lsp: {problem}");
            2
        }
    }
}

pub(crate) fn print_diagnostics(
    diagnostics: &[Diagnostic],
    sources: &SourceMap,
    format: Format,
    color: bool,
) {
    output::learn(sources);
    for credential in diagnostics.iter().flat_map(|d| &d.hidden) {
        output::learn_value(credential);
    }
    let text = report::render(diagnostics, sources, format, color);
    match format {
        Format::Human => {
            err!("{text}");
            for diagnostic in diagnostics {
                if let Some(attachment) = &diagnostic.attachment {
                    err!("{attachment}");
                }
            }
            if let Some(summary) = report::summary(diagnostics) {
                errln!("{summary}");
            }
        }
        Format::Json | Format::Github => out!("{text}"),
    }
}

/// `envc schema --check`/`envc docs --check`: each stale file with a diff; exit 1 if any.
fn report_stale(
    (sources, stale): (SourceMap, Vec<(std::path::PathBuf, String, String)>),
    command: &str,
) -> i32 {
    output::learn(&sources);
    let code = match command {
        "docs" => envc_core::diagnostic::Code::DocsStale,
        _ => envc_core::diagnostic::Code::SchemaStale,
    };
    for (path, current, expected) in &stale {
        let problem = Diagnostic::error(code, format!("`{}` is stale", path.display()))
            .help(format!("run `envc {command}` and commit the result"));
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, false);
        let name = path.display().to_string();
        let diff = envc_core::golden::unified_diff(
            current,
            expected,
            &format!("{name} (committed)"),
            &format!("{name} (generated)"),
        );
        err!("{diff}");
    }
    i32::from(!stale.is_empty())
}

/// The files a command wrote, or why it could not (exit 2).
fn report_written(
    written: Result<Vec<std::path::PathBuf>, envc_core::Refusal>,
    color: bool,
) -> i32 {
    match written {
        Ok(paths) => {
            for path in paths {
                outln!("wrote {}", path.display());
            }
            0
        }
        Err(refusal) => {
            print_diagnostics(&refusal.diagnostics, &refusal.sources, Format::Human, color);
            refusal.exit
        }
    }
}

/// `envc init`: the starter by name, the project named after the folder unless `--name`.
fn init(dir: &std::path::Path, starter: &str, name: Option<&str>, color: bool) -> i32 {
    let Some(chosen) = envc_core::init::STARTERS.iter().find(|s| s.name == starter) else {
        let names = envc_core::init::STARTERS.iter().map(|s| s.name);
        let listed: Vec<String> = envc_core::init::STARTERS
            .iter()
            .map(|s| format!("`{}` ({})", s.name, s.about))
            .collect();
        let help = envc_core::did_you_mean::did_you_mean(starter, names)
            .unwrap_or_else(|| format!("the starters are {}", listed.join("; ")));
        let problem = Diagnostic::error(
            envc_core::diagnostic::Code::Usage,
            format!("there is no starter `{starter}`"),
        )
        .help(help);
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
        return 2;
    };
    let folder = std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    let project = name.map_or(folder, str::to_string);
    if let Some(problem) = inside_a_project(dir) {
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
        return 2;
    }
    if !envc_core::parse::is_project_name(&project) {
        let from = if name.is_some() {
            "`--name`"
        } else {
            "the folder's name"
        };
        let problem = Diagnostic::error(
            envc_core::diagnostic::Code::Usage,
            format!("`{project}` ({from}) cannot name a project"),
        )
        .help(format!("a project name is lowercase letters, digits and single `-` between them, starting with a letter, at most {} characters: pass one with `--name`", envc_core::parse::MAX_PROJECT_NAME));
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
        return 2;
    }
    let code = report_written(
        envc_core::init::create_project(dir, chosen, &project),
        color,
    );
    if code == 0 {
        outln!("envc: project `{project}` from the {} starter ({}); `envc check` passes. Set each environment's `account` before deploying.", chosen.name, chosen.about);
    }
    code
}

/// Refuses a project made inside one of another project's own folders (`env/`, `golden/`,
/// …), where its files would be taken for that project's: an environment named `stacks`.
fn inside_a_project(dir: &std::path::Path) -> Option<Diagnostic> {
    const OWN_FOLDERS: &[&str] = &["env", "golden", "kinds", "templates", "schema"];
    let given = dir;
    let dir = std::path::absolute(dir).ok()?;
    let mut at = dir.as_path();
    while let Some(parent) = at.parent() {
        let folder = at.file_name()?.to_string_lossy();
        if OWN_FOLDERS.contains(&folder.as_ref()) && parent.join("stacks.kdl").is_file() {
            return Some(
                Diagnostic::error(
                    envc_core::diagnostic::Code::Usage,
                    format!(
                        "`{}` is in the `{folder}/` folder of a project: a project made here would be read as part of it",
                        given.display()
                    ),
                )
                .help("make the new project in a folder of its own, outside that project's folders"),
            );
        }
        at = parent;
    }
    None
}

/// `envc fmt`: rewrites the files whose layout differs (or, with `check`, reports them).
fn fmt(dir: &std::path::Path, paths: &[PathBuf], check: bool, color: bool) -> i32 {
    let files = match envc_core::format::files_to_format(dir, paths) {
        Ok(files) => files,
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            return 2;
        }
    };
    let mut sources = SourceMap::default();
    let (formatted, problems) = envc_core::format::format_paths(dir, &files, &mut sources);
    // Whatever the files are called, what they show is masked like a project's files.
    output::learn_every_file(&sources);
    let changed: Vec<_> = formatted
        .iter()
        .filter(|f| f.is_changed(&sources))
        .collect();
    let mut report = problems;
    if check {
        report.extend(
            changed
                .iter()
                .map(|f| envc_core::format::unformatted(f, &sources)),
        );
    } else {
        let gate = envc_core::files::Gate::new(dir);
        for file in &changed {
            let written = gate
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|gate| gate.write(&file.path, file.formatted.as_bytes()));
            match written {
                Ok(()) => outln!("formatted {}", file.path.display()),
                Err(problem) => report.push(problem),
            }
        }
    }
    print_diagnostics(&report, &sources, Format::Human, color);
    envc_core::exit_code(&report)
}
