//! Logs through tracing: readable text by default, one JSON object per line on request.
//! Nothing Beacon logs carries the token (it is a `config::Secret`, which prints redacted).

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Install the global subscriber, writing to stderr. `RUST_LOG` wins over the configured level.
pub fn init(config: &LogConfig) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) if !f.trim().is_empty() => f,
        _ => config.level.clone(),
    };
    let filter = EnvFilter::try_new(&filter)
        .map_err(|e| format!("log level {filter:?} is not a tracing filter: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| format!("cannot start logging: {e}"))
}
