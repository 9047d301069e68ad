//! Discord's own OpenAPI description (`../shared/discord-api-spec/openapi.json`), loaded once per
//! process, with the route matching and the small JSON-Schema validator the fake needs.
//!
//! The validator covers the keywords the file actually uses in request bodies: `$ref` (to
//! `#/components/schemas/...`), `type` (one or a list, with `"null"`), `properties`, `required`,
//! `additionalProperties`, `minProperties`/`maxProperties`, `items`, `minItems`/`maxItems`,
//! `uniqueItems`, `oneOf`/`anyOf`/`allOf`, `enum`, `const`, `minLength`/`maxLength` (in chars),
//! `minimum`/`maximum`, the two `pattern`s of the file (snowflake, hex colour) and the formats
//! `snowflake`, `int64`, `uri` and `date-time`.
//!
//! Discord is more forgiving than its description in two ways that serenity relies on, and so is
//! the validator: a snowflake may be sent as a JSON number, and an integer that may not fit in
//! 53 bits (permissions, `format: int64`) may be sent as a decimal string. A `oneOf` is first
//! checked strictly (exactly one alternative must match) and only if none matches, leniently.

use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

/// Where the spec lives, relative to the crate root.
const SPEC_RELATIVE_PATH: &str = "../shared/discord-api-spec/openapi.json";

/// The largest integer a JSON number can carry exactly in JavaScript (2^53).
const JS_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// The parsed description plus its routes, ready for matching.
pub struct Spec {
    doc: Value,
    routes: Vec<RouteTemplate>,
}

/// One `paths` entry, split into segments.
pub struct RouteTemplate {
    /// The template exactly as in the spec, e.g. `/channels/{channel_id}/messages`.
    pub template: String,
    segments: Vec<Segment>,
    literals: usize,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// A request path matched against a template.
pub struct RouteMatch<'a> {
    pub route: &'a RouteTemplate,
    /// Path parameters by name, e.g. `("channel_id", "1100000000000000003")`.
    pub params: Vec<(String, String)>,
}

impl RouteMatch<'_> {
    /// The value of a path parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One step of a JSON path inside a body.
#[derive(Clone, Debug, PartialEq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// A body that does not match the schema, at one place.
#[derive(Clone, Debug)]
pub struct SchemaError {
    pub path: Vec<PathStep>,
    /// Discord's error code for it, e.g. `BASE_TYPE_MAX_LENGTH`.
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
    /// For a type mismatch or a wrong constant: the depth it happened at, and whether it was a
    /// constant (a discriminator such as `type: 2`). Used to tell which alternative was meant.
    mismatch: Option<(usize, bool)>,
}

impl SchemaError {
    /// An error found by the fake's own rules rather than by the schema.
    pub fn new(path: Vec<PathStep>, code: &'static str, message: String) -> SchemaError {
        SchemaError {
            path,
            code,
            message,
            mismatch: None,
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", display_path("body", &self.path), self.message)
    }
}

/// `body.components[0].custom_id` for a path.
pub fn display_path(root: &str, path: &[PathStep]) -> String {
    let mut out = root.to_string();
    for step in path {
        match step {
            PathStep::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Discord's nested `errors` object (`{"content": {"_errors": [...]}}`) for a list of errors.
pub fn discord_errors_object(errors: &[SchemaError]) -> Value {
    let mut root = Value::Object(Map::new());
    for error in errors {
        let mut node = &mut root;
        for step in &error.path {
            let key = match step {
                PathStep::Key(k) => k.clone(),
                PathStep::Index(i) => i.to_string(),
            };
            node = node
                .as_object_mut()
                .expect("error tree nodes are objects")
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
        }
        let list = node
            .as_object_mut()
            .expect("error tree nodes are objects")
            .entry("_errors")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.push(json!({ "code": error.code, "message": error.message }));
        }
    }
    root
}

/// The spec, loaded on first use. Panics with a clear message if the file is missing.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SPEC_RELATIVE_PATH);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "fake Discord: cannot read the OpenAPI spec at {}: {e}",
                path.display()
            )
        });
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("fake Discord: {} is not JSON: {e}", path.display()));
        Spec::new(doc)
    })
}

