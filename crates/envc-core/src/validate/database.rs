//! Database rules: RDS instance classes, and settings that fit the engine.

use crate::diagnostic::{Code, Diagnostic};
use crate::did_you_mean::suggestion;
use crate::model::{Database, Engine, Environment};

use super::EnvSpans;

/// RDS for PostgreSQL instance families and the sizes each comes in.
const FAMILIES: &[(&str, &[&str])] = &[
    (
        "t3",
        &["micro", "small", "medium", "large", "xlarge", "2xlarge"],
    ),
    (
        "t4g",
        &["micro", "small", "medium", "large", "xlarge", "2xlarge"],
    ),
    (
        "m5",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
        ],
    ),
    (
        "m6g",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
        ],
    ),
    (
        "m6i",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
            "32xlarge",
        ],
    ),
    (
        "m7g",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
        ],
    ),
    (
        "r5",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
        ],
    ),
    (
        "r6g",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
        ],
    ),
    (
        "r6i",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge",
            "32xlarge",
        ],
    ),
    (
        "r7g",
        &[
            "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge",
        ],
    ),
];

pub fn instance_classes() -> Vec<String> {
    FAMILIES
        .iter()
        .flat_map(|(family, sizes)| sizes.iter().map(move |s| format!("db.{family}.{s}")))
        .collect()
}

pub fn check_database(env: &Environment, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let Some(database) = &env.database else {
        return;
    };
    super::database_names::check_database_names(database, at, out);
    match database.engine {
        Engine::Postgres => {
            check_instance_class(database, at, out);
            if database.storage_gb.is_none() {
                out.push(postgres_needs(
                    "storage-gb",
                    "add the storage it starts with, for example `storage-gb 20` (RDS allocates 20 GiB or more)",
                    at,
                ));
            }
            check_max_storage(database, at, out);
            for key in ["min-acu", "max-acu"] {
                if at.spans.contains(&format!("/database/{key}")) {
                    out.push(
                        at.note_inherited(
                            &format!("/database/{key}"),
                            Diagnostic::error(
                                Code::DatabaseEngine,
                                format!(
                                    "`{key}` is for Aurora Serverless, not a PostgreSQL instance"
                                ),
                            )
                            .at(
                                at.key(&format!("/database/{key}")),
                                "not used by `engine \"postgres\"`",
                            )
                            .help("remove it, or use `engine \"aurora-postgresql\"`"),
                        ),
                    );
                }
            }
        }
        Engine::AuroraPostgresql => {
            for key in ["instance-class", "storage-gb", "max-storage-gb"] {
                if at.spans.contains(&format!("/database/{key}")) {
                    out.push(
                        at.note_inherited(
                            &format!("/database/{key}"),
                            Diagnostic::error(
                                Code::DatabaseEngine,
                                format!("`{key}` does not apply to Aurora Serverless v2"),
                            )
                            .at(
                                at.key(&format!("/database/{key}")),
                                "not used by `engine \"aurora-postgresql\"`",
                            )
                            .help("size Aurora Serverless v2 with `min-acu` and `max-acu`; its storage grows on its own"),
                        ),
                    );
                }
            }
            check_acu(database, at, out);
            if database.backup_days == 0 && at.spans.contains("/database/backup-days") {
                out.push(at.note_inherited(
                    "/database/backup-days",
                    Diagnostic::error(
                        Code::DatabaseEngine,
                        "Aurora keeps automated backups for 1 to 35 days; they cannot be turned off",
                    )
                    .at(at.value("/database/backup-days"), "0 days")
                    .help("set `backup-days` from 1 to 35 (Aurora's `BackupRetentionPeriod`)"),
                ));
            }
        }
    }
    check_force_ssl_once(database, at, out);
}

/// `force-ssl` sets the `rds.force_ssl` parameter: the parameter given as well would be
/// silently replaced by it.
fn check_force_ssl_once(database: &Database, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    const PARAMETER: &str = "rds.force_ssl";
    if database.force_ssl.is_none() || !database.parameters.contains_key(PARAMETER) {
        return;
    }
    let pointer = crate::resolve::path::pointer(&["database", "parameters", PARAMETER]);
    out.push(at.note_inherited(
        &pointer,
        Diagnostic::error(
            Code::DatabaseEngine,
            "`rds.force_ssl` is set twice: by `force-ssl` and in `parameters`",
        )
        .at(at.key(&pointer), "the parameter")
        .also(at.value("/database/force-ssl"), "sets it too")
        .help("give it once: `force-ssl #true` or `#false`, and remove `rds.force_ssl` from `parameters`"),
    ));
}

