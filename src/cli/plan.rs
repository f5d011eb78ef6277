//! The change table of one stack's plan: a line per resource, marked added, modified or
//! removed and replaced, and under a modification a line per property, before → after.

use envc_deploy::plan::{Action, ChangeSetSummary, PropertyChange, Replacement};

pub fn change_table(summary: &ChangeSetSummary, color: bool) -> String {
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = format!(
        "{} ({}){}: {} to add, {} to modify{}, {} to remove\n",
        summary.stack,
        summary.stack_name,
        if summary.is_new { ", new stack" } else { "" },
        summary.count(Action::Add),
        summary.count(Action::Modify),
        match summary.replacements() {
            0 => String::new(),
            n => format!(" ({n} replaced)"),
        },
        summary.count(Action::Remove),
    );
    if let Some(when) = &summary.drifted {
        out.push_str(&paint(
            &format!("  drifted from its template (detected {when}): this deploy puts the template back over what was changed by hand; `envc drift` shows it\n"),
            "33",
        ));
    }
    if !summary.waiting_for.is_empty() {
        out.push_str(&format!(
            "  (from the templates: CloudFormation's change set is made once an earlier wave exports {})\n",
            summary.waiting_for.join(", ")
        ));
    }
    let width = summary
        .changes
        .iter()
        .map(|c| c.logical_id.len())
        .max()
        .unwrap_or(0);
    for change in &summary.changes {
        let (mark, code) = match change.action {
            Action::Add => ("+", "32"),
            Action::Remove => ("-", "31"),
            _ => ("~", "33"),
        };
        let replacement = match (change.action, change.replacement) {
            (Action::Modify, Replacement::Yes) => paint("  REPLACED", "1;31"),
            (Action::Modify, Replacement::Conditional) => paint("  may be replaced", "31"),
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {} {:<7} {:<width$}  {}{replacement}\n",
            paint(mark, code),
            change.action.as_str(),
            change.logical_id,
            change.resource_type
        ));
        for property in &change.properties {
            out.push_str(&property_row(property, &paint));
        }
    }
    out
}

/// `      VisibilityTimeout: 30 → 60  (replaces)`: one property of a modification. A long
/// start both values share (an image's registry) is left out, and so is the middle of what
/// is still long: an image's tag and an ARN's name are at the end.
fn property_row(property: &PropertyChange, paint: &dyn Fn(&str, &str) -> String) -> String {
    let (before, after) = (&property.before, &property.after);
    let shared = match (before, after) {
        (Some(b), Some(a)) => {
            let common = b.bytes().zip(a.bytes()).take_while(|(x, y)| x == y).count();
            b[..common].rfind('/').filter(|at| *at >= 20).unwrap_or(0)
        }
        _ => 0,
    };
    let value = |v: &Option<String>| match v {
        None => "(not set)".to_string(),
        Some(v) => {
            let v = if shared > 0 {
                format!("…{}", &v[shared..])
            } else {
                v.clone()
            };
            let chars: Vec<char> = v.chars().collect();
            if chars.len() <= 60 {
                return v;
            }
            let (head, tail) = (&chars[..20], &chars[chars.len() - 39..]);
            format!(
                "{}…{}",
                head.iter().collect::<String>(),
                tail.iter().collect::<String>()
            )
        }
    };
    let values = match (before, after) {
        (None, None) => String::new(),
        (before, after) => format!(": {} → {}", value(before), value(after)),
    };
    let cause = property
        .cause
        .as_ref()
        .map(|c| format!(" (from parameter {c})"))
        .unwrap_or_default();
    let recreation = match property.recreation {
        Replacement::Yes => paint("  (replaces)", "31"),
        Replacement::Conditional => paint("  (may replace)", "31"),
        Replacement::No => String::new(),
    };
    format!("      {}{cause}{values}{recreation}\n", property.path)
}