impl Spec {
    fn new(doc: Value) -> Spec {
        let mut routes: Vec<RouteTemplate> = doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .map(|template| {
                        let segments: Vec<Segment> = template
                            .trim_start_matches('/')
                            .split('/')
                            .map(
                                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                    Some(name) => Segment::Param(name.to_string()),
                                    None => Segment::Literal(s.to_string()),
                                },
                            )
                            .collect();
                        let literals = segments
                            .iter()
                            .filter(|s| matches!(s, Segment::Literal(_)))
                            .count();
                        RouteTemplate {
                            template: template.clone(),
                            segments,
                            literals,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        // More literal segments first: `/messages/@original` wins over `/messages/{message_id}`.
        routes.sort_by(|a, b| {
            b.literals
                .cmp(&a.literals)
                .then(a.template.cmp(&b.template))
        });
        Spec { doc, routes }
    }

    /// The template a concrete path (without `/api/v10`) belongs to, if any.
    pub fn match_path(&self, path: &str) -> Option<RouteMatch<'_>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        'routes: for route in &self.routes {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut params = Vec::new();
            for (segment, part) in route.segments.iter().zip(&parts) {
                match segment {
                    Segment::Literal(l) if l == part => {}
                    Segment::Literal(_) => continue 'routes,
                    Segment::Param(name) => {
                        if part.is_empty() {
                            continue 'routes;
                        }
                        params.push((name.clone(), (*part).to_string()));
                    }
                }
            }
            return Some(RouteMatch { route, params });
        }
        None
    }

    /// The methods the spec allows on a template, upper case.
    pub fn methods(&self, template: &str) -> Vec<String> {
        self.doc["paths"][template]
            .as_object()
            .map(|item| {
                item.keys()
                    .filter(|k| *k != "parameters")
                    .map(|k| k.to_uppercase())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The operation object for a template and method.
    pub fn operation(&self, template: &str, method: &str) -> Option<&Value> {
        self.doc["paths"][template].get(method.to_lowercase())
    }

    /// The schema of a JSON request body, if the operation takes one.
    pub fn json_body_schema(&self, template: &str, method: &str) -> Option<&Value> {
        self.operation(template, method)?
            .get("requestBody")?
            .get("content")?
            .get("application/json")?
            .get("schema")
    }

    /// The locales Discord knows (`AvailableLocalesEnum`).
    pub fn locales(&self) -> Vec<String> {
        self.doc["components"]["schemas"]["AvailableLocalesEnum"]["oneOf"]
            .as_array()
            .map(|alts| {
                alts.iter()
                    .filter_map(|a| a["const"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The declared parameters (path item's and operation's) with the given `in`.
    fn parameters(&self, template: &str, method: &str, location: &str) -> Vec<&Value> {
        let item = &self.doc["paths"][template];
        let mut out: Vec<&Value> = Vec::new();
        for list in [
            item.get("parameters"),
            item.get(method.to_lowercase())
                .and_then(|op| op.get("parameters")),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(list) = list.as_array() {
                out.extend(list.iter().filter(|p| p["in"] == location));
            }
        }
        out
    }

    /// Checks path parameters against their declared schemas; messages name the parameter.
    pub fn validate_path_params(&self, m: &RouteMatch<'_>, method: &str) -> Vec<String> {
        let mut problems = Vec::new();
        for param in self.parameters(&m.route.template, method, "path") {
            let Some(name) = param["name"].as_str() else {
                continue;
            };
            let Some(value) = m.param(name) else { continue };
            let errors = self.validate(&param["schema"], &Value::String(value.to_string()));
            if let Some(e) = errors.first() {
                problems.push(format!("path parameter {name} = {value:?}: {}", e.message));
            }
        }
        problems
    }

    /// Checks query parameters the operation declares (values coerced from text); unknown
    /// ones are ignored, as Discord does.
    pub fn validate_query(
        &self,
        template: &str,
        method: &str,
        query: &[(String, String)],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for param in self.parameters(template, method, "query") {
            let Some(name) = param["name"].as_str() else {
                continue;
            };
            for (_, raw) in query.iter().filter(|(k, _)| k == name) {
                let value = coerce_query_value(raw);
                let errors = self.validate(&param["schema"], &value);
                if let Some(e) = errors.first() {
                    problems.push(format!("query parameter {name}={raw}: {}", e.message));
                }
            }
        }
        problems
    }

    /// Validates a value against a schema; an empty list means it is valid.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<SchemaError> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        Validator {
            spec: self,
            lenient: true,
        }
        .check(schema, value, &mut path, &mut out);
        out
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix("#/components/schemas/")?;
        self.doc["components"]["schemas"].get(name)
    }
}

/// `"true"` → true, `"12"` → 12, anything else stays text.
fn coerce_query_value(raw: &str) -> Value {
    match raw {
        "true" | "True" => Value::Bool(true),
        "false" | "False" => Value::Bool(false),
        _ => raw
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| raw.parse::<u64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(raw.to_string())),
    }
}

/// What kind of error, for choosing the alternative a value was meant to match.
#[derive(Clone, Copy)]
enum Mismatch {
    No,
    Type,
    Constant,
}

struct Validator<'a> {
    spec: &'a Spec,
    /// Accept Discord's coercions (snowflake as number, big integer as string).
    lenient: bool,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn is_decimal_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn is_snowflake_text(s: &str) -> bool {
    s == "0"
        || (!s.is_empty()
            && !s.starts_with('0')
            && s.len() <= 20
            && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Numbers compared exactly when both are integers.
fn compare_numbers(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    let as_int = |v: &Value| -> Option<i128> {
        v.as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
    };
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => {
            compare_numbers(a, b) == Some(std::cmp::Ordering::Equal)
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

impl Validator<'_> {
    fn error(
        &self,
        out: &mut Vec<SchemaError>,
        path: &[PathStep],
        code: &'static str,
        message: String,
        mismatch: Mismatch,
    ) {
        let mismatch = match mismatch {
            Mismatch::No => None,
            Mismatch::Type => Some((path.len(), false)),
            Mismatch::Constant => Some((path.len(), true)),
        };
        out.push(SchemaError {
            path: path.to_vec(),
            code,
            message,
            mismatch,
        });
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut Vec<PathStep>,
        out: &mut Vec<SchemaError>,
    ) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_INVALID",
                    "no value is allowed here".into(),
                    Mismatch::Type,
                );
                return;
            }
            Value::Object(map) => map,
            _ => return,
        };

        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match self.spec.resolve(reference) {
                Some(target) => self.check(target, value, path, out),
                None => self.error(
                    out,
                    path,
                    "SPEC",
                    format!("unresolvable $ref {reference}"),
                    Mismatch::No,
                ),
            }
        }

        // Discord's coercions: decide what the value "is" for the remaining keywords.
        let coerced;
        let mut value = value;
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let matches = |v: &Value| {
                allowed.iter().any(|t| match *t {
                    "integer" => is_integer(v),
                    "number" => v.is_number(),
                    other => type_name(v) == other || (other == "number" && v.is_number()),
                })
            };
            if !matches(value) {
                let format = schema.get("format").and_then(Value::as_str);
                let big_integer = format == Some("int64")
                    || schema
                        .get("maximum")
                        .and_then(Value::as_f64)
                        .is_some_and(|m| m > JS_SAFE_INTEGER);
                let snowflake = format == Some("snowflake");
                match value {
                    Value::String(s)
                        if self.lenient
                            && big_integer
                            && allowed.contains(&"integer")
                            && is_decimal_integer_text(s) =>
                    {
                        coerced = s
                            .parse::<i64>()
                            .map(Value::from)
                            .or_else(|_| s.parse::<u64>().map(Value::from))
                            .unwrap_or(Value::Null);
                        value = &coerced;
                    }
                    Value::Number(n)
                        if self.lenient
                            && snowflake
                            && allowed.contains(&"string")
                            && n.as_u64().is_some() =>
                    {
                        coerced = Value::String(n.to_string());
                        value = &coerced;
                    }
                    _ => {
                        let expected = allowed.join(" or ");
                        self.error(
                            out,
                            path,
                            "BASE_TYPE_INVALID",
                            format!(
                                "expected {expected}, got {} {}",
                                type_name(value),
                                short(value)
                            ),
                            Mismatch::Type,
                        );
                        return;
                    }
                }
            }
        }

        if let Some(constant) = schema.get("const") {
            if !json_equal(constant, value) {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_CHOICES",
                    format!("must be {constant}, got {}", short(value)),
                    Mismatch::Constant,
                );
            }
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
            if !choices.iter().any(|c| json_equal(c, value)) {
                let list: Vec<String> = choices.iter().map(Value::to_string).collect();
                self.error(
                    out,
                    path,
                    "BASE_TYPE_CHOICES",
                    format!(
                        "must be one of {{{}}}, got {}",
                        list.join(", "),
                        short(value)
                    ),
                    Mismatch::Constant,
                );
            }
        }

        match value {
            Value::String(s) => self.check_string(schema, s, path, out),
            Value::Number(_) => self.check_number(schema, value, path, out),
            Value::Object(map) => self.check_object(schema, map, path, out),
            Value::Array(items) => self.check_array(schema, items, path, out),
            _ => {}
        }

        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, path, out);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            self.check_alternatives(any, value, path, out, false);
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            self.check_alternatives(one, value, path, out, true);
        }
    }

