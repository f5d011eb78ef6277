//! Estimated cost against the budget: an environment whose monthly estimate (what runs by
//! the hour and month, before any usage) is over its `monitoring { budget-usd }` would have
//! its budget alarm fire every month. A warning, at the budget.

use std::collections::BTreeMap;

use super::template::Rendered;
use super::Finding;
use crate::cost::{estimate, Prices};
use crate::diagnostic::{Code, Diagnostic};

pub(super) fn check(stacks: &[Rendered], out: &mut Vec<Finding>) {
    let mut by_env: BTreeMap<&str, Vec<&Rendered>> = BTreeMap::new();
    for stack in stacks {
        by_env
            .entry(stack.env.name.as_str())
            .or_default()
            .push(stack);
    }
    for stacks in by_env.into_values() {
        let env = stacks[0].env;
        let Some(budget) = env.model.monitoring.as_ref().and_then(|m| m.budget_usd) else {
            continue;
        };
        let trees: Vec<(&str, &crate::render::yaml::Yaml)> = stacks
            .iter()
            .map(|s| (s.stack.stack.as_str(), &*s.tree))
            .collect();
        let prices = Prices::shipped();
        let estimate = estimate(&env.name, stacks[0].region(), &trees, prices);
        if estimate.total.low <= f64::from(budget) {
            continue;
        }
        let Some(located) = env.spans.get("/monitoring/budget-usd") else {
            continue;
        };
        let mut biggest: Vec<(&str, f64)> = estimate
            .by_stack()
            .into_iter()
            .map(|(stack, money)| (stack, money.low))
            .collect();
        biggest.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = biggest
            .iter()
            .take(3)
            .map(|(stack, usd)| format!("{stack} {usd:.2}"))
            .collect();
        let diagnostic = Diagnostic::warning(
            Code::OverBudget,
            format!(
                "`{}` is estimated at {} USD a month, over its budget of {budget} USD",
                env.name,
                estimate.total.shown()
            ),
        )
        .at(located.value, "the budget")
        .help(format!(
            "most of it: {}; `envc cost {}` shows every resource. Raise the budget, or make the environment smaller",
            top.join(", "),
            env.name
        ))
        .note(format!(
            "on-demand prices of {}, 730 hours a month, before usage (requests, data); the budget alarm would fire every month",
            prices.date
        ));
        let diagnostic = if *located.env != *env.name {
            diagnostic.inherited_by(&env.name)
        } else {
            diagnostic
        };
        out.push(Finding {
            envs: vec![env.name.clone()],
            diagnostic,
        });
    }
}
