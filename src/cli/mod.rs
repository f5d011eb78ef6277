//! The command line: arguments, and printing what the library returns.

pub mod deploy;
pub mod report;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use envc::diagnostic::Diagnostic;
use envc::source::SourceMap;
use report::Format;

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
    },
    /// Show a merged value and the files that set and overrode it.
    Explain {
        env: String,
        /// Dotted path, like `service.api.scaling.max`.
        path: String,
    },
    /// Write the JSON Schemas to `schema/`, or with `--check` fail if they are stale.
    Schema {
        #[arg(long)]
        check: bool,
    },
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
    /// is deployed, with the change set CloudFormation would make). Exit 0 same, 1 different.
    Diff {
        env: String,
        #[arg(long)]
        live: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Deploy an environment through CloudFormation change sets, in dependency waves.
    Deploy {
        env: String,
        /// Only these stacks (repeatable).
        #[arg(long = "stack", value_name = "STACK")]
        stacks: Vec<String>,
        /// Do not ask before changing an unprotected environment; needed without a terminal.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show the change sets, then delete them; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Stacks deployed at once within a wave.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Delete and create again stacks left in ROLLBACK_COMPLETE by a failed first create.
        #[arg(long)]
        replace_failed: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Each stack's status, last update and outputs. Exit 0 all complete, 1 any failed or
    /// missing, 2 any in progress, 3 AWS could not be asked.
    Status {
        env: String,
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        format: StatusFormat,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Delete an environment's stacks, last wave first.
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
    fn options(&self) -> envc::AwsOptions {
        envc::AwsOptions {
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

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let color = cli.color();
    match &cli.command {
        Command::Check { envs, format } => {
            let checked = envc::check(&cli.dir, envs);
            print_diagnostics(&checked.diagnostics, &checked.sources, *format, color);
            if *format == Format::Human && checked.diagnostics.is_empty() {
                let count = checked.validated.envs.len();
                println!(
                    "envc: {count} environment{} checked, no problems",
                    if count == 1 { "" } else { "s" }
                );
            }
            checked.exit_code()
        }
        Command::Explain { env, path } => {
            let (sources, result) = envc::explain::explain(&cli.dir, env, path);
            match result {
                Ok(explanation) => {
                    print!("{}", format_explanation(&explanation));
                    0
                }
                Err(problems) => {
                    print_diagnostics(&problems, &sources, Format::Human, color);
                    if problems
                        .iter()
                        .any(|d| d.code == envc::diagnostic::Code::UnknownPath)
                    {
                        2
                    } else {
                        envc::exit_code(&problems).max(1)
                    }
                }
            }
        }
        Command::Render { env, stack, write } => {
            run_render(&cli, env.as_deref(), stack.as_deref(), *write, color)
        }
        Command::Diff {
            env, live: false, ..
        } => run_diff(&cli, env, color),
        Command::Diff {
            env,
            live: true,
            aws,
        } => run_live_diff(&cli, env, aws, color),
        Command::Deploy {
            env,
            stacks,
            yes,
            dry_run,
            concurrency,
            replace_failed,
            aws,
        } => {
            let options = envc::deploy::DeployOptions {
                yes: *yes,
                dry_run: *dry_run,
                concurrency: *concurrency,
                replace_failed: *replace_failed,
                interactive: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
            };
            run_deploy(&cli, env, stacks, &options, aws, color)
        }
        Command::Status { env, format, aws } => run_status(&cli, env, *format, aws, color),
        Command::Destroy {
            env,
            yes,
            force,
            confirm,
            aws,
        } => run_destroy(&cli, env, *yes, *force, confirm.as_deref(), aws, color),
        Command::Graph { env, format } => run_graph(&cli, env, *format, color),
        Command::Schema { check } => {
            if *check {
                let stale = envc::stale_schemas(&cli.dir);
                for (path, current, expected) in &stale {
                    eprintln!("envc: `{}` is stale; run `envc schema`", path.display());
                    let name = path.display().to_string();
                    let diff = envc::golden::unified_diff(
                        current,
                        expected,
                        &format!("{name} (committed)"),
                        &format!("{name} (generated)"),
                    );
                    eprint!("{diff}");
                }
                i32::from(!stale.is_empty())
            } else {
                match envc::write_schemas(&cli.dir) {
                    Ok(paths) => {
                        for path in paths {
                            println!("wrote {}", path.display());
                        }
                        0
                    }
                    Err(problem) => {
                        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
                        2
                    }
                }
            }
        }
    }
}

/// Runs the pipeline for `env` (or all), printing problems; `None` when there were any.
fn rendered(cli: &Cli, env: Option<&str>, color: bool) -> Result<envc::Checked, i32> {
    let only: Vec<String> = env.into_iter().map(String::from).collect();
    let checked = envc::run(&cli.dir, &only, envc::Stages::Render);
    let errors: Vec<Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        print_diagnostics(&checked.diagnostics, &checked.sources, Format::Human, color);
        return Err(checked.exit_code());
    }
    if let Some(env) = env {
        if !checked.rendered.iter().any(|r| r.name == env) {
            let abstract_env = checked.resolved.env(env).is_some_and(|e| e.is_abstract);
            let problem = if abstract_env {
                Diagnostic::error(
                    envc::diagnostic::Code::AbstractEnv,
                    format!("`{env}` is abstract: it is only extended, never rendered or deployed"),
                )
                .help("name one of the environments that extend it")
            } else {
                Diagnostic::error(
                    envc::diagnostic::Code::UnknownEnv,
                    format!("there is no environment `{env}`"),
                )
            };
            print_diagnostics(&[problem], &checked.sources, Format::Human, color);
            return Err(2);
        }
    }
    Ok(checked)
}

fn run_render(cli: &Cli, env: Option<&str>, stack: Option<&str>, write: bool, color: bool) -> i32 {
    let checked = match rendered(cli, env, color) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    if write {
        let deployable: Vec<String> = checked
            .resolved
            .envs
            .iter()
            .filter(|e| !e.is_abstract)
            .map(|e| e.name.clone())
            .collect();
        return match envc::golden::write(&cli.dir, &checked.rendered, &deployable) {
            Ok(changed) => {
                for path in &changed {
                    println!("wrote {}", envc::display_path(&cli.dir, path).display());
                }
                if changed.is_empty() {
                    println!("golden files are up to date");
                }
                0
            }
            Err(problem) => {
                print_diagnostics(&[problem], &checked.sources, Format::Human, color);
                2
            }
        };
    }
    let Some(env) = env else {
        eprintln!("envc: name an environment to print, or use `--write`");
        return 2;
    };
    let Some(rendered) = checked.rendered.iter().find(|r| r.name == env) else {
        return 2;
    };
    let stacks: Vec<_> = rendered
        .stacks
        .iter()
        .filter(|s| stack.is_none_or(|want| s.stack == want))
        .collect();
    if stacks.is_empty() {
        let known: Vec<&str> = rendered.stacks.iter().map(|s| s.stack.as_str()).collect();
        let help =
            envc::did_you_mean::did_you_mean(stack.unwrap_or_default(), known.iter().copied())
                .unwrap_or_else(|| format!("stacks of `{env}`: {}", known.join(", ")));
        let problem = Diagnostic::error(
            envc::diagnostic::Code::UnknownStack,
            format!("`{env}` has no stack `{}`", stack.unwrap_or_default()),
        )
        .help(help);
        print_diagnostics(&[problem], &checked.sources, Format::Human, color);
        return 2;
    }
    let many = stacks.len() > 1;
    for s in stacks {
        if many {
            println!("# --- {}", s.golden_path().display());
        }
        print!("{}", s.body);
    }
    0
}

fn run_diff(cli: &Cli, env: &str, color: bool) -> i32 {
    let checked = match rendered(cli, Some(env), color) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let mut sources = checked.sources;
    let problems = envc::golden::compare(&cli.dir, &checked.rendered, &mut sources);
    if problems.is_empty() {
        println!("no differences: golden files of `{env}` match a fresh render");
        return 0;
    }
    for problem in &problems {
        match &problem.attachment {
            Some(diff) => print!("{diff}"),
            None => println!("{}", problem.message),
        }
    }
    1
}

fn run_graph(cli: &Cli, env: &str, format: GraphFormat, color: bool) -> i32 {
    let checked = match rendered(cli, Some(env), color) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let Some(rendered) = checked.rendered.iter().find(|r| r.name == env) else {
        return 2;
    };
    let mut out = String::new();
    match format {
        GraphFormat::Mermaid => {
            out.push_str("graph TD\n");
            for s in &rendered.stacks {
                out.push_str(&format!("    {}[\"{}\"]\n", node_id(&s.stack), s.stack));
            }
            for s in &rendered.stacks {
                for need in &s.needs {
                    out.push_str(&format!(
                        "    {} --> {}\n",
                        node_id(need),
                        node_id(&s.stack)
                    ));
                }
            }
        }
        GraphFormat::Dot => {
            out.push_str(&format!("digraph \"{env}\" {{\n    rankdir=LR;\n"));
            for s in &rendered.stacks {
                out.push_str(&format!("    \"{}\";\n", s.stack));
            }
            for s in &rendered.stacks {
                for need in &s.needs {
                    out.push_str(&format!("    \"{need}\" -> \"{}\";\n", s.stack));
                }
            }
            out.push_str("}\n");
        }
    }
    print!("{out}");
    0
}

fn node_id(stack: &str) -> String {
    stack
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// The checked, rendered environment, or the exit code after printing why not.
fn target(
    cli: &Cli,
    env: &str,
    aws: &AwsArgs,
    stages: envc::Stages,
    color: bool,
) -> Result<envc::deploy::DeployTarget, i32> {
    let (sources, target) = envc::deploy_target(&cli.dir, env, &aws.options(), stages);
    target.map_err(|problems| {
        print_diagnostics(&problems, &sources, Format::Human, color);
        envc::exit_code(&problems).max(1)
    })
}

/// Runs `work`, or on Ctrl-C stops waiting and names what is still running.
fn until_interrupted<T>(
    work: impl std::future::Future<Output = T>,
    in_flight: &envc::deploy::InFlight,
) -> Result<T, i32> {
    runtime().block_on(async {
        tokio::select! {
            done = work => Ok(done),
            _ = tokio::signal::ctrl_c() => {
                let running = in_flight.names();
                eprintln!();
                if running.is_empty() {
                    eprintln!("envc: interrupted; no stack operation was running");
                } else {
                    eprintln!("envc: interrupted; stopped waiting. Still running in CloudFormation (they go on without envc):");
                    for name in running {
                        eprintln!("  {name}");
                    }
                    eprintln!("`envc status ENV` shows how they end.");
                }
                Err(130)
            }
        }
    })
}

fn run_deploy(
    cli: &Cli,
    env: &str,
    stacks: &[String],
    options: &envc::deploy::DeployOptions,
    aws: &AwsArgs,
    color: bool,
) -> i32 {
    let mut target = match target(cli, env, aws, envc::Stages::Check, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if let Err(problem) = target.select(stacks) {
        print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
        return 2;
    }
    let printer: std::sync::Arc<dyn envc::deploy::Reporter> =
        std::sync::Arc::new(deploy::Printer::new(color));
    let in_flight = envc::deploy::InFlight::default();
    let report = match until_interrupted(
        envc::deploy::deploy(&target, options, printer, in_flight.clone()),
        &in_flight,
    ) {
        Ok(report) => report,
        Err(code) => return code,
    };
    deploy::print_report(
        &report,
        if options.dry_run {
            "dry run"
        } else {
            "deployed"
        },
    );
    print_diagnostics(
        &report.diagnostics,
        &SourceMap::default(),
        Format::Human,
        color,
    );
    if report.succeeded() {
        0
    } else {
        1
    }
}

fn run_status(cli: &Cli, env: &str, format: StatusFormat, aws: &AwsArgs, color: bool) -> i32 {
    let target = match target(cli, env, aws, envc::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    match runtime().block_on(envc::deploy::status::status(&target)) {
        Ok(rows) => {
            match format {
                StatusFormat::Table => print!("{}", deploy::status_table(&rows)),
                StatusFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).unwrap_or_default()
                ),
                StatusFormat::Yaml => {
                    let value = serde_yaml_ng::to_value(&rows).unwrap_or_default();
                    print!("{}", envc::render::yaml::to_canonical_yaml(&value));
                }
            }
            envc::deploy::status::status_exit_code(&rows)
        }
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            3
        }
    }
}

fn run_live_diff(cli: &Cli, env: &str, aws: &AwsArgs, color: bool) -> i32 {
    let target = match target(cli, env, aws, envc::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    match runtime().block_on(envc::deploy::status::live_diff(&target)) {
        Ok(diffs) => i32::from(deploy::print_live_diff(&diffs, color)),
        Err(problem) => {
            print_diagnostics(&[problem], &SourceMap::default(), Format::Human, color);
            2
        }
    }
}

fn run_destroy(
    cli: &Cli,
    env: &str,
    yes: bool,
    force: bool,
    confirm: Option<&str>,
    aws: &AwsArgs,
    color: bool,
) -> i32 {
    let target = match target(cli, env, aws, envc::Stages::Render, color) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let confirmed = if target.protected {
        match (confirm, interactive && force) {
            (Some(typed), _) => typed == env,
            (None, true) => {
                print!("`{env}` is protected. Type its name to destroy every stack of it: ");
                let _ = std::io::Write::flush(&mut std::io::stdout());
                let mut typed = String::new();
                let _ = std::io::stdin().read_line(&mut typed);
                typed.trim() == env
            }
            (None, false) => false,
        }
    } else if yes || confirm == Some(env) {
        true
    } else if interactive {
        print!("Destroy every stack of `{env}`? [y/N] ");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        matches!(answer.trim(), "y" | "yes")
    } else {
        false
    };
    let options = envc::deploy::status::DestroyOptions { force, confirmed };
    let printer: std::sync::Arc<dyn envc::deploy::Reporter> =
        std::sync::Arc::new(deploy::Printer::new(color));
    let in_flight = envc::deploy::InFlight::default();
    let report = match until_interrupted(
        envc::deploy::status::destroy(&target, &options, printer, in_flight.clone()),
        &in_flight,
    ) {
        Ok(report) => report,
        Err(code) => return code,
    };
    deploy::print_report(&report, "destroyed");
    print_diagnostics(
        &report.diagnostics,
        &SourceMap::default(),
        Format::Human,
        color,
    );
    if report.succeeded() {
        0
    } else {
        1
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap, format: Format, color: bool) {
    let text = report::render(diagnostics, sources, format, color);
    match format {
        Format::Human => {
            eprint!("{text}");
            for diagnostic in diagnostics {
                if let Some(attachment) = &diagnostic.attachment {
                    eprint!("{attachment}");
                }
            }
            if let Some(summary) = report::summary(diagnostics) {
                eprintln!("{summary}");
            }
        }
        Format::Json | Format::Github => print!("{text}"),
    }
}

fn format_explanation(explanation: &envc::explain::Explanation) -> String {
    let mut out = String::new();
    for value in &explanation.values {
        out.push_str(&format!(
            "{} {} = {}\n",
            explanation.env, value.path, value.shown
        ));
        for (i, step) in value.history.iter().enumerate() {
            let verb = if i == 0 { "set by" } else { "overrode" };
            let inherited = if i == 0 && step.env != explanation.env {
                format!(" (inherited by {})", explanation.env)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {verb:<9}{:<12} at {}  {}{inherited}\n",
                step.env, step.location, step.shown
            ));
        }
    }
    out
}
