//! Stage 1: the TOML as written, with the place of every key and value.
//!
//! - Reads the parsed TOML tree (`toml::de::DeTable`, which keeps spans)
//!   into `Raw*` structs whose fields are typed but not yet checked against
//!   any rule.
//! - Keeps going after an error: an unknown key, a missing key or a value of
//!   the wrong type is reported and the rest of the file is still read, so
//!   one run shows every independent mistake.
//! - The key lists here are the schema; `docs/system-toml.md` documents them.

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use crate::diag::{suggest, Diagnostic, ErrorKind, Span};

/// A value and the place it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

pub const TOP_KEYS: &[&str] = &["system", "guest", "channel"];
pub const SYSTEM_KEYS: &[&str] = &["name", "board", "overhead", "channel_area"];
pub const CHANNEL_KEYS: &[&str] = &["name", "writer", "reader", "size", "notify"];
pub const AREA_KEYS: &[&str] = &["base", "size"];
pub const OVERHEAD_KEYS: &[&str] = &["switch"];
pub const GUEST_KEYS: &[&str] = &[
    "name",
    "level",
    "core",
    "image",
    "memory",
    "devices",
    "period",
    "budget",
    "deadline",
    "paging",
    "slack",
    "fpu",
    "address_spaces",
    "page_tables",
    "scheduler",
    "task",
    "linux",
    "on_failure",
    "max_restarts",
    "restart_window",
    "watchdog",
];
pub const REGION_KEYS: &[&str] = &["name", "base", "size", "guest_base"];
pub const DEVICE_KEYS: &[&str] = &["name", "priority", "trigger"];
pub const TASK_KEYS: &[&str] = &["name", "period", "wcet", "deadline", "priority"];
pub const LINUX_KEYS: &[&str] = &["kernel", "initrd", "cmdline", "console", "hz"];
pub const KERNEL_PACKAGE_KEYS: &[&str] = &["debian", "version"];
pub const INITRD_PACKAGE_KEYS: &[&str] = &["busybox", "version"];

/// The whole file.
#[derive(Clone, Debug, Default)]
pub struct RawFile {
    pub system: Option<RawSystem>,
    pub guests: Vec<RawGuest>,
    pub channels: Vec<RawChannel>,
}

/// One `[[channel]]`: a one-way path from `writer` to `reader`
/// (docs/channels.md).
#[derive(Clone, Debug)]
pub struct RawChannel {
    /// The `[[channel]]` table.
    pub span: Span,
    pub name: Option<Located<String>>,
    pub writer: Option<Located<String>>,
    pub reader: Option<Located<String>>,
    pub size: Option<Located<RawSize>>,
    pub notify: Option<Located<bool>>,
}

/// `[system] channel_area = { base, size }`.
#[derive(Clone, Debug)]
pub struct RawArea {
    pub base: Option<Located<i128>>,
    pub size: Option<Located<RawSize>>,
}

#[derive(Clone, Debug)]
pub struct RawSystem {
    /// The `[system]` header.
    pub span: Span,
    pub name: Option<Located<String>>,
    pub board: Option<Located<String>>,
    pub switch_overhead: Option<Located<String>>,
    pub channel_area: Option<Located<RawArea>>,
}

#[derive(Clone, Debug)]
pub struct RawGuest {
    /// The `[[guest]]` header.
    pub span: Span,
    pub name: Option<Located<String>>,
    pub level: Option<Located<String>>,
    pub core: Option<Located<i128>>,
    pub image: Option<Located<String>>,
    pub memory: Option<Located<Vec<RawRegion>>>,
    pub devices: Option<Located<Vec<RawDevice>>>,
    pub period: Option<Located<String>>,
    pub budget: Option<Located<String>>,
    pub deadline: Option<Located<String>>,
    pub paging: Option<Located<String>>,
    pub slack: Option<Located<bool>>,
    pub fpu: Option<Located<bool>>,
    pub address_spaces: Option<Located<i128>>,
    pub page_tables: Option<Located<i128>>,
    /// The guest's own scheduling policy for its `[[guest.task]]`s.
    pub scheduler: Option<Located<String>>,
    pub tasks: Option<Located<Vec<RawTask>>>,
    /// `[guest.linux]`: the guest is an unmodified Linux.
    pub linux: Option<Located<RawLinux>>,
    /// Health (docs/health.md): what a failure leads to, and the watchdog.
    pub on_failure: Option<Located<String>>,
    pub max_restarts: Option<Located<i128>>,
    pub restart_window: Option<Located<String>>,
    pub watchdog: Option<Located<String>>,
}

