//! Readers for assertions on message-like JSON: a stored message, a callback's `data`, or a
//! webhook body. They accept any of those and never panic.

use serde_json::Value;

/// The `content` (empty if none).
pub fn message_content(message: &Value) -> String {
    message["content"].as_str().unwrap_or("").to_string()
}

/// The descriptions of the embeds, in order.
pub fn embed_descriptions(message: &Value) -> Vec<String> {
    message["embeds"]
        .as_array()
        .map(|embeds| {
            embeds
                .iter()
                .filter_map(|e| e["description"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every `custom_id` in the components (buttons, selects, text inputs), depth first.
pub fn custom_ids(message: &Value) -> Vec<String> {
    let mut out = Vec::new();
    super::rest::collect_custom_ids(&message["components"], &mut out);
    out
}

/// Every button, select option and text-input label in the components, depth first.
pub fn component_labels(message: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(items) => items.iter().for_each(|c| walk(c, out)),
            Value::Object(map) => {
                if let Some(label) = map.get("label").and_then(Value::as_str) {
                    out.push(label.to_string());
                }
                if let Some(options) = map.get("options").and_then(Value::as_array) {
                    out.extend(
                        options
                            .iter()
                            .filter_map(|o| o["label"].as_str().map(str::to_string)),
                    );
                }
                for key in ["components", "accessory", "component"] {
                    if let Some(child) = map.get(key) {
                        walk(child, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&message["components"], &mut out);
    out
}

/// All text a user would read: content, embed titles, descriptions and fields, text-display
/// components, component labels, autocomplete choice names and a modal's title. One line each.
pub fn visible_text(message: &Value) -> String {
    let mut lines = Vec::new();
    let mut push = |s: Option<&str>| {
        if let Some(s) = s.filter(|s| !s.is_empty()) {
            lines.push(s.to_string());
        }
    };
    push(message["title"].as_str());
    push(message["content"].as_str());
    for e in message["embeds"].as_array().into_iter().flatten() {
        push(e["title"].as_str());
        push(e["description"].as_str());
        for f in e["fields"].as_array().into_iter().flatten() {
            push(f["name"].as_str());
            push(f["value"].as_str());
        }
        push(e["footer"]["text"].as_str());
    }
    fn text_displays(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(items) => items.iter().for_each(|c| text_displays(c, out)),
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_u64) == Some(10) {
                    if let Some(t) = map.get("content").and_then(Value::as_str) {
                        out.push(t.to_string());
                    }
                }
                for key in ["components", "accessory", "component"] {
                    if let Some(child) = map.get(key) {
                        text_displays(child, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut displays = Vec::new();
    text_displays(&message["components"], &mut displays);
    lines.extend(displays);
    lines.extend(component_labels(message));
    for c in message["choices"].as_array().into_iter().flatten() {
        if let Some(name) = c["name"].as_str() {
            lines.push(name.to_string());
        }
    }
    lines.join("\n")
}
