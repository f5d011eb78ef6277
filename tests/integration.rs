//! envc's integration tests, one module per area, built as one test binary. Each test file
//! used to be a binary of its own, and each linked the whole AWS SDK: thirteen links and over
//! a gigabyte of test binaries where one does.

mod support;

mod before_aws;
mod cache;
mod cli;
mod corpus;
mod credentials;
mod effects;
mod fmt;
mod hostile_inputs;
mod hostile_repository;
mod kdl_reader;
mod kdl_spec;
mod lsp;
mod lsp_fixture;
mod lsp_kinds;
mod lsp_protocol;
mod properties;
mod render;
mod review;
mod run_task;
mod scenario;
mod workspace;
mod yaml_reader;
