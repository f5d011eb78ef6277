//! Settings that no stack of an environment reads: a `waf` block in a project with no
//! `waf` stack, a `service "admin"` that no stack deploys. Each is refused at its key, since
//! nothing would come of it. A stack rendered by a template of the project's own (a project
//! kind, a `template`, or a built-in it overrides, `_macros.j2` included) sees every setting,
//! so where one renders, none is refused here.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::{Environment, StackKind};
use crate::resolve::path;
use crate::validate::{EnvSpans, ValidEnv, ValidStacks};

use StackKind::*;

/// A setting a kind owns (a block, or `domain` and `config-secret`): its name, whether an
/// environment sets it, its kind, and every built-in kind whose template reads it.
type KindSetting = (
    &'static str,
    fn(&Environment) -> bool,
    StackKind,
    &'static [StackKind],
);

const KIND_SETTINGS: [KindSetting; 10] = [
    ("waf", |m| m.waf.is_some(), Waf, &[Waf]),
    (
        "monitoring",
        |m| m.monitoring.is_some(),
        Monitoring,
        &[Monitoring],
    ),
    ("ci", |m| m.ci.is_some(), CiRole, &[CiRole]),
    (
        "migration",
        |m| m.migration.is_some(),
        Migration,
        &[Migration],
    ),
    ("database", |m| m.database.is_some(), Database, &[Database]),
    // A service reads `dns` (its zone) only with a `dns` stack, as it does `domain`.
    ("dns", |m| m.dns.is_some(), Dns, &[Dns]),
    ("domain", |m| m.domain.is_some(), Dns, &[Dns]),
    (
        "config-secret",
        |m| m.config_secret.is_some(),
        ConfigSecret,
        &[ConfigSecret, Service],
    ),
    (
        "registry",
        |m| m.registry.is_some(),
        Registry,
        &[Registry, Service, Worker, Migration, CiRole],
    ),
    (
        "cluster",
        |m| m.cluster.is_some(),
        Cluster,
        &[Cluster, Service, Worker, Migration, Monitoring, CiRole],
    ),
];

/// Fields of a block that only its own kind reads, where other kinds read the rest of it:
/// the services' image names the repository, but only a `registry` stack makes it, with
/// these.
const OWN_KIND_FIELDS: [(&str, StackKind, &[&str]); 1] = [(
    "registry",
    Registry,
    &[
        "keep-images",
        "scan-on-push",
        "immutable-tags",
        "empty-on-delete",
    ],
)];

/// Settings of the environment (each with a default) that only the kinds of
/// [`RUN_CONTAINERS`] read: refused where the environment sets one and none is there.
const CONTAINER_SETTINGS: [&str; 2] = ["image-tag", "log-retention-days"];
const RUN_CONTAINERS: &[StackKind] = &[Service, Worker, Migration];

/// Refuses each setting of `env` that no stack in `present` reads. `projects_own`: whether a
/// stack renders a template of the project's own.
pub(super) fn unread_settings(
    stacks: &ValidStacks,
    env: &ValidEnv,
    present: &[&str],
    projects_own: &dyn Fn(&str) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    if present.iter().any(|name| projects_own(name)) {
        return;
    }
    let config = &stacks.model;
    let reading = Reading {
        env,
        kinds: present
            .iter()
            .filter_map(|name| config.stack[*name].builtin())
            .collect(),
        project_kinds: config.stack.values().filter_map(|s| s.builtin()).collect(),
        deployed: present
            .iter()
            .filter_map(|name| {
                let stack = &config.stack[*name];
                match stack.builtin()? {
                    Service => Some((Service, stack.service.as_deref()?)),
                    Worker => Some((Worker, stack.worker.as_deref()?)),
                    _ => None,
                }
            })
            .collect(),
    };
    reading.kind_settings(out);
    reading.units(out);
}

/// What the stacks of an environment read: their kinds, and the services and workers they
/// deploy.
struct Reading<'a> {
    env: &'a ValidEnv,
    kinds: Vec<StackKind>,
    /// The built-in kinds of every stack of the project, present here or not.
    project_kinds: Vec<StackKind>,
    deployed: Vec<(StackKind, &'a str)>,
}

