//! The `envc` command line, over the stage crates: [`envc_core`] (parse to golden files, the
//! pull request view, formatting and docs), [`envc_deploy`] (AWS) and [`envc_lsp`] (the editor).
//!
//! Its modules are the commands' argument parsing and their output. The stage crates are
//! re-exported under the names they had when envc was one crate, so tests and fuzz targets
//! that drive the whole tool name one crate.

pub mod cli;

pub use envc_core::*;
pub use envc_deploy as deploy;
pub use envc_deploy::{deploy_target, deploy_targets, task_target, AwsOptions};
pub use envc_lsp as lsp;
