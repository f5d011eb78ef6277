//! `render`, `diff` and `graph`: printing what render produced.

use envc_core::diagnostic::Diagnostic;
use envc_core::golden::GoldenChange;

use super::output::{out, outln};
use super::report::Format;
use super::{print_diagnostics, Cli, GraphFormat};

/// Runs the pipeline for `env` (or all), printing problems; `None` when there were any.
fn rendered(cli: &Cli, env: Option<&str>, color: bool) -> Result<envc_core::PipelineRun, i32> {
    let only: Vec<String> = env.into_iter().map(String::from).collect();
    let checked = envc_core::run(&cli.dir, &only, envc_core::Stages::Render);
    super::output::learn(&checked.sources);
    if checked.has_errors() {
        print_diagnostics(&checked.diagnostics, &checked.sources, Format::Human, color);
        return Err(checked.exit_code());
    }
    if let Some(env) = env {
        if !checked.rendered.iter().any(|r| r.name == env) {
            let problem = checked.not_rendered(env);
            print_diagnostics(&[problem], &checked.sources, Format::Human, color);
            return Err(2);
        }
    }
    Ok(checked)
}

pub fn run_render(
    cli: &Cli,
    env: Option<&str>,
    stack: Option<&str>,
    write: bool,
    color: bool,
) -> i32 {
    if write && stack.is_some() {
        let problem = Diagnostic::error(
            envc_core::diagnostic::Code::Usage,
            "`--write` writes every stack of an environment, so it takes no `--stack`",
        )
        .help("write with `envc render --write` (or `envc render --write ENV`), or print one stack with `envc render ENV --stack NAME`");
        print_diagnostics(&[problem], &Default::default(), Format::Human, color);
        return 2;
    }
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
        // Only a write of the whole project knows which folders belong to no environment.
        let prune = env.is_none().then_some(deployable.as_slice());
        return match envc_core::golden::write(&cli.dir, &checked.rendered, prune) {
            Ok(changed) => {
                for change in &changed {
                    let (verb, path) = match change {
                        GoldenChange::Wrote(path) => ("wrote", path),
                        GoldenChange::Deleted(path) => ("deleted", path),
                    };
                    outln!(
                        "{verb} {}",
                        envc_core::files::display_path(&cli.dir, path).display()
                    );
                }
                if changed.is_empty() {
                    outln!("golden files are up to date");
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
        let problem = Diagnostic::error(
            envc_core::diagnostic::Code::Usage,
            "`render` prints one environment, and none was named",
        )
        .help("name one, like `envc render staging`, or write every golden file with `envc render --write`");
        print_diagnostics(&[problem], &checked.sources, Format::Human, color);
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
            envc_core::did_you_mean::did_you_mean(stack.unwrap_or_default(), known.iter().copied())
                .unwrap_or_else(|| format!("stacks of `{env}`: {}", known.join(", ")));
        let problem = Diagnostic::error(
            envc_core::diagnostic::Code::UnknownStack,
            format!("`{env}` has no stack `{}`", stack.unwrap_or_default()),
        )
        .help(help);
        print_diagnostics(&[problem], &checked.sources, Format::Human, color);
        return 2;
    }
    let many = stacks.len() > 1;
    for s in stacks {
        if many {
            outln!("# --- {}", s.golden_path().display());
        }
        out!("{}", s.body);
    }
    0
}

pub fn run_diff(cli: &Cli, env: &str, color: bool) -> i32 {
    let checked = match rendered(cli, Some(env), color) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let mut sources = checked.sources;
    let golden =
        envc_core::golden::GoldenUse::of(checked.validated.stacks.as_ref().map(|s| &s.model));
    if golden == envc_core::golden::GoldenUse::OptedOut {
        let problem = Diagnostic::error(
            envc_core::diagnostic::Code::Usage,
            "the project keeps no golden files (`golden #false`), so there is nothing to diff against",
        )
        .help(format!("see what `{env}` renders with `envc render {env}`, or what would change in AWS with `envc diff {env} --live`"));
        print_diagnostics(&[problem], &sources, Format::Human, color);
        return 2;
    }
    let problems = envc_core::golden::compare(&cli.dir, &checked.rendered, golden, &mut sources);
    if problems.is_empty() {
        outln!("no differences: golden files of `{env}` match a fresh render");
        return 0;
    }
    for problem in &problems {
        match &problem.attachment {
            Some(diff) => out!("{diff}"),
            None => outln!("{}", problem.message),
        }
    }
    1
}

pub fn run_graph(cli: &Cli, env: &str, format: GraphFormat, color: bool) -> i32 {
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
    out!("{out}");
    0
}

fn node_id(stack: &str) -> String {
    stack
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
