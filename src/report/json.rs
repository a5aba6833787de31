//! `--format json`: the report document (`schema`, `verdict`, `request`, `exit_code`, inputs with
//! digests, summary, findings, host loads), pretty-printed, keys in a fixed order.

use super::{Report, Reporter};
use std::io::{self, Write};

pub struct Json;

impl Reporter for Json {
    fn write(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
        out.write_all(b"\n")
    }
}