    fn check_string(
        &self,
        schema: &Map<String, Value>,
        s: &str,
        path: &[PathStep],
        out: &mut Vec<SchemaError>,
    ) {
        let len = s.chars().count() as u64;
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_MAX_LENGTH",
                    format!("string longer than {max} (got {len} chars)"),
                    Mismatch::No,
                );
            }
        }
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if len < min {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_MIN_LENGTH",
                    format!("string shorter than {min} (got {len} chars)"),
                    Mismatch::No,
                );
            }
        }
        match schema.get("pattern").and_then(Value::as_str) {
            Some("^(0|[1-9][0-9]*)$") if !is_snowflake_text(s) => {
                self.error(
                    out,
                    path,
                    "NUMBER_TYPE_COERCE",
                    format!("{s:?} is not a snowflake"),
                    Mismatch::No,
                );
            }
            Some("^#(([0-9a-fA-F]{2}){3}|([0-9a-fA-F]){3})$") => {
                let hex = s.strip_prefix('#').unwrap_or("");
                if !(hex.len() == 6 || hex.len() == 3)
                    || !hex.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    self.error(
                        out,
                        path,
                        "COLOR_INVALID",
                        format!("{s:?} is not a #rrggbb colour"),
                        Mismatch::No,
                    );
                }
            }
            _ => {}
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("uri") if !s.is_empty() => {
                let ok = s.split_once("://").is_some_and(|(scheme, rest)| {
                    !scheme.is_empty()
                        && scheme.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'
                        })
                        && !rest.is_empty()
                });
                if !ok {
                    self.error(
                        out,
                        path,
                        "URL_TYPE_INVALID_URL",
                        format!("{s:?} is not a URL"),
                        Mismatch::No,
                    );
                }
            }
            Some("date-time") => {
                let b = s.as_bytes();
                let ok = b.len() >= 19
                    && b[4] == b'-'
                    && b[7] == b'-'
                    && (b[10] == b'T' || b[10] == b't' || b[10] == b' ')
                    && b[13] == b':'
                    && b[16] == b':';
                if !ok {
                    self.error(
                        out,
                        path,
                        "DATE_TIME_TYPE_PARSE",
                        format!("{s:?} is not an ISO 8601 timestamp"),
                        Mismatch::No,
                    );
                }
            }
            _ => {}
        }
    }

    fn check_number(
        &self,
        schema: &Map<String, Value>,
        n: &Value,
        path: &[PathStep],
        out: &mut Vec<SchemaError>,
    ) {
        if let Some(max) = schema.get("maximum") {
            if compare_numbers(n, max) == Some(std::cmp::Ordering::Greater) {
                self.error(
                    out,
                    path,
                    "NUMBER_TYPE_MAX",
                    format!("{n} is greater than {max}"),
                    Mismatch::No,
                );
            }
        }
        if let Some(min) = schema.get("minimum") {
            if compare_numbers(n, min) == Some(std::cmp::Ordering::Less) {
                self.error(
                    out,
                    path,
                    "NUMBER_TYPE_MIN",
                    format!("{n} is less than {min}"),
                    Mismatch::No,
                );
            }
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &mut Vec<PathStep>,
        out: &mut Vec<SchemaError>,
    ) {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    path.push(PathStep::Key(name.to_string()));
                    self.error(
                        out,
                        path,
                        "BASE_TYPE_REQUIRED",
                        "required field missing".into(),
                        Mismatch::No,
                    );
                    path.pop();
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, item) in map {
            path.push(PathStep::Key(key.clone()));
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => self.check(sub, item, path, out),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        self.error(
                            out,
                            path,
                            "UNKNOWN_FIELD",
                            "field not allowed here".into(),
                            Mismatch::No,
                        );
                    }
                    Some(sub @ Value::Object(_)) => self.check(sub, item, path, out),
                    _ => {}
                },
            }
            path.pop();
        }
        let count = map.len() as u64;
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64) {
            if count > max {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_BAD_LENGTH",
                    format!("more than {max} entries (got {count})"),
                    Mismatch::No,
                );
            }
        }
        if let Some(min) = schema.get("minProperties").and_then(Value::as_u64) {
            if count < min {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_BAD_LENGTH",
                    format!("fewer than {min} entries (got {count})"),
                    Mismatch::No,
                );
            }
        }
    }

    fn check_array(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        path: &mut Vec<PathStep>,
        out: &mut Vec<SchemaError>,
    ) {
        let count = items.len() as u64;
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_BAD_LENGTH",
                    format!("more than {max} items (got {count})"),
                    Mismatch::No,
                );
            }
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if count < min {
                self.error(
                    out,
                    path,
                    "BASE_TYPE_BAD_LENGTH",
                    format!("fewer than {min} items (got {count})"),
                    Mismatch::No,
                );
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, a) in items.iter().enumerate() {
                if items[..i].iter().any(|b| json_equal(a, b)) {
                    path.push(PathStep::Index(i));
                    self.error(
                        out,
                        path,
                        "ARRAY_ITEM_VALUE_ALREADY_EXISTS",
                        format!("duplicate item {}", short(a)),
                        Mismatch::No,
                    );
                    path.pop();
                }
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                self.check(item_schema, item, path, out);
                path.pop();
            }
        }
    }

    /// `oneOf` (`exactly_one`) or `anyOf`: strict first, then with Discord's coercions.
    fn check_alternatives(
        &self,
        alternatives: &[Value],
        value: &Value,
        path: &mut Vec<PathStep>,
        out: &mut Vec<SchemaError>,
        exactly_one: bool,
    ) {
        let run = |lenient: bool, path: &mut Vec<PathStep>| -> Vec<Vec<SchemaError>> {
            let validator = Validator {
                spec: self.spec,
                lenient,
            };
            alternatives
                .iter()
                .map(|alt| {
                    let mut errors = Vec::new();
                    validator.check(alt, value, path, &mut errors);
                    errors
                })
                .collect()
        };
        let strict = run(false, path);
        let strict_matches: Vec<usize> = strict
            .iter()
            .enumerate()
            .filter(|(_, e)| e.is_empty())
            .map(|(i, _)| i)
            .collect();
        if exactly_one && strict_matches.len() > 1 {
            let names: Vec<String> = strict_matches
                .iter()
                .map(|&i| describe(&alternatives[i]))
                .collect();
            self.error(
                out,
                path,
                "UNION_TYPE_CHOICES",
                format!(
                    "matches more than one alternative of a oneOf: {}",
                    names.join(", ")
                ),
                Mismatch::No,
            );
            return;
        }
        if !strict_matches.is_empty() {
            return;
        }
        let results = if self.lenient {
            run(true, path)
        } else {
            strict
        };
        if results.iter().any(Vec::is_empty) {
            return;
        }
        // Report the alternative the value was evidently meant to be, if there is one.
        let depth = path.len();
        let meant = results
            .iter()
            .filter(|errors| {
                !errors.iter().any(|e| match e.mismatch {
                    Some((at, false)) => at == depth,
                    Some((at, true)) => at == depth || at == depth + 1,
                    None => false,
                })
            })
            .min_by_key(|errors| errors.len());
        match meant {
            Some(errors) => out.extend(errors.iter().cloned()),
            None => {
                let names: Vec<String> = alternatives.iter().map(describe).collect();
                let hint = value
                    .get("type")
                    .map(|t| format!(" (its type is {t})"))
                    .unwrap_or_default();
                self.error(
                    out,
                    path,
                    "UNION_TYPE_CHOICES",
                    format!(
                        "{} matches none of: {}{hint}",
                        type_name(value),
                        names.join(" | ")
                    ),
                    Mismatch::Type,
                );
            }
        }
    }
}

/// A short name for a schema in messages: the `$ref` target, the type, or the constant.
fn describe(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(c) = schema.get("const") {
        return c.to_string();
    }
    match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ => "schema".to_string(),
    }
}

/// Lookup of component schemas by name, for the fake's own checks.
pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}
