//! Domains across environments: two environments never serve the same name (each creates
//! its own records and certificate for it, and the second deploy would take the first's).

use crate::diagnostic::{Code, Diagnostic};

use super::ValidEnv;

pub fn check_shared_domains(envs: &[&ValidEnv], out: &mut Vec<Diagnostic>) {
    for (i, a) in envs.iter().enumerate() {
        let Some(domain) = a.model.domain.as_deref() else {
            continue;
        };
        for b in &envs[i + 1..] {
            if b.model.domain.as_deref() != Some(domain) {
                continue;
            }
            let (Some(a_span), Some(b_span)) = (
                a.spans.nearest("/domain").map(|l| l.value),
                b.spans.nearest("/domain").map(|l| l.value),
            ) else {
                continue;
            };
            let diagnostic = Diagnostic::error(
                Code::Domain,
                format!("`{}` and `{}` both serve `{domain}`", a.name, b.name),
            );
            out.push(if a_span == b_span {
                // One line sets both: the one that inherits it should set its own.
                let child = if a_span.file == a.file { &b.name } else { &a.name };
                diagnostic
                    .at(a_span, format!("inherited by both `{}` and `{}`", a.name, b.name))
                    .help(format!(
                        "give `{child}` its own `domain \"…\"`, or write the name with `${{env}}` so each environment gets its own"
                    ))
            } else {
                diagnostic
                    .at(b_span, format!("`{}` serves {domain}", b.name))
                    .also(a_span, format!("`{}` serves it too", a.name))
                    .help("each environment needs a domain of its own")
            });
        }
    }
}
