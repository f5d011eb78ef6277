//! Names a PostgreSQL database and its master user may not take: PostgreSQL's reserved key
//! words, the `pg_` prefix PostgreSQL keeps for its own roles, and the roles RDS creates.
//! RDS refuses them ("can't be a reserved word for the chosen database engine", CreateDBInstance
//! and CreateDBCluster `MasterUsername` and `DBName`), but only when the stack is deployed.

use crate::diagnostic::{Code, Diagnostic};
use crate::model::Database;

use super::EnvSpans;

/// PostgreSQL's reserved key words (Appendix C, "reserved" in the PostgreSQL column; the
/// `RESERVED_KEYWORD` entries of its `kwlist.h`). Neither a role nor a database may take one
/// unquoted.
const RESERVED_WORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// Roles RDS creates in every PostgreSQL instance and cluster (its user guide's "Understanding
/// PostgreSQL roles and permissions"); a master user of the same name cannot be created.
const RDS_ROLES: &[&str] = &[
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser",
    "rds_replication",
    "rds_password",
    "rds_iam",
    "rds_ad",
];

/// Master user names RDS refuses for PostgreSQL and Aurora PostgreSQL though PostgreSQL itself
/// takes them ("MasterUsername admin cannot be used as it is a reserved word used by the
/// engine"; cfn-lint's rule of RDS `MasterUsername`, checked against CloudFormation).
const RDS_RESERVED_USERS: &[&str] = &["admin"];

/// Why PostgreSQL or RDS would refuse `name` as a role (`role` true) or database name.
fn refusal(name: &str, role: bool) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if RESERVED_WORDS.contains(&lower.as_str()) {
        Some("a reserved word of PostgreSQL")
    } else if role && lower.starts_with("pg_") {
        Some("PostgreSQL keeps role names that begin with `pg_` for its own roles")
    } else if role && RDS_ROLES.contains(&lower.as_str()) {
        Some("RDS creates a role of this name itself")
    } else if role && RDS_RESERVED_USERS.contains(&lower.as_str()) {
        Some("RDS keeps this name for PostgreSQL's engine (\"a reserved word used by the engine\")")
    } else {
        None
    }
}

/// `master-user` and `name` are names RDS can create.
pub fn check_database_names(database: &Database, at: &EnvSpans, out: &mut Vec<Diagnostic>) {
    let names = [
        ("master-user", Some(&database.master_user), true),
        ("name", database.name.as_ref(), false),
    ];
    for (key, value, role) in names {
        let Some(value) = value else { continue };
        let Some(why) = refusal(value, role) else {
            continue;
        };
        let pointer = format!("/database/{key}");
        let what = if role { "master user" } else { "database" };
        out.push(
            at.note_inherited(
                &pointer,
                Diagnostic::error(
                    Code::DatabaseName,
                    format!("RDS cannot create a {what} named `{value}`"),
                )
                .at(at.value(&pointer), why)
                .help(format!(
                    "choose another name, like `{}`",
                    if role { "app_admin" } else { "app" }
                )),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn refuses_what_postgres_and_rds_keep() {
        assert!(refusal("user", true).is_some());
        assert!(refusal("SELECT", false).is_some());
        assert!(refusal("pg_app", true).is_some());
        assert!(refusal("rds_superuser", true).is_some());
        assert!(refusal("rds_app", true).is_none());
        assert!(refusal("rdsadmin", true).is_some());
        assert!(refusal("Admin", true).is_some());
        assert!(refusal("admin", false).is_none());
        // Databases may begin with `pg_`; only roles are kept.
        assert!(refusal("pg_app", false).is_none());
        for allowed in ["app", "postgres", "users", "admin_user"] {
            assert!(refusal(allowed, true).is_none(), "{allowed}");
        }
    }
}
