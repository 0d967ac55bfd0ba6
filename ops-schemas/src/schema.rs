//! JSON Schema of each operation's full wire form: the header and the op's fields in one flat object, with
//! its targets and context as extension keywords (`x-targets`, `x-context`, and `x-context-reasons` where a
//! targetable id is context).

use std::collections::BTreeMap;
use std::path::Path;

use ops_core::{ClusterOperation, Header};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::registry::OPS;
use crate::tasks::TaskList;

/// The schema of `Op`'s wire form.
pub fn wire_schema<Op>() -> Value
where
    Op: ClusterOperation + JsonSchema,
    Op::Task: TaskList,
{
    // One generator for header and body: it names every definition once, so a body type that shares a name
    // with a header type (a `Priority` of the op's own) gets a suffixed name (`Priority2`) rather than
    // overwriting it, and merging the two parts' `$defs` by name is exact.
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let header = generator.root_schema_for::<Header<Op::Task>>().to_value();
    let body = generator.root_schema_for::<Op>().to_value();
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut defs = Map::new();
    for part in [&header, &body] {
        if let Some(Value::Object(props)) = part.get("properties") {
            properties.extend(props.clone());
        }
        if let Some(Value::Array(names)) = part.get("required") {
            required.extend(names.iter().cloned());
        }
        if let Some(Value::Object(part_defs)) = part.get("$defs") {
            defs.extend(part_defs.clone());
        }
    }
    let targets: Map<String, Value> = Op::TARGET_FIELDS
        .iter()
        .map(|(field, object_type)| ((*field).to_owned(), json!(object_type)))
        .collect();
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}.json", Op::OP_TYPE),
        "title": Op::OP_TYPE,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
        "x-op-type": Op::OP_TYPE,
        "x-version": Op::VERSION,
        "x-targets": targets,
        "x-context": Op::CONTEXT_FIELDS,
    });
    if let Some(object) = schema.as_object_mut() {
        if object.get("description").is_some_and(Value::is_null) {
            object.remove("description");
        }
        if !defs.is_empty() {
            object.insert("$defs".to_owned(), Value::Object(defs));
        }
        // Why a targetable id is context: `#[context(reason = "...")]`, only where one was given.
        if !Op::CONTEXT_REASONS.is_empty() {
            let reasons: Map<String, Value> = Op::CONTEXT_REASONS
                .iter()
                .map(|(field, reason)| ((*field).to_owned(), json!(reason)))
                .collect();
            object.insert("x-context-reasons".to_owned(), Value::Object(reasons));
        }
        // The version is fixed per op type: the schema says so.
        if let Some(Value::Object(version)) = object
            .get_mut("properties")
            .and_then(|p| p.get_mut("version"))
        {
            version.insert("const".to_owned(), json!(Op::VERSION));
        }
    }
    schema
}

/// Every file `opsctl schema` writes: `<op>.json` for each op and `index.json`, by file name, as the
/// exact text written (pretty JSON and a final newline).
pub fn render_all() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut index = Vec::new();
    for op in OPS {
        let file = format!("{}.json", op.name);
        files.insert(file.clone(), pretty(&(op.schema)()));
        let targets: Map<String, Value> = op
            .targets
            .iter()
            .map(|(field, object_type)| ((*field).to_owned(), json!(object_type)))
            .collect();
        index.push(json!({
            "op_type": op.name,
            "version": op.version,
            "schema": file,
            "x-targets": targets,
            "x-context": op.context,
            "tasks": (op.task_names)(),
        }));
    }
    files.insert(
        "index.json".to_owned(),
        pretty(&json!({"operations": index})),
    );
    files
}

/// Writes [`render_all`] into `dir`, creating it; returns the names written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let files = render_all();
    for (name, contents) in &files {
        std::fs::write(dir.join(name), contents)?;
    }
    Ok(files.into_keys().collect())
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
