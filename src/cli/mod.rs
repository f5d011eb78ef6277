//! The command line: arguments, and printing what the library returns.

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
        Command::Schema { check } => {
            if *check {
                let stale = envc::stale_schemas(&cli.dir);
                for (path, current, expected) in &stale {
                    eprintln!("envc: `{}` is stale; run `envc schema`", path.display());
                    eprint!(
                        "{}",
                        unified_diff(current, expected, &path.display().to_string())
                    );
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

fn print_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap, format: Format, color: bool) {
    let text = report::render(diagnostics, sources, format, color);
    match format {
        Format::Human => {
            eprint!("{text}");
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

/// A minimal unified diff of two texts, line by line.
pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    diff.unified_diff()
        .context_radius(3)
        .header(
            &format!("{name} (committed)"),
            &format!("{name} (generated)"),
        )
        .to_string()
}