/// `[guest.linux]`: a Linux kernel, its initrd and command line.
#[derive(Clone, Debug)]
pub struct RawLinux {
    pub kernel: Option<Located<RawArtefact>>,
    pub initrd: Option<Located<RawArtefact>>,
    pub cmdline: Option<Located<String>>,
    pub console: Option<Located<String>>,
    pub hz: Option<Located<i128>>,
}

/// A kernel or initrd as written: a file, or a Debian package and its
/// version (`{ debian = "...", version = "..." }` for a kernel,
/// `{ busybox = "...", version = "..." }` for an initramfs built around a
/// static busybox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawArtefact {
    File(String),
    Package {
        package: Located<String>,
        version: Option<Located<String>>,
    },
}

/// One `[[guest.task]]`: a periodic task the guest schedules itself.
#[derive(Clone, Debug)]
pub struct RawTask {
    /// The `[[guest.task]]` table.
    pub span: Span,
    pub name: Option<Located<String>>,
    pub period: Option<Located<String>>,
    pub wcet: Option<Located<String>>,
    pub deadline: Option<Located<String>>,
    pub priority: Option<Located<i128>>,
}

#[derive(Clone, Debug)]
pub struct RawRegion {
    /// The inline table `{ … }`.
    pub span: Span,
    pub name: Option<Located<String>>,
    pub base: Option<Located<i128>>,
    pub size: Option<Located<RawSize>>,
    pub guest_base: Option<Located<i128>>,
}

/// One entry of `devices`: a catalogue name, or an inline table
/// `{ name, priority, trigger }`.
#[derive(Clone, Debug)]
pub struct RawDevice {
    /// The string or the inline table.
    pub span: Span,
    pub name: Located<String>,
    pub priority: Option<Located<i128>>,
    pub trigger: Option<Located<String>>,
}

/// A size as written: bytes, or a string with a unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawSize {
    Bytes(i128),
    Text(String),
}

/// Parses the text and reads it into a [`RawFile`], reporting every problem
/// of form (syntax, unknown and missing keys, wrong types) into `diags`.
pub fn read(text: &str, diags: &mut Vec<Diagnostic>) -> RawFile {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            diags.push(Diagnostic::new(
                ErrorKind::Syntax {
                    message: e.message().to_string(),
                },
                span,
                "the TOML parser stopped here",
            ));
        }
        return RawFile::default();
    }
    let doc = doc.into_inner();
    let mut file = RawFile::default();
    unknown_keys(&doc, TOP_KEYS, "the top level", diags);
    let whole_file = 0..0;
    match doc.get("system") {
        Some(v) => match v.get_ref() {
            DeValue::Table(t) => file.system = Some(read_system(t, v.span(), diags)),
            other => diags.push(wrong_type("system", "a table ([system])", other, v.span())),
        },
        None => diags.push(
            Diagnostic::new(
                ErrorKind::MissingKey {
                    key: "system",
                    table: "the file".into(),
                },
                whole_file,
                "expected a [system] table",
            )
            .with_help("start the file with [system], its `name` and its `board`"),
        ),
    }
    if let Some(v) = doc.get("guest") {
        match v.get_ref() {
            DeValue::Array(items) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(t) => file.guests.push(read_guest(t, item.span(), diags)),
                        other => diags.push(wrong_type(
                            "guest",
                            "an array of tables ([[guest]])",
                            other,
                            item.span(),
                        )),
                    }
                }
            }
            other => diags.push(wrong_type(
                "guest",
                "an array of tables ([[guest]])",
                other,
                v.span(),
            )),
        }
    }
    if let Some(v) = doc.get("channel") {
        let shape = (
            "an array of tables ([[channel]])",
            CHANNEL_KEYS,
            "a [[channel]]",
            "channel",
        );
        if let Some(channels) = named_tables(
            v.get_ref(),
            "channel",
            v.span(),
            diags,
            shape,
            |n, diags| {
                let (t, table, span) = (n.table, &n.label, &n.span);
                RawChannel {
                    name: n.name,
                    writer: required(t, "writer", table, span, diags, string),
                    reader: required(t, "reader", table, span, diags, string),
                    size: required(t, "size", table, span, diags, size),
                    notify: optional(t, "notify", diags, boolean),
                    span: span.clone(),
                }
            },
        ) {
            file.channels = channels;
        }
    }
    file
}