/// A PostgreSQL instance lacks `setting`, which it cannot be made without.
fn postgres_needs(setting: &str, help: &str, at: &EnvSpans) -> Diagnostic {
    at.note_inherited(
        "/database",
        Diagnostic::error(
            Code::DatabaseEngine,
            format!("a PostgreSQL instance needs `{setting}`"),
        )
        .at(at.key("/database"), "RDS PostgreSQL")
        .help(help),
    )
}

/// A PostgreSQL instance needs an `instance-class`, and one RDS offers.
fn check_instance_class(database: &Database, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    match &database.instance_class {
        None => out.push(postgres_needs(
            "instance-class",
            "add, for example, `instance-class \"db.t3.small\"`",
            at,
        )),
        Some(class) => {
            let known = instance_classes();
            if !known.iter().any(|k| k == class) {
                let (help, suggestion) = suggestion(
                    class,
                    known.iter().map(String::as_str),
                    || {
                        "use an RDS class like \"db.t3.micro\", \"db.t4g.small\" or \"db.m6i.large\"".to_string()
                    },
                );
                out.push(
                    at.note_inherited(
                        "/database/instance-class",
                        Diagnostic::error(
                            Code::InstanceClass,
                            format!("`{class}` is not an RDS PostgreSQL instance class"),
                        )
                        .at(
                            at.value("/database/instance-class"),
                            "unknown instance class",
                        )
                        .help(help)
                        .suggest(suggestion),
                    ),
                );
            }
        }
    }
}

/// `max-storage-gb`, where set, is above the storage the instance starts with.
fn check_max_storage(database: &Database, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    if let (Some(max), storage) = (database.max_storage_gb, database.storage_gb) {
        let storage = storage.unwrap_or(20);
        // RDS takes a maximum at least 10% above the allocated storage ("Invalid max storage
        // size" otherwise), and advises 26% (below it, RDS warns the maximum is reached).
        let least = (u64::from(storage) * 11).div_ceil(10);
        if u64::from(max) < least {
            out.push(at.note_inherited(
                "/database/max-storage-gb",
                Diagnostic::error(
                    Code::MinMax,
                    format!("`max-storage-gb` ({max}) is less than 10% above `storage-gb` ({storage})"),
                )
                .at(at.value("/database/max-storage-gb"), "the most storage may grow to")
                .also(at.value("/database/storage-gb"), "the storage it starts with")
                .help(format!("RDS takes a maximum at least 10% above the allocated storage, and advises 26%: set `max-storage-gb` to {least} or more ({} advised), or leave it out to keep the storage fixed", (u64::from(storage) * 126).div_ceil(100))),
            ));
        }
    }
}

/// Aurora Serverless v2 needs `min-acu` and `max-acu`, in order and in steps of 0.5.
fn check_acu(database: &Database, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    match (database.min_acu, database.max_acu) {
        (Some(min), Some(max)) if min > max => out.push(
            at.note_inherited(
                "/database/max-acu",
                Diagnostic::error(
                    Code::MinMax,
                    format!("`min-acu` ({min}) is above `max-acu` ({max})"),
                )
                .at(at.value("/database/max-acu"), "max")
                .also(at.value("/database/min-acu"), "min")
                .help("raise `max-acu` or lower `min-acu`"),
            ),
        ),
        (None, _) | (_, None) => out.push(
            at.note_inherited(
                "/database",
                Diagnostic::error(
                    Code::DatabaseEngine,
                    "Aurora Serverless v2 needs `min-acu` and `max-acu`",
                )
                .at(at.key("/database"), "Aurora Serverless v2")
                .help(
                    "add, for example, `min-acu 0; max-acu 4` (0 lets the cluster pause when idle)",
                ),
            ),
        ),
        _ => {}
    }
    for (key, value) in [("min-acu", database.min_acu), ("max-acu", database.max_acu)] {
        if let Some(v) = value {
            if (v * 2.0).fract() != 0.0 {
                out.push(
                    at.note_inherited(
                        &format!("/database/{key}"),
                        Diagnostic::error(
                            Code::OutOfRange,
                            format!("`{key}` must be a multiple of 0.5, not {v}"),
                        )
                        .at(
                            at.value(&format!("/database/{key}")),
                            "capacity steps are 0.5 ACU",
                        )
                        .help("use a value like 0, 0.5, 1, 1.5, 2 …"),
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_common_classes() {
        let known = instance_classes();
        for class in ["db.t3.micro", "db.t3.small", "db.t3.medium", "db.r6g.large"] {
            assert!(known.iter().any(|k| k == class), "{class}");
        }
        assert!(!known.iter().any(|k| k == "db.t3.huge"));
    }
}
