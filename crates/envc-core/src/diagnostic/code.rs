//! The stable codes diagnostics carry: one variant per kind of problem, with its text form
//! (`envc::resolve::cycle`) and what it means. A code never changes meaning once released.

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// Stable diagnostic codes. The text form (`envc::resolve::cycle`) never changes meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $(#[$doc])* $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)* }
            }
        }
    };
}

codes! {
    /// A file or directory could not be read or written.
    Io = "envc::io",
    /// A project file that envc will not read: a FIFO, a device, a symlink out of the
    /// project, or one over the size limit.
    FileRefused = "envc::io::refused",
    /// A file that is not valid UTF-8.
    Encoding = "envc::io::encoding",
    /// The directory has no `stacks.kdl` or no `env/` folder.
    NoProject = "envc::project::missing",
    /// The project's `.envc/` is not a plain folder, so no cache is used.
    CacheRefused = "envc::cache::refused",
    /// An environment named on the command line does not exist.
    UnknownEnv = "envc::project::unknown-env",
    /// KDL syntax error.
    Syntax = "envc::parse::syntax",
    /// Blocks or comments nested deeper than envc reads.
    TooDeep = "envc::parse::too-deep",
    /// A top-level node too long for envc to explain its syntax errors.
    NodeTooLong = "envc::parse::too-long",
    /// A number that is not finite (`1e400`, `#nan`, `#inf`) or does not fit.
    Number = "envc::parse::number",
    /// A type annotation that envc does not know, like `(repalce)`.
    UnknownAnnotation = "envc::parse::unknown-annotation",
    /// A merge annotation where it means nothing, like `(replace)extends "staging"`.
    MisplacedAnnotation = "envc::parse::misplaced-annotation",
    /// The same node (or keyed node) twice in one scope of one file.
    DuplicateNode = "envc::parse::duplicate",
    /// A node is missing the argument it needs, or has too many.
    Arity = "envc::parse::arity",
    /// A node mixes shapes, like arguments and children on a scalar.
    Shape = "envc::parse::shape",
    /// A property given twice on one node.
    DuplicateProperty = "envc::parse::duplicate-property",
    /// A `.kdl` file that `envc fmt` would lay out differently (`fmt --check`).
    Unformatted = "envc::fmt::unformatted",
    /// A file `envc fmt` will not rewrite: the new layout would not read the same (a bug in
    /// the formatter, reported instead of acted on).
    FormatMeaning = "envc::fmt::meaning",
    /// An environment file name that is not a valid environment name.
    EnvName = "envc::parse::env-name",
    /// `extends` names an environment that does not exist.
    MissingParent = "envc::resolve::missing-parent",
    /// `extends` chains form a cycle.
    ExtendsCycle = "envc::resolve::cycle",
    /// An `extends` chain deeper than envc follows.
    ExtendsTooDeep = "envc::resolve::too-deep",
    /// `(remove)` of something the environment does not inherit.
    RemoveMissing = "envc::resolve::remove-missing",
    /// `(remove)` with a value, property or block, which would be dropped with it.
    RemoveWithValue = "envc::resolve::remove-with-value",
    /// `(append)` on something that is not a list.
    AppendNotList = "envc::resolve::append-not-list",
    /// A node sets a name envc reserves, like `env`.
    Reserved = "envc::resolve::reserved",
    /// `${path}` names no value of the merged environment.
    UnknownRef = "envc::resolve::unknown-ref",
    /// `${path}` references form a cycle.
    RefCycle = "envc::resolve::ref-cycle",
    /// `${path}` names a table or list where a scalar is needed.
    RefNotScalar = "envc::resolve::ref-not-scalar",
    /// `${path}` references that lead through too many others, or expand to too long a
    /// string.
    RefLimit = "envc::resolve::ref-limit",
    /// A `${` without its closing `}`.
    RefSyntax = "envc::resolve::ref-syntax",
    /// A `${…}` reference in a key or node name, where references are not resolved.
    RefInKey = "envc::resolve::ref-in-key",
    /// A key the schema does not know.
    UnknownKey = "envc::schema::unknown-key",
    /// A required key is missing.
    MissingKey = "envc::schema::missing-key",
    /// A value of the wrong type.
    WrongType = "envc::schema::type",
    /// A value outside the allowed set.
    NotAllowed = "envc::schema::enum",
    /// A number out of range.
    OutOfRange = "envc::schema::range",
    /// A string that does not match its format.
    BadFormat = "envc::schema::format",
    /// Any other schema violation.
    SchemaInvalid = "envc::schema::invalid",
    /// The committed `schema/` differs from what this envc generates.
    SchemaStale = "envc::schema::stale",
    /// A committed document under `docs/` differs from what `envc docs` generates.
    DocsStale = "envc::docs::stale",
    /// A CIDR block that is not valid for a VPC.
    CidrSyntax = "envc::network::cidr",
    /// Two environments in one account and region have overlapping VPC CIDRs.
    CidrOverlap = "envc::network::cidr-overlap",
    /// A network that is neither new (`cidr`) nor existing (`vpc-id`), or both.
    NetworkSource = "envc::network::source",
    /// More NAT gateways than availability zones.
    NatGateways = "envc::network::nat-gateways",
    /// A cpu/memory pair Fargate does not offer.
    FargateSize = "envc::service::fargate-size",
    /// A minimum above its maximum.
    MinMax = "envc::scaling::min-max",
    /// An RDS instance class that does not exist.
    InstanceClass = "envc::database::instance-class",
    /// Database settings that do not fit the engine.
    DatabaseEngine = "envc::database::engine",
    /// A master user or database name PostgreSQL or RDS keeps for itself.
    DatabaseName = "envc::database::name",
    /// A domain name that is not valid.
    Domain = "envc::domain::invalid",
    /// A hosted zone created by two environments of one account, or a `zone-owner` whose
    /// zone cannot be used.
    DnsZone = "envc::dns::zone",
    /// A setting AWS would refuse, or advises against (deprecated runtimes and engine
    /// versions, timeouts that do not fit).
    AwsRule = "envc::aws::rule",
    /// Two resources of the project take one physical name in the scope AWS keeps it unique
    /// in (an account and region, an account, every account).
    NameTaken = "envc::aws::name-taken",
    /// A physical name longer than AWS allows, or of characters it refuses.
    NameLimit = "envc::aws::name-limit",
    /// Two names of one kind (queues, services, workers) that make one CloudFormation
    /// logical id (`a-b` and `a_b`).
    LogicalIdTaken = "envc::aws::logical-id-taken",
    /// A resource kept after its stack under a fixed name, in an environment that is not
    /// protected: it cannot be made again.
    RetainedName = "envc::aws::retained-name",
    /// A notification its target cannot receive: a key the publishing service may not use.
    Delivery = "envc::aws::delivery",
    /// A resource AWS wants in more Availability Zones than it is given.
    Zones = "envc::aws::zones",
    /// More of something than an account allows by default.
    Quota = "envc::aws::quota",
    /// An `override` of a stack, resource or property that is not there (did-you-mean).
    OverrideTarget = "envc::override::target",
    /// An `override` value of another type than the property's schema says.
    OverrideType = "envc::override::type",
    /// An override value outside what the resource type's schema takes for the property (one
    /// of its values, its range, its length).
    OverrideValue = "envc::override::value",
    /// A resource type the environment's region does not offer.
    RegionOffering = "envc::aws::region-offering",
    /// A project kind that is not whole: a template without a schema (or the reverse), a
    /// schema that is not JSON Schema for a settings block, a name a built-in has.
    KindDefinition = "envc::kind::definition",
    /// A settings block a rule of its kind (`x-envc-rules`) or its template refuses, with
    /// the kind's message.
    KindRule = "envc::kind::rule",
    /// A stack whose `kind` is neither built in nor one of the project's.
    UnknownKind = "envc::kind::unknown",
    /// A deployed stack of the environment (by its envc tags) that the project no longer
    /// renders.
    LeftOverStack = "envc::deploy::left-over",
    /// Stale golden files written by an older envc: the changelog's entries since.
    GoldenUpgrade = "envc::golden::upgrade",
    /// A configuration secret key that cannot be set or read as asked (no secret, not a
    /// JSON object, over Secrets Manager's size), or that containers read and it lacks.
    SecretKey = "envc::secret::key",
    /// A value for `envc secret set` that cannot be read or stored: empty, over Secrets
    /// Manager's 65,536 bytes, not UTF-8, or from a file that cannot be read.
    SecretValue = "envc::secret::value",
    /// A protected environment's stack that drifted from its template (changed by hand),
    /// which a deploy would overwrite without `--overwrite-drift`.
    Drift = "envc::deploy::drift",
    /// The golden files to compare a change with could not be read (no such commit, no
    /// git repository, no main branch).
    ChangeBase = "envc::change::base",
    /// A change that replaces or deletes a resource holding data (a database, a bucket, a
    /// queue): an error in a protected environment unless `allow-replace` names its stack.
    Replacement = "envc::change::replace",
    /// An `allow-replace` naming a stack the environment does not have.
    AllowReplace = "envc::env::allow-replace",
    /// An environment whose estimated monthly cost is over its `monitoring { budget-usd }`.
    OverBudget = "envc::cost::over-budget",
    /// A setting that does nothing where it is set (a Lambda setting on a Fargate worker,
    /// route tables without a gateway endpoint to route).
    NotApplicable = "envc::setting::not-applicable",
    /// A literal that looks like a credential.
    PlaintextSecret = "envc::secret::plaintext",
    /// A worker consumes a queue that is not defined.
    UnknownQueue = "envc::worker::unknown-queue",
    /// The migration task runs with a service that is not defined.
    UnknownService = "envc::migration::unknown-service",
    /// `needs` names a stack that does not exist.
    UnknownStack = "envc::stack::unknown",
    /// Stack `needs` form a cycle.
    StackCycle = "envc::stack::cycle",
    /// A stack's `needs` names one stack twice.
    NeedsTwice = "envc::stack::needs-twice",
    /// A built-in kind whose template reads another kind's stack (a service runs in the
    /// cluster), in a project without one.
    RequiredStack = "envc::stack::required",
    /// A stack has both or neither of `kind` and `template`.
    StackSource = "envc::stack::source",
    /// A stack's name cannot be part of a CloudFormation stack name.
    StackName = "envc::stack::name",
    /// A tag AWS would refuse: its key or value, or too many tags on a stack.
    Tag = "envc::tag",
    /// An environment needs a region and neither it nor `stacks.kdl` gives one.
    MissingRegion = "envc::env::region",
    /// An environment variable that takes an output of a stack that does not exist, or that a
    /// stack using the variable does not need.
    StackOutput = "envc::env::stack-output",
    /// An abstract environment was asked for where only a deployable one will do.
    AbstractEnv = "envc::env::abstract",
    /// `envc explain` was given a path that names no value.
    UnknownPath = "envc::explain::unknown-path",
    /// A stack names a template that neither envc nor `templates/` has.
    UnknownTemplate = "envc::render::unknown-template",
    /// A template did more work, or wrote more text, than envc allows one stack.
    TemplateLimit = "envc::render::limit",
    /// A template failed: undefined variable, syntax error, a failing helper.
    Template = "envc::render::template",
    /// A stack selects a service or worker the environment does not define.
    Selection = "envc::render::selection",
    /// A project template that changes nothing: rendered by no stack, replacing no built-in
    /// and imported by no template, or a block its base does not have.
    UnusedTemplate = "envc::render::unused-template",
    /// A template rendered text that is not YAML.
    RenderedYaml = "envc::cfn::yaml",
    /// A rendered template without resources, or a resource without a valid `Type`.
    CfnStructure = "envc::cfn::structure",
    /// A `Ref`, `GetAtt`, `Sub` or `DependsOn` to something the template does not define.
    DanglingRef = "envc::cfn::ref",
    /// An `ImportValue` nothing exports, or exported by a stack not in `needs`.
    DanglingImport = "envc::cfn::import",
    /// Two outputs export the same name.
    DuplicateExport = "envc::cfn::duplicate-export",
    /// A template over a CloudFormation limit (size, resources, outputs, parameters).
    CfnLimit = "envc::cfn::limit",
    /// A project with stacks has no `golden/` folder, and `stacks.kdl` does not opt out.
    GoldenAbsent = "envc::golden::absent",
    /// A golden file differs from a fresh render, is missing, or is left over.
    GoldenStale = "envc::golden::stale",
    /// AWS could not be asked, or refused a call.
    Aws = "envc::deploy::aws",
    /// A stack operation ended in failure.
    StackFailed = "envc::deploy::failed",
    /// A stack is in a state envc will not deploy over (in progress, rolled back, …).
    StackState = "envc::deploy::stack-state",
    /// A change would replace or delete a stateful resource of a protected environment.
    Guarded = "envc::deploy::guarded",
    /// The credentials (after `deploy-role`) are another account's than the environment's.
    WrongAccount = "envc::deploy::account",
    /// A `deploy-role` that is no IAM role ARN, or a role of another account or partition
    /// than the environment's.
    DeployRole = "envc::env::deploy-role",
    /// `--region` that is no AWS region, or one of another partition than the environment's.
    RegionArgument = "envc::deploy::region",
    /// A command given arguments it cannot take together (`diff --live` of two environments).
    Usage = "envc::usage",
    /// `--endpoint-url` (or `AWS_ENDPOINT_URL`) that is no http or https URL with a host.
    Endpoint = "envc::deploy::endpoint",
    /// A change needs confirmation, and none could be given.
    Confirmation = "envc::deploy::confirmation",
    /// `envc run` of a stack that runs no task, or one deployed without what a run needs.
    NotRunnable = "envc::run::not-runnable",
    /// ECS did not start the task, or it stopped without its container's exit code.
    TaskFailed = "envc::run::task-failed",
    /// `envc run TASK ENV` of a TASK that is no task of ENV's stacks.
    UnknownTask = "envc::run::unknown-task",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