fn read_system(t: &DeTable<'_>, span: Span, diags: &mut Vec<Diagnostic>) -> RawSystem {
    unknown_keys(t, SYSTEM_KEYS, "[system]", diags);
    let table = "[system]";
    let mut system = RawSystem {
        span: span.clone(),
        name: required(t, "name", table, &span, diags, string),
        board: required(t, "board", table, &span, diags, string),
        switch_overhead: None,
        channel_area: optional(t, "channel_area", diags, |v, key, span, diags| {
            let DeValue::Table(a) = v else {
                diags.push(wrong_type(key, "an inline table { base, size }", v, span));
                return None;
            };
            unknown_keys(a, AREA_KEYS, "`channel_area`", diags);
            Some(RawArea {
                base: required(a, "base", "`channel_area`", &span, diags, integer),
                size: required(a, "size", "`channel_area`", &span, diags, size),
            })
        }),
    };
    if let Some(v) = t.get("overhead") {
        match v.get_ref() {
            DeValue::Table(o) => {
                unknown_keys(o, OVERHEAD_KEYS, "[system.overhead]", diags);
                system.switch_overhead = optional(o, "switch", diags, string);
            }
            other => diags.push(wrong_type(
                "overhead",
                "a table ([system.overhead])",
                other,
                v.span(),
            )),
        }
    }
    system
}

fn read_guest(t: &DeTable<'_>, span: Span, diags: &mut Vec<Diagnostic>) -> RawGuest {
    unknown_keys(t, GUEST_KEYS, "[[guest]]", diags);
    // Name the guest in later messages about missing keys when it has a name.
    let name = required(t, "name", "a [[guest]]", &span, diags, string);
    let table = match &name {
        Some(n) => format!("guest `{}`", n.value),
        None => "this [[guest]]".to_string(),
    };
    RawGuest {
        name,
        level: required(t, "level", &table, &span, diags, string),
        core: required(t, "core", &table, &span, diags, integer),
        // Required unless the guest is a Linux (`[guest.linux]`): the
        // rule is validation's (`image-or-linux`).
        image: optional(t, "image", diags, string),
        memory: required(t, "memory", &table, &span, diags, |v, key, sp, d| {
            regions(v, key, sp, d)
        }),
        devices: optional(t, "devices", diags, devices),
        period: optional(t, "period", diags, string),
        budget: optional(t, "budget", diags, string),
        deadline: optional(t, "deadline", diags, string),
        paging: optional(t, "paging", diags, string),
        slack: optional(t, "slack", diags, boolean),
        fpu: optional(t, "fpu", diags, boolean),
        address_spaces: optional(t, "address_spaces", diags, integer),
        page_tables: optional(t, "page_tables", diags, integer),
        scheduler: optional(t, "scheduler", diags, string),
        tasks: optional(t, "task", diags, tasks),
        linux: optional(t, "linux", diags, linux),
        on_failure: optional(t, "on_failure", diags, string),
        max_restarts: optional(t, "max_restarts", diags, integer),
        restart_window: optional(t, "restart_window", diags, string),
        watchdog: optional(t, "watchdog", diags, string),
        span,
    }
}

fn linux(v: &DeValue<'_>, key: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<RawLinux> {
    let DeValue::Table(t) = v else {
        diags.push(wrong_type(key, "a table ([guest.linux])", v, span));
        return None;
    };
    unknown_keys(t, LINUX_KEYS, "[guest.linux]", diags);
    let table = "[guest.linux]";
    Some(RawLinux {
        kernel: required(t, "kernel", table, &span, diags, |v, k, sp, d| {
            artefact(v, k, sp, d, ("debian", KERNEL_PACKAGE_KEYS))
        }),
        initrd: optional(t, "initrd", diags, |v, k, sp, d| {
            artefact(v, k, sp, d, ("busybox", INITRD_PACKAGE_KEYS))
        }),
        cmdline: optional(t, "cmdline", diags, string),
        console: optional(t, "console", diags, string),
        hz: optional(t, "hz", diags, integer),
    })
}

