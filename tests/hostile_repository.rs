//! A repository that is not friendly: links out of the project where envc keeps its cache,
//! environments, golden files, documents and schemas, links planted where envc's temporary
//! files once went, and files with permissions of their own. Every command that writes
//! leaves the folder the links lead to as it was, byte for byte; `fmt` keeps permissions
//! and links; `init` and `new-kind` leave all their files or none.

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::support;

/// Every entry under `dir`, links not followed: its bytes (or link target) and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut found = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            let bytes = if meta.file_type().is_symlink() {
                std::fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if meta.is_dir() {
                todo.push(path.clone());
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            found.insert(relative, (bytes, meta.permissions().mode()));
        }
    }
    found
}

/// A folder outside the project, holding what envc might be tricked into touching.
fn victim() -> tempfile::TempDir {
    let outside = tempfile::tempdir().unwrap();
    for i in 0..50 {
        std::fs::write(outside.path().join(format!("{i:032x}")), "keep\n").unwrap();
    }
    // Files named as envc's would be, unformatted KDL among them.
    std::fs::write(outside.path().join("zz.kdl"), "a   1\n").unwrap();
    std::fs::write(outside.path().join("network.yaml"), "keep\n").unwrap();
    std::fs::write(outside.path().join("settings.md"), "keep\n").unwrap();
    outside
}

#[test]
fn no_writing_command_changes_a_folder_that_links_lead_to() {
    let outside = victim();
    let before = snapshot(outside.path());
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    support::copy_project(support::root(), project);
    link_out(project, outside.path());
    writing_commands_are_refused_where_a_link_leads_out(project);
    fmt_passes_links_by_and_refuses_them_named(project, outside.path());
    init_through_a_link_out_is_refused_and_leaves_nothing(project, outside.path());

    assert_eq!(
        snapshot(outside.path()),
        before,
        "the folder outside changed"
    );
    let check = support::envc(project, &["check"]);
    assert!(
        check.all().contains("envc::cache::refused"),
        "{}",
        check.all()
    );
}

/// Links from `project` to `outside` where envc keeps its cache, environments, golden files,
/// documents, schemas and new kinds, and where its temporary files used to go; and an
/// unformatted `env/dev.kdl`.
fn link_out(project: &Path, outside: &Path) {
    let link = |at: &str, to: &Path| symlink(to, project.join(at)).unwrap();
    link(".envc", outside);
    link("env/more", outside);
    std::fs::remove_dir_all(project.join("golden/dev")).unwrap();
    link("golden/dev", outside);
    std::fs::remove_dir_all(project.join("docs")).unwrap();
    link("docs", outside);
    std::fs::remove_dir_all(project.join("schema")).unwrap();
    link("schema", outside);
    // Where envc's temporary files used to go, and a folder for new kinds.
    link("env/dev.envc-tmp", &outside.join("settings.md"));
    link("stacks.envc-tmp", &outside.join("network.yaml"));
    link("kinds", outside);
    std::fs::write(project.join("env/dev.kdl"), {
        let text = std::fs::read_to_string(project.join("env/dev.kdl")).unwrap();
        text.replacen('\n', "\n   \n", 1)
    })
    .unwrap();
}

/// Commands that reach their writes on this project, each refused where a link leads out.
fn writing_commands_are_refused_where_a_link_leads_out(project: &Path) {
    for args in [
        vec!["check"],
        vec!["render", "--write"],
        vec!["render", "--write", "dev"],
        vec!["new-kind", "queue-two"],
        vec!["fmt"],
        vec!["docs"],
        vec!["schema"],
    ] {
        let run = support::envc(project, &args);
        assert!(run.code >= 0, "{args:?}: {}", run.all());
        if args.len() > 1 && args[0] != "fmt" || args == ["docs"] || args == ["schema"] {
            assert!(
                run.all().contains("envc::io::refused"),
                "{args:?}: {}",
                run.all()
            );
        }
    }
}

/// An environment file that is a link out, and a path out, given to `fmt`: walking folders,
/// `fmt` passes links by; named, they are refused.
fn fmt_passes_links_by_and_refuses_them_named(project: &Path, outside: &Path) {
    symlink(outside.join("zz.kdl"), project.join("env/zz.kdl")).unwrap();
    let outside_kdl = outside.join("zz.kdl");
    for args in [vec!["fmt"], vec!["fmt", "env"]] {
        let run = support::envc(project, &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.all());
    }
    for args in [
        vec!["fmt", "env/zz.kdl"],
        vec!["fmt", outside_kdl.to_str().unwrap()],
        vec!["check"],
    ] {
        let run = support::envc(project, &args);
        assert_ne!(run.code, 0, "{args:?}: {}", run.all());
    }
}

/// `init` into a new folder whose `schema` leads out: refused, and nothing left.
fn init_through_a_link_out_is_refused_and_leaves_nothing(project: &Path, outside: &Path) {
    let fresh = project.join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    symlink(outside, fresh.join("schema")).unwrap();
    let init = support::envc(&fresh, &["init", "--name", "fresh"]);
    assert_ne!(init.code, 0, "{}", init.all());
    assert!(init.all().contains("envc::io::refused"), "{}", init.all());
    let left: Vec<_> = std::fs::read_dir(&fresh)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["schema"], "init left {left:?}");
}

#[test]
fn fmt_keeps_permissions_writes_through_links_inside_the_project_and_leaves_read_only_files() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    support::copy_project(support::root(), project);
    std::fs::create_dir(project.join("env/real")).unwrap();
    let unformatted = "x   1\n";
    for (name, mode) in [("private.kdl", 0o600), ("read-only.kdl", 0o444)] {
        let path = project.join("env/real").join(name);
        std::fs::write(&path, unformatted).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    symlink("real/private.kdl", project.join("env/linked.kdl")).unwrap();
    let run = support::envc(
        project,
        &["fmt", "env/linked.kdl", "env/real/read-only.kdl"],
    );
    // A file made read-only is left as it is (as `gofmt -w` or `rustfmt` leave it), and said.
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("cannot write `env/real/read-only.kdl`: it is read-only"),
        "{}",
        run.all()
    );
    let mode = |name: &str| {
        std::fs::symlink_metadata(project.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("env/real/private.kdl"), 0o600);
    assert_eq!(mode("env/real/read-only.kdl"), 0o444);
    let link = std::fs::symlink_metadata(project.join("env/linked.kdl")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert_eq!(
        std::fs::read_to_string(project.join("env/real/private.kdl")).unwrap(),
        "x 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(project.join("env/real/read-only.kdl")).unwrap(),
        unformatted
    );
    // No temporary file is left beside them.
    let names: Vec<_> = std::fs::read_dir(project.join("env/real"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn init_beside_a_broken_kind_fails_and_leaves_the_folder_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("kinds")).unwrap();
    std::fs::write(
        dir.path().join("kinds/q.schema.json"),
        r##"{"type": "object", "properties": {"x": {"$ref": "#/nope"}}}"##,
    )
    .unwrap();
    std::fs::write(dir.path().join("kinds/q.yaml.j2"), "Resources: {}\n").unwrap();
    let before = snapshot(dir.path());
    let run = support::envc(dir.path(), &["init", "--name", "demo"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("envc::kind::definition"),
        "{}",
        run.all()
    );
    assert!(run.all().contains("kinds/q.schema.json"), "{}", run.all());
    assert_eq!(snapshot(dir.path()), before);
    // A kind named as a built-in is refused before anything is written.
    let run = support::envc(dir.path(), &["new-kind", "network"]);
    assert_ne!(run.code, 0, "{}", run.all());
    assert_eq!(snapshot(dir.path()), before);
}