impl Reading<'_> {
    fn reads(&self, readers: &[StackKind]) -> bool {
        self.kinds.iter().any(|k| readers.contains(k))
    }

    /// The settings of [`KIND_SETTINGS`], [`OWN_KIND_FIELDS`] and [`CONTAINER_SETTINGS`],
    /// and the queues, with no stack of a kind that reads them.
    fn kind_settings(&self, out: &mut Vec<Diagnostic>) {
        let model = &self.env.model;
        for (setting, is_set, owner, readers) in KIND_SETTINGS {
            if is_set(model) && !self.reads(readers) {
                let kind = owner.name();
                // The project's `dns` stack deploys only where there is a `domain` to serve.
                if setting == "dns" && model.domain.is_none() && self.project_kinds.contains(&Dns) {
                    out.push(refusal(
                        self.env,
                        &path::pointer(&[setting]),
                        "`dns` is set, but there is no `domain`, so the `dns` stack does not deploy here".to_string(),
                        "set `domain` to the name to serve, or remove `dns`".to_string(),
                    ));
                    continue;
                }
                out.push(refusal(
                    self.env,
                    &path::pointer(&[setting]),
                    format!("`{setting}` is set, but no stack has kind `{kind}`"),
                    format!("add `stack \"{kind}\" kind=\"{kind}\"` to stacks.kdl, or remove it"),
                ));
            }
        }
        self.own_kind_fields(out);
        self.unit_settings(out);
        if self.reads(&[Queues]) {
            if !self.reads(&[Monitoring]) {
                self.queue_alarms(out);
            }
            return;
        }
        for name in model.queue.keys() {
            out.push(refusal(
                self.env,
                &path::pointer(&["queue", name]),
                format!("queue `{name}` is set, but no stack has kind `queues`"),
                "add `stack \"queues\" kind=\"queues\"` to stacks.kdl (it makes every queue), or remove it".to_string(),
            ));
        }
    }

    /// Each queue's `alarm-depth`, where no `monitoring` stack makes its alarm.
    fn queue_alarms(&self, out: &mut Vec<Diagnostic>) {
        for (name, queue) in &self.env.model.queue {
            let pointer = path::pointer(&["queue", name, "alarm-depth"]);
            if queue.alarm_depth.is_some() && self.env.spans.contains(&pointer) {
                out.push(refusal(
                    self.env,
                    &pointer,
                    format!("queue `{name}`'s `alarm-depth` is set, but no stack has kind `monitoring`"),
                    "only a `monitoring` stack makes its alarm: add `stack \"monitoring\" kind=\"monitoring\"` to stacks.kdl, or remove it".to_string(),
                ));
            }
        }
    }

    /// The settings of [`CONTAINER_SETTINGS`] the environment sets, where no stack reads them.
    fn unit_settings(&self, out: &mut Vec<Diagnostic>) {
        if self.reads(RUN_CONTAINERS) {
            return;
        }
        for setting in CONTAINER_SETTINGS {
            let pointer = path::pointer(&[setting]);
            if self.env.spans.contains(&pointer) {
                out.push(refusal(
                    self.env,
                    &pointer,
                    format!("`{setting}` is set, but no stack is a service, worker or migration"),
                    "only `service`, `worker` and `migration` stacks read it; remove it"
                        .to_string(),
                ));
            }
        }
    }

    /// The fields of [`OWN_KIND_FIELDS`] set where other kinds read their block but its own
    /// kind is not there (with no reader at all, the whole block is refused).
    fn own_kind_fields(&self, out: &mut Vec<Diagnostic>) {
        let block_read = |block: &str| {
            KIND_SETTINGS
                .iter()
                .any(|(name, _, _, readers)| *name == block && self.reads(readers))
        };
        for (block, owner, fields) in OWN_KIND_FIELDS {
            if self.reads(&[owner]) || !block_read(block) {
                continue;
            }
            let kind = owner.name();
            for field in fields {
                let pointer = path::pointer(&[block, field]);
                if self.env.spans.contains(&pointer) {
                    out.push(refusal(
                        self.env,
                        &pointer,
                        format!("`{block}.{field}` is set, but no stack has kind `{kind}`"),
                        format!("only a `{kind}` stack reads it: add `stack \"{kind}\" kind=\"{kind}\"` to stacks.kdl, or remove it"),
                    ));
                }
            }
        }
    }

    /// Services and workers no stack deploys (a service a `migration` runs with counts as
    /// deployed). Not of a kind where a stack selects one the environment does not define:
    /// that stack's problem is reported, with the names it may have meant.
    fn units(&self, out: &mut Vec<Diagnostic>) {
        let model = &self.env.model;
        let defined = |kind: StackKind, name: &str| match kind {
            Service => model.service.contains_key(name),
            _ => model.worker.contains_key(name),
        };
        let misselected = |kind: StackKind| {
            self.deployed
                .iter()
                .any(|(k, name)| *k == kind && !defined(kind, name))
        };
        let migrated = model
            .migration
            .as_ref()
            .filter(|_| self.kinds.contains(&Migration))
            .map(|m| m.service.as_str());
        let services = model
            .service
            .keys()
            .filter(|n| migrated != Some(n.as_str()));
        let units = services
            .map(|n| (Service, n))
            .chain(model.worker.keys().map(|n| (Worker, n)));
        for (kind, name) in units {
            if misselected(kind) || self.deployed.contains(&(kind, name.as_str())) {
                continue;
            }
            let what = kind.name();
            out.push(refusal(
                self.env,
                &path::pointer(&[&what, name]),
                format!("no stack deploys {what} `{name}`"),
                format!("add `stack \"{name}\" kind=\"{what}\" {what}=\"{name}\"` to stacks.kdl, or remove it"),
            ));
        }
    }
}

/// The refusal of the setting at `pointer`, at its key (noted when an ancestor sets it).
fn refusal(env: &ValidEnv, pointer: &str, message: String, help: String) -> Diagnostic {
    let at = EnvSpans {
        env: &env.name,
        file: env.file,
        spans: &env.spans,
    };
    let diagnostic = Diagnostic::error(Code::NotApplicable, message)
        .at(at.key(pointer), "no stack reads this")
        .help(help);
    at.note_inherited(pointer, diagnostic)
}