/// A file path, or an inline table naming a package (`package_key`) and
/// its `version`.
fn artefact(
    v: &DeValue<'_>,
    key: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
    (package_key, keys): (&'static str, &'static [&'static str]),
) -> Option<RawArtefact> {
    match v {
        DeValue::String(s) => Some(RawArtefact::File(s.to_string())),
        DeValue::Table(t) => {
            let what = format!("`{key}`");
            unknown_keys(t, keys, &what, diags);
            Some(RawArtefact::Package {
                package: required(t, package_key, &what, &span, diags, string)?,
                version: required(t, "version", &what, &span, diags, string),
            })
        }
        other => {
            diags.push(wrong_type(
                key,
                if package_key == "debian" {
                    "a file path or { debian = \"<package>\", version = \"<version>\" }"
                } else {
                    "a file path or { busybox = \"<package>\", version = \"<version>\" }"
                },
                other,
                span,
            ));
            None
        }
    }
}

/// One named table of an array of tables, as [`named_tables`] hands it
/// over: the table, its span, its `name` (if given) and how to call it in
/// messages about its other keys.
struct Named<'a, 'd> {
    table: &'a DeTable<'d>,
    span: Span,
    name: Option<Located<String>>,
    label: String,
}

/// Walks an array of tables that each have a `name` (`what` names one in
/// messages, `kind` prefixes its name: "task `t`"), reporting what is not
/// a table and unknown keys, and collects what `read` makes of each.
fn named_tables<T>(
    v: &DeValue<'_>,
    key: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
    (expected, keys, what, kind): (
        &'static str,
        &'static [&'static str],
        &'static str,
        &'static str,
    ),
    mut read: impl FnMut(Named<'_, '_>, &mut Vec<Diagnostic>) -> T,
) -> Option<Vec<T>> {
    let items = array(v, key, span, diags)?;
    let mut out = Vec::new();
    for item in items.iter() {
        let DeValue::Table(t) = item.get_ref() else {
            diags.push(wrong_type(key, expected, item.get_ref(), item.span()));
            continue;
        };
        unknown_keys(t, keys, what, diags);
        let span = item.span();
        let name = required(t, "name", what, &span, diags, string);
        let label = match &name {
            Some(n) => format!("{kind} `{}`", n.value),
            None => format!("this {}", what.trim_start_matches("a ")),
        };
        out.push(read(
            Named {
                table: t,
                span,
                name,
                label,
            },
            diags,
        ));
    }
    Some(out)
}

fn tasks(
    v: &DeValue<'_>,
    key: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<RawTask>> {
    let shape = (
        "an array of tables ([[guest.task]])",
        TASK_KEYS,
        "a [[guest.task]]",
        "task",
    );
    named_tables(v, key, span, diags, shape, |n, diags| {
        let (t, table, span) = (n.table, &n.label, &n.span);
        RawTask {
            period: required(t, "period", table, span, diags, string),
            wcet: required(t, "wcet", table, span, diags, string),
            deadline: optional(t, "deadline", diags, string),
            priority: optional(t, "priority", diags, integer),
            name: n.name,
            span: n.span,
        }
    })
}

fn regions(
    v: &DeValue<'_>,
    key: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<RawRegion>> {
    let shape = (
        "an array of tables ({ name, base, size })",
        REGION_KEYS,
        "a memory region",
        "memory region",
    );
    named_tables(v, key, span, diags, shape, |n, diags| {
        let (t, table, span) = (n.table, &n.label, &n.span);
        RawRegion {
            base: required(t, "base", table, span, diags, integer),
            guest_base: optional(t, "guest_base", diags, integer),
            size: required(t, "size", table, span, diags, size),
            name: n.name,
            span: n.span,
        }
    })
}

fn devices(
    v: &DeValue<'_>,
    key: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<RawDevice>> {
    let items = array(v, key, span, diags)?;
    let mut out = Vec::new();
    for item in items.iter() {
        let span = item.span();
        match item.get_ref() {
            DeValue::String(s) => out.push(RawDevice {
                name: Located::new(s.to_string(), span.clone()),
                priority: None,
                trigger: None,
                span,
            }),
            DeValue::Table(t) => {
                unknown_keys(t, DEVICE_KEYS, "a device", diags);
                let Some(name) = required(t, "name", "a device", &span, diags, string) else {
                    continue;
                };
                out.push(RawDevice {
                    name,
                    priority: optional(t, "priority", diags, integer),
                    trigger: optional(t, "trigger", diags, string),
                    span,
                });
            }
            other => diags.push(wrong_type(
                key,
                "a device name or an inline table { name, priority, trigger }",
                other,
                span,
            )),
        }
    }
    Some(out)
}

/// A size: bytes, or a string with a unit.
fn size(v: &DeValue<'_>, key: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<RawSize> {
    match v {
        DeValue::String(s) => Some(RawSize::Text(s.to_string())),
        DeValue::Integer(_) => integer(v, key, span, diags).map(RawSize::Bytes),
        other => {
            diags.push(wrong_type(
                key,
                "an integer or a string with a unit",
                other,
                span,
            ));
            None
        }
    }
}

fn optional<T>(
    t: &DeTable<'_>,
    key: &str,
    diags: &mut Vec<Diagnostic>,
    convert: impl Fn(&DeValue<'_>, &str, Span, &mut Vec<Diagnostic>) -> Option<T>,
) -> Option<Located<T>> {
    let v: &Spanned<DeValue<'_>> = t.get(key)?;
    convert(v.get_ref(), key, v.span(), diags).map(|value| Located::new(value, v.span()))
}

fn required<T>(
    t: &DeTable<'_>,
    key: &'static str,
    table: &str,
    table_span: &Span,
    diags: &mut Vec<Diagnostic>,
    convert: impl Fn(&DeValue<'_>, &str, Span, &mut Vec<Diagnostic>) -> Option<T>,
) -> Option<Located<T>> {
    if t.get(key).is_none() {
        diags.push(Diagnostic::new(
            ErrorKind::MissingKey {
                key,
                table: table.to_string(),
            },
            table_span.clone(),
            format!("`{key}` is missing here"),
        ));
        return None;
    }
    optional(t, key, diags, convert)
}

fn string(v: &DeValue<'_>, key: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match v {
        DeValue::String(s) => Some(s.to_string()),
        other => {
            diags.push(wrong_type(key, "a string", other, span));
            None
        }
    }
}

fn boolean(v: &DeValue<'_>, key: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<bool> {
    match v {
        DeValue::Boolean(b) => Some(*b),
        other => {
            diags.push(wrong_type(key, "true or false", other, span));
            None
        }
    }
}

/// Integers are read as `i128` so that every TOML integer (a signed 64-bit
/// value, or beyond it) fits; range checks happen in validation.
fn integer(v: &DeValue<'_>, key: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<i128> {
    match v {
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(n),
            Err(_) => {
                diags.push(wrong_type(key, "an integer that fits in 64 bits", v, span));
                None
            }
        },
        other => {
            diags.push(wrong_type(key, "an integer", other, span));
            None
        }
    }
}

fn array<'v, 'i>(
    v: &'v DeValue<'i>,
    key: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'v DeArray<'i>> {
    match v {
        DeValue::Array(a) => Some(a),
        other => {
            diags.push(wrong_type(key, "an array", other, span));
            None
        }
    }
}

fn unknown_keys(
    t: &DeTable<'_>,
    allowed: &[&'static str],
    table: &str,
    diags: &mut Vec<Diagnostic>,
) {
    for key in t.keys() {
        let name: &str = key.get_ref();
        if !allowed.contains(&name) {
            let suggestion = suggest(name, allowed);
            let mut d = Diagnostic::new(
                ErrorKind::UnknownKey {
                    key: name.to_string(),
                    table: table.to_string(),
                    suggestion,
                },
                key.span(),
                "unknown key",
            );
            d = match suggestion {
                Some(s) => d.with_help(format!("write `{s}`")),
                None => d.with_note(format!("the keys of {table} are: {}", allowed.join(", "))),
            };
            diags.push(d);
        }
    }
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn wrong_type(key: &str, expected: &'static str, found: &DeValue<'_>, span: Span) -> Diagnostic {
    let found = type_name(found);
    Diagnostic::new(
        ErrorKind::WrongType {
            key: key.to_string(),
            expected,
            found,
        },
        span,
        format!("this is {found}"),
    )
}
