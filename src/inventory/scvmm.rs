//! The scvmm export reader (not built yet: see the exports issue).

use super::Parsed;
use crate::diag::{Code, Diagnostics, SourceDiag, SourceFile};

pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostics> {
    Err(SourceDiag::plain(
        Code::InventoryFormat,
        format!("{}: reading scvmm exports is not supported yet", file.name),
    )
    .into())
}
